#include "workloads/report/report_charts.h"

#include <algorithm>
#include <limits>

#include "workloads/report/fault_windows.h"
#include "workloads/report/svg_chart.h"

namespace streamlab::cli {

namespace {

using workloads::Chart;
using workloads::ChartLine;
using workloads::ChartMark;
using workloads::RunResult;

struct LineSpec {
  std::string series;
  std::string label;
};

struct ChartSpec {
  std::string id;
  std::string title;
  std::string y_label;
  bool log_y = false;
  std::vector<LineSpec> lines;
  std::string note;
};

std::vector<LineSpec> percentiles(const std::string& series) {
  return {{series + "_p50", "p50"}, {series + "_p99", "p99"}, {series + "_p999", "p99.9"}};
}

// The queue checker's series (workloads/queue_metrics.cc).
std::vector<ChartSpec> queue_charts() {
  return {
      {"chart-throughput", "Throughput", "messages/s", false,
       {{"publish_rate", "published (send acknowledged)"}, {"consume_rate", "delivered"}},
       "Sends acknowledged and deliveries per second of simulated time, over each bucket."},
      {"chart-publish-latency", "Publish latency", "ms (log scale)", true,
       percentiles("publish"),
       "Percentiles, per bucket, of the time from a message's send to its first "
       "acknowledgement, placed at the acknowledgement. A gap: no send was acknowledged then."},
      {"chart-end-to-end-latency", "End-to-end latency", "ms (log scale)", true,
       percentiles("end_to_end"),
       "Percentiles, per bucket, of the time from a message's first send to its first "
       "delivery to any subscription, placed at the delivery. A gap: nothing was delivered."},
      {"chart-backlog", "Backlog", "messages", false,
       {{"backlog_peak", "peak within the bucket"}, {"backlog", "at the bucket's end"}},
       "Messages acknowledged to their producer and not yet acknowledged by a subscription: "
       "per subscription of its topic, each counts from its send's acknowledgement until the "
       "subscription first acknowledges it."},
      {"chart-durability", "Durability", "messages (running count)", false,
       {{"acked_not_in_log_total", "acknowledged, not in the log"},
        {"duplicate_total", "extra copies in the log"}},
       "Running counts by the time each message was first acknowledged (sent, for a "
       "duplicate never acknowledged): acknowledged messages their partition's log does not "
       "hold, which are lost writes (lost-write also counts an acknowledged position that "
       "holds another message, which this line leaves out), and copies stored beyond the "
       "first (duplicate). Duplicate deliveries and split brain are in the anomaly section "
       "only."},
  };
}

// The ledger and counter checkers' series (workloads/op_report.h report_timeline).
std::vector<ChartSpec> op_charts(const std::string& ops) {
  return {
      {"chart-throughput", "Throughput", ops + "/s", false,
       {{"ok_rate", ops + " acknowledged"}},
       "Operations acknowledged ok per second of simulated time, over each bucket."},
      {"chart-latency", "Latency", "ms (log scale)", true, percentiles("add_latency_ms"),
       "Percentiles, per bucket, of the time from invoke to ok, placed at the ok. A gap: "
       "nothing was acknowledged then."},
      {"chart-durability", "Durability", ops + " (running count)", false,
       {{"lost_write_total", "lost-write"}, {"duplicate_total", "duplicate"}},
       "Running counts of the lost-write and duplicate anomalies, each by the time its " + ops +
           " was acknowledged (invoked, for a duplicate never acknowledged)."},
  };
}

std::vector<ChartSpec> chart_specs(workloads::SystemKind system) {
  switch (system) {
    case workloads::SystemKind::pulsar: return queue_charts();
    case workloads::SystemKind::bookkeeper: return op_charts("appends");
    case workloads::SystemKind::counter: return op_charts("adds");
  }
  return {};
}

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
  for (const ChartSpec& spec : chart_specs(config.system)) {
    Chart chart{.title = spec.title, .x_label = "simulated time (s)", .y_label = spec.y_label,
                .x_min = 0, .x_max = x_max, .log_y = spec.log_y, .max_gap = 0, .lines = {},
                .marks = marks};
    for (const LineSpec& line : spec.lines) {
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
