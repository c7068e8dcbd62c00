#include "workloads/report/report_charts.h"

#include <algorithm>
#include <limits>

#include "workloads/report/fault_windows.h"
#include "workloads/report/svg_chart.h"
#include "workloads/systems/system_adapter.h"

namespace streamlab::cli {

namespace {

using workloads::Chart;
using workloads::ChartLine;
using workloads::ChartMark;
using workloads::RunResult;

double seconds(std::int64_t ns) { return static_cast<double>(ns) / 1e9; }

// Every fault on every chart: "#3" is the fault table's row.
std::vector<ChartMark> fault_marks(const RunResult& result) {
  std::int64_t end_ns = result.sim_time_ns;
  for (const sim::FaultLogEntry& e : result.fault_log) end_ns = std::max(end_ns, e.time_ns);
  std::vector<ChartMark> marks;
  for (const workloads::FaultWindow& w : workloads::fault_windows(result.fault_log, end_ns)) {
    const std::string tag = "#" + std::to_string(w.log_index + 1);
    marks.push_back({seconds(w.from_ns), seconds(w.to_ns),
                     tag + " " + workloads::without_origin(w.text) +
                         (w.until_end ? " (until the end)" : ""),
                     tag});
  }
  return marks;
}

// Half as much again as the closest points of any line: wider means a bucket is missing.
double gap_of(const Chart& chart) {
  double step = std::numeric_limits<double>::max();
  for (const ChartLine& line : chart.lines) {
    for (std::size_t i = 1; i < line.points.size(); ++i) {
      const double d = line.points[i].first - line.points[i - 1].first;
      if (d > 0) step = std::min(step, d);
    }
  }
  return step == std::numeric_limits<double>::max() ? 0 : 1.5 * step;
}

// The run's time axis, common to every chart: to its end or to the last point.
double x_max_of(const RunResult& result) {
  double x = seconds(result.sim_time_ns);
  for (const auto& [name, points] : result.check.series) {
    if (!points.empty()) x = std::max(x, seconds(points.back().first));
  }
  return x > 0 ? x : 1;
}

}  // namespace

std::vector<ReportChart> report_charts(const workloads::ScenarioConfig& config,
                                       const RunResult& result) {
  const std::vector<ChartMark> marks = fault_marks(result);
  const double x_max = x_max_of(result);
  std::vector<ReportChart> out;
  for (const workloads::ChartSpec& spec : workloads::system_adapter(config.system).charts()) {
    Chart chart{.title = spec.title, .x_label = "simulated time (s)", .y_label = spec.y_label,
                .x_min = 0, .x_max = x_max, .log_y = spec.log_y, .max_gap = 0, .lines = {},
                .marks = marks};
    for (const workloads::ChartLineSpec& line : spec.lines) {
      const auto it = result.check.series.find(line.series);
      if (it == result.check.series.end()) continue;
      ChartLine& drawn = chart.lines.emplace_back(ChartLine{line.label, {}});
      for (const auto& [time_ns, value] : it->second) {
        drawn.points.emplace_back(seconds(time_ns), value);
      }
    }
    if (chart.lines.empty()) continue;  // A checker without these series.
    chart.max_gap = gap_of(chart);
    out.push_back({spec.id, spec.title, spec.note, workloads::svg_chart(chart)});
  }
  return out;
}

}  // namespace streamlab::cli
