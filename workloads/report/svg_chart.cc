#include "workloads/report/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <limits>

#include "base/assert.h"
#include "workloads/report/html_escape.h"

namespace streamlab::workloads {

namespace {

// The drawing in SVG units; the page scales it to its width. Above the plot: the title,
// the legend and, when there are marks, their labels in rows, so no label hides data.
constexpr double kWidth = 900;
constexpr double kLeft = 64;
constexpr double kRight = 16;
constexpr double kHeader = 44;
constexpr double kBottom = 40;
constexpr double kPlotWidth = kWidth - kLeft - kRight;
constexpr double kPlotHeight = 190;
// Mark labels alternate between this many rows, so that close marks do not overlap.
constexpr std::size_t kLabelRows = 3;
constexpr double kLabelRowHeight = 12;
// About the mean glyph widths of the 10- and 11-unit fonts, to tell whether text fits.
constexpr double kCharWidth = 5.6;
constexpr double kLegendCharWidth = 6.6;
// Distinct for the common kinds of colour blindness (Tableau 10's first six).
constexpr const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c",
                                   "#9467bd", "#ff7f0e", "#17becf"};
constexpr const char* kMarkColor = "#e8a33d";

// Coordinates to one decimal: finer than a pixel, and a third of the bytes of %g.
std::string num(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", v);
  return buffer;
}

// Where the plot's top lies: below the header and the rows of mark labels.
double plot_top(const Chart& chart) {
  const std::size_t rows = std::min(kLabelRows, chart.marks.size());
  return kHeader + static_cast<double>(rows) * kLabelRowHeight + (rows > 0 ? 6 : 0);
}

struct YAxis {
  double lo = 0;
  double hi = 1;
  bool log = false;
  std::vector<double> ticks;
  double top = kHeader;  // Of the plot.

  double bottom() const { return top + kPlotHeight; }
  // Values below the axis (a zero on a log axis) sit on its floor.
  double to_px(double y) const {
    const double f = log ? (std::log10(std::max(y, lo)) - std::log10(lo)) /
                               (std::log10(hi) - std::log10(lo))
                         : (y - lo) / (hi - lo);
    return top + kPlotHeight * (1 - std::clamp(f, 0.0, 1.0));
  }
};

// From zero (or the lowest value, if negative) up to the first tick at or above the
// highest value.
YAxis linear_axis(double min_y, double max_y) {
  YAxis axis;
  axis.lo = std::min(0.0, min_y);
  axis.hi = max_y > axis.lo ? max_y : axis.lo + 1;
  const std::vector<double> rough = linear_ticks(axis.lo, axis.hi, 5);
  const double step = rough.size() > 1 ? rough[1] - rough[0] : axis.hi - axis.lo;
  axis.lo = std::floor(axis.lo / step + 1e-9) * step;
  axis.hi = std::ceil(axis.hi / step - 1e-9) * step;
  axis.ticks = linear_ticks(axis.lo, axis.hi, 5);
  return axis;
}

// Whole decades around the positive values.
YAxis log_axis(double min_positive, double max_y) {
  YAxis axis;
  axis.log = true;
  if (max_y <= 0) {
    axis.lo = 1;
    axis.hi = 10;
  } else {
    axis.lo = std::pow(10.0, std::floor(std::log10(min_positive)));
    axis.hi = std::pow(10.0, std::ceil(std::log10(max_y)));
    if (axis.hi <= axis.lo) axis.hi = axis.lo * 10;
  }
  axis.ticks = log_ticks(axis.lo, axis.hi);
  return axis;
}

YAxis y_axis(const Chart& chart) {
  double min_y = std::numeric_limits<double>::max();
  double max_y = 0;
  double min_positive = std::numeric_limits<double>::max();
  for (const ChartLine& line : chart.lines) {
    for (const auto& [x, y] : line.points) {
      min_y = std::min(min_y, y);
      max_y = std::max(max_y, y);
      if (y > 0) min_positive = std::min(min_positive, y);
    }
  }
  YAxis axis = chart.log_y
                  ? log_axis(min_positive, max_y)
                  : linear_axis(min_y == std::numeric_limits<double>::max() ? 0 : min_y, max_y);
  axis.top = plot_top(chart);
  return axis;
}

double x_px(const Chart& chart, double x) {
  const double f = (x - chart.x_min) / (chart.x_max - chart.x_min);
  return kLeft + kPlotWidth * std::clamp(f, 0.0, 1.0);
}

void draw_frame(const Chart& chart, const YAxis& y, std::string& out) {
  const double bottom = y.bottom();
  out += "<g stroke=\"#e4e4e4\">";
  for (const double t : y.ticks) {
    const std::string py = num(y.to_px(t));
    out += "<line x1=\"" + num(kLeft) + "\" x2=\"" + num(kLeft + kPlotWidth) + "\" y1=\"" + py +
           "\" y2=\"" + py + "\"/>";
  }
  out += "</g><g stroke=\"#888\"><line x1=\"" + num(kLeft) + "\" x2=\"" + num(kLeft) +
         "\" y1=\"" + num(y.top) + "\" y2=\"" + num(bottom) + "\"/><line x1=\"" + num(kLeft) +
         "\" x2=\"" + num(kLeft + kPlotWidth) + "\" y1=\"" + num(bottom) + "\" y2=\"" +
         num(bottom) + "\"/>";
  const std::vector<double> x_ticks = linear_ticks(chart.x_min, chart.x_max, 10);
  for (const double t : x_ticks) {
    const std::string px = num(x_px(chart, t));
    out += "<line x1=\"" + px + "\" x2=\"" + px + "\" y1=\"" + num(bottom) + "\" y2=\"" +
           num(bottom + 4) + "\"/>";
  }
  out += "</g><g font-size=\"10\" fill=\"#444\">";
  for (const double t : y.ticks) {
    out += "<text x=\"" + num(kLeft - 6) + "\" y=\"" + num(y.to_px(t) + 3.5) +
           "\" text-anchor=\"end\">" + html_escape(tick_label(t)) + "</text>";
  }
  for (const double t : x_ticks) {
    out += "<text x=\"" + num(x_px(chart, t)) + "\" y=\"" + num(bottom + 15) +
           "\" text-anchor=\"middle\">" + html_escape(tick_label(t)) + "</text>";
  }
  out += "</g><g font-size=\"11\" fill=\"#222\"><text x=\"" + num(kLeft + kPlotWidth / 2) +
         "\" y=\"" + num(bottom + kBottom - 6) + "\" text-anchor=\"middle\">" +
         html_escape(chart.x_label) + "</text><text transform=\"translate(14 " +
         num(y.top + kPlotHeight / 2) + ") rotate(-90)\" text-anchor=\"middle\">" +
         html_escape(chart.y_label) + "</text></g><text x=\"" + num(kLeft) +
         "\" y=\"16\" font-size=\"13\" font-weight=\"bold\" fill=\"#222\">" +
         html_escape(chart.title) + "</text>";
}

// The windows' shading and the instants' lines, under the data, from the label rows down.
void draw_mark_shapes(const Chart& chart, const YAxis& y, std::string& out) {
  const double top = kHeader;
  const double bottom = y.bottom();
  for (const ChartMark& mark : chart.marks) {
    const std::string tip = "<title>" + html_escape(mark.label) + "</title>";
    const double from = x_px(chart, mark.from);
    if (mark.to > mark.from) {
      out += "<rect x=\"" + num(from) + "\" y=\"" + num(top) + "\" width=\"" +
             num(std::max(1.0, x_px(chart, mark.to) - from)) + "\" height=\"" +
             num(bottom - top) + "\" fill=\"" + kMarkColor + "\" fill-opacity=\"0.2\">" + tip +
             "</rect>";
    } else {
      out += "<line x1=\"" + num(from) + "\" x2=\"" + num(from) + "\" y1=\"" + num(top) +
             "\" y2=\"" + num(bottom) + "\" stroke=\"#b5651d\" stroke-width=\"1.5\"" +
             " stroke-dasharray=\"4 3\">" + tip + "</line>";
    }
  }
}

// Labels above the plot, in rows: a label gets the room up to the next label of its row.
void draw_mark_labels(const Chart& chart, std::string& out) {
  std::vector<const ChartMark*> marks;
  for (const ChartMark& mark : chart.marks) marks.push_back(&mark);
  std::stable_sort(marks.begin(), marks.end(),
                   [](const ChartMark* a, const ChartMark* b) { return a->from < b->from; });
  out += "<g font-size=\"10\" fill=\"#7a4a10\" stroke=\"#fff\" stroke-width=\"3\""
         " paint-order=\"stroke\">";
  for (std::size_t i = 0; i < marks.size(); ++i) {
    const double x = x_px(chart, marks[i]->from) + 3;
    const double next = i + kLabelRows < marks.size()
                            ? x_px(chart, marks[i + kLabelRows]->from) + 3
                            : kLeft + kPlotWidth;
    const bool fits = static_cast<double>(marks[i]->label.size()) * kCharWidth <= next - x - 4;
    const std::string& text = fits || marks[i]->tag.empty() ? marks[i]->label : marks[i]->tag;
    out += "<text x=\"" + num(x) + "\" y=\"" +
           num(kHeader + 10 + kLabelRowHeight * static_cast<double>(i % kLabelRows)) + "\">" +
           html_escape(text) + "<title>" + html_escape(marks[i]->label) + "</title></text>";
  }
  out += "</g>";
}

// One path per line, broken at gaps; a point alone between gaps is a dot.
void draw_line(const Chart& chart, const YAxis& y, const ChartLine& line, const char* color,
               std::string& out) {
  std::string path;
  std::string dots;
  const auto& p = line.points;
  std::size_t start = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const bool segment_ends = i + 1 == p.size() ||
                              (chart.max_gap > 0 && p[i + 1].first - p[i].first > chart.max_gap);
    if (!segment_ends) continue;
    if (start == i) {
      dots += "<circle cx=\"" + num(x_px(chart, p[i].first)) + "\" cy=\"" +
              num(y.to_px(p[i].second)) + "\" r=\"2.5\"/>";
    } else {
      for (std::size_t j = start; j <= i; ++j) {
        path += (j == start ? "M" : "L") + num(x_px(chart, p[j].first)) + " " +
                num(y.to_px(p[j].second));
      }
    }
    start = i + 1;
  }
  const std::string tip = "<title>" + html_escape(line.label) + "</title>";
  if (!path.empty()) {
    out += "<path d=\"" + path + "\" fill=\"none\" stroke=\"" + color +
           "\" stroke-width=\"1.6\" stroke-linejoin=\"round\">" + tip + "</path>";
  }
  if (!dots.empty()) out += "<g fill=\"" + std::string(color) + "\">" + dots + tip + "</g>";
}

// One entry per line, then the kinds of marks the chart has.
void draw_legend(const Chart& chart, std::string& out) {
  double x = kLeft;
  const double y = 34;
  const auto text = [&](double at, const std::string& label) {
    out += "<text x=\"" + num(at) + "\" y=\"" + num(y) + "\">" + html_escape(label) + "</text>";
    x = at + static_cast<double>(label.size()) * kLegendCharWidth + 16;
  };
  out += "<g font-size=\"11\" fill=\"#222\">";
  for (std::size_t i = 0; i < chart.lines.size(); ++i) {
    out += "<line x1=\"" + num(x) + "\" x2=\"" + num(x + 16) + "\" y1=\"" + num(y - 4) +
           "\" y2=\"" + num(y - 4) + "\" stroke=\"" + kColors[i % std::size(kColors)] +
           "\" stroke-width=\"2.5\"/>";
    text(x + 20, chart.lines[i].label);
  }
  const auto has = [&](bool window) {
    return std::any_of(chart.marks.begin(), chart.marks.end(),
                       [&](const ChartMark& m) { return (m.to > m.from) == window; });
  };
  if (has(true)) {
    out += "<rect x=\"" + num(x) + "\" y=\"" + num(y - 9) + "\" width=\"14\" height=\"10\"" +
           " fill=\"" + kMarkColor + "\" fill-opacity=\"0.35\"/>";
    text(x + 18, "fault window");
  }
  if (has(false)) {
    out += "<line x1=\"" + num(x) + "\" x2=\"" + num(x) + "\" y1=\"" + num(y - 10) +
           "\" y2=\"" + num(y + 1) + "\" stroke=\"#b5651d\" stroke-width=\"1.5\"" +
           " stroke-dasharray=\"4 3\"/>";
    text(x + 6, "instant fault");
  }
  out += "</g>";
}

}  // namespace

std::string svg_chart(const Chart& chart) {
  SL_ASSERT_GT(chart.x_max, chart.x_min);
  SL_ASSERT_GE(chart.max_gap, 0);
  const YAxis y = y_axis(chart);
  std::string out = "<svg viewBox=\"0 0 " + num(kWidth) + " " + num(y.bottom() + kBottom) +
                    "\" width=\"100%\" role=\"img\" aria-label=\"" + html_escape(chart.title) +
                    "\" font-family=\"system-ui, sans-serif\"><title>" +
                    html_escape(chart.title) + "</title>";
  draw_mark_shapes(chart, y, out);
  draw_frame(chart, y, out);
  const bool empty = std::all_of(chart.lines.begin(), chart.lines.end(),
                                 [](const ChartLine& l) { return l.points.empty(); });
  if (empty) {
    out += "<text x=\"" + num(kLeft + kPlotWidth / 2) + "\" y=\"" +
           num(y.top + kPlotHeight / 2) + "\" text-anchor=\"middle\" font-size=\"12\"" +
           " fill=\"#888\">no data</text>";
  }
  for (std::size_t i = 0; i < chart.lines.size(); ++i) {
    draw_line(chart, y, chart.lines[i], kColors[i % std::size(kColors)], out);
  }
  draw_mark_labels(chart, out);
  draw_legend(chart, out);
  return out + "</svg>";
}

std::vector<double> linear_ticks(double lo, double hi, int target) {
  SL_ASSERT_LT(lo, hi);
  SL_ASSERT_GT(target, 0);
  const double raw = (hi - lo) / target;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double r = raw / magnitude;
  const double step = (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * magnitude;
  std::vector<double> ticks;
  for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k += 1) {
    const double v = k * step;
    ticks.push_back(std::abs(v) < step * 1e-9 ? 0 : v);  // No "-0" or 1e-17 at zero.
  }
  SL_ASSERT(ticks.size() <= 2 * static_cast<std::size_t>(target) + 2);
  return ticks;
}

std::vector<double> log_ticks(double lo, double hi) {
  SL_ASSERT_GT(lo, 0);
  SL_ASSERT_LT(lo, hi);
  const long first = std::lround(std::log10(lo));
  const long last = std::lround(std::log10(hi));
  const bool fine = last - first <= 2;
  std::vector<double> ticks;
  for (long e = first; e <= last; ++e) {
    const double p = std::pow(10.0, static_cast<double>(e));
    ticks.push_back(p);
    if (fine && e < last) {
      ticks.push_back(2 * p);
      ticks.push_back(5 * p);
    }
  }
  return ticks;
}

std::string tick_label(double value) {
  if (value == 0) return "0";
  const double magnitude = std::abs(value);
  const char* suffix = "";
  double scaled = value;
  if (magnitude >= 1e9) {
    scaled = value / 1e9;
    suffix = "G";
  } else if (magnitude >= 1e6) {
    scaled = value / 1e6;
    suffix = "M";
  } else if (magnitude >= 1e3) {
    scaled = value / 1e3;
    suffix = "k";
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3g", scaled);
  return std::string(buffer) + suffix;
}

}  // namespace streamlab::workloads
