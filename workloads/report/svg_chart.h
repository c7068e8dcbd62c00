#pragma once

// A small line chart drawn as inline SVG, for the HTML report: no plotting library is
// packaged, and the report must be one file that opens from disk with no fetches. A chart
// has an x axis (simulated time), a y axis with round ticks in readable units (linear, or
// logarithmic for latencies whose percentiles lie decades apart), labelled lines with a
// legend, and marks on the x axis: shaded windows (a fault from injection to lift) and
// vertical lines (an instant fault). Every text is escaped.

#include <string>
#include <utility>
#include <vector>

namespace streamlab::workloads {

struct ChartLine {
  std::string label;
  std::vector<std::pair<double, double>> points;  // (x, y), x increasing.
};

// A window [from, to] of the x axis, shaded, or a vertical line when from == to.
struct ChartMark {
  double from = 0;
  double to = 0;
  std::string label;  // Drawn when it fits before the next mark's label, else `tag`.
  std::string tag;    // Short ("#3"); the fault table says what it stands for.
};

struct Chart {
  std::string title;
  std::string x_label;  // With its unit: "simulated time (s)".
  std::string y_label;  // With its unit: "messages/s".
  double x_min = 0;
  double x_max = 1;  // > x_min.
  bool log_y = false;
  // Consecutive points of a line further apart than this are not joined, so a stretch
  // without data (no op completed) shows as a gap; 0: always joined.
  double max_gap = 0;
  std::vector<ChartLine> lines;
  std::vector<ChartMark> marks;
};

// An <svg> element (no XML namespace: HTML5 inline SVG needs none, and the report
// holds no URL), scaling to the page's width.
std::string svg_chart(const Chart& chart);

// Round ticks covering [lo, hi] (lo < hi), about `target` of them, at multiples of 1, 2
// or 5 times a power of ten.
std::vector<double> linear_ticks(double lo, double hi, int target);
// Powers of ten from lo to hi (both powers of ten, lo < hi), with 2 and 5 times each
// between them when the span is two decades or less.
std::vector<double> log_ticks(double lo, double hi);
// A tick's text: "0", "0.25", "40", "2.5k", "1.2M".
std::string tick_label(double value);

}  // namespace streamlab::workloads
