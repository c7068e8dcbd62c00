// [SECTION] index: formatting helpers, the page's sections in reading order (summary,
// expectations, anomalies, metrics, charts, faults, reproduce), the page, writing it.

#include "workloads/report/report_html.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <optional>

#include "workloads/checkers/anomaly_glossary.h"
#include "workloads/report/files.h"
#include "workloads/run/reproduce.h"
#include "workloads/systems/system_adapter.h"
#include "workloads/report/report_charts.h"
#include "workloads/report/fault_windows.h"
#include "workloads/report/html_escape.h"

namespace streamlab::cli {

using workloads::hex64;
using workloads::ScenarioConfig;
using workloads::reproduce_command;
using workloads::write_file;
using workloads::write_file_atomically;

namespace {

using workloads::html_escape;
using workloads::RunResult;

// [SECTION] Formatting helpers

constexpr const char* kStyle = R"(
body{font:15px/1.5 system-ui,sans-serif;color:#222;max-width:1060px;margin:0 auto;padding:1em 1.5em 4em}
h1{font-size:1.7em;margin:.4em 0 .1em}h2{border-bottom:1px solid #ddd;padding-bottom:.15em;margin-top:2em}
h3{margin:1.2em 0 .3em}.description{color:#444;margin-top:0}
table{border-collapse:collapse;margin:.5em 0 1em}th,td{border:1px solid #ddd;padding:.25em .65em;text-align:left;vertical-align:top}
th{background:#f5f5f5;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.verdict{padding:.6em 1em;border-radius:6px;font-weight:600;margin:1em 0}.verdict ul{margin:.3em 0 0;font-weight:normal}
.ok{background:#e6f4ea;color:#1e6b33}.bad{background:#fdecea;color:#a31515}
td.ok,td.bad{font-weight:600}
.anomaly{border-left:4px solid #d62728;background:#fbfbfb;padding:.3em 1em .6em;margin:1em 0}
.anomaly h3{margin:.3em 0}.anomaly .count{color:#a31515;font-weight:normal}.meaning{color:#444;margin:.2em 0}
blockquote{margin:.4em 0;padding:.4em .8em;background:#fff;border:1px solid #eee;font-family:ui-monospace,monospace;font-size:.88em;overflow-wrap:anywhere}
code,pre{font-family:ui-monospace,monospace}pre{background:#f6f8fa;padding:.8em 1em;overflow-x:auto;border-radius:4px}
nav{background:#fafafa;border:1px solid #eee;padding:.3em 1em;margin:1em 0}nav ol{margin:.3em 0}
figure{margin:1.2em 0}figcaption{color:#555;font-size:.9em;max-width:900px}
.muted{color:#666}
)";

std::string count_text(double v) {
  std::string digits = std::to_string(std::llround(std::abs(v)));
  for (std::size_t i = digits.size(); i > 3; i -= 3) digits.insert(i - 3, ",");
  return (v < 0 ? "-" : "") + digits;
}

std::string printf_text(const char* format, double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, v);
  return buffer;
}

std::string seconds_text(std::int64_t ns) {
  return printf_text("%.3f s", static_cast<double>(ns) / 1e9);
}

std::optional<double> metric(const RunResult& r, const std::string& name) {
  const auto it = r.check.metrics.find(name);
  if (it == r.check.metrics.end()) return std::nullopt;
  return it->second;
}

std::string cell(const std::string& text) { return "<td>" + html_escape(text) + "</td>"; }
std::string num_cell(const std::string& text) {
  return "<td class=\"num\">" + html_escape(text) + "</td>";
}
std::string header_row(std::initializer_list<const char*> names) {
  std::string out = "<tr>";
  for (const char* name : names) out += "<th>" + html_escape(name) + "</th>";
  return out + "</tr>";
}

std::uint64_t anomaly_count(const RunResult& r, const std::string& name) {
  const auto it = r.check.anomalies.find(name);
  return it == r.check.anomalies.end() ? 0 : it->second;
}

// [SECTION] Summary

std::string verdict(const ScenarioConfig& config, const RunResult& r) {
  if (r.expectations_met) {
    return "<div class=\"verdict ok\">Expectations met (" +
           (config.expectations.empty() ? std::string("none stated")
                                        : std::to_string(config.expectations.size())) +
           ")</div>";
  }
  std::string out = "<div class=\"verdict bad\">" +
                    std::to_string(r.failed_expectations.size()) + " of " +
                    std::to_string(config.expectations.size()) +
                    " expectations failed<ul>";
  for (const std::string& f : r.failed_expectations) out += "<li>" + html_escape(f) + "</li>";
  return out + "</ul></div>";
}

std::string summary_section(const ScenarioConfig& config, const RunResult& r,
                            const std::string& path) {
  const double sim_s = static_cast<double>(r.sim_time_ns) / 1e9;
  const std::string speed =
      r.wall_time_s > 0 ? printf_text(" (%.0fx real time)", sim_s / r.wall_time_s) : "";
  std::string anomalies = "none";
  if (!r.check.anomalies.empty()) {
    anomalies.clear();
    for (const auto& [name, count] : r.check.anomalies) {
      anomalies += (anomalies.empty() ? "" : ", ") + name + " x" + count_text(static_cast<double>(count));
    }
  }
  const std::pair<const char*, std::string> rows[] = {
      {"scenario", config.name},
      {"file", path},
      {"checker", config.checker},
      {"seed", std::to_string(r.seed)},
      {"trace hash", hex64(r.trace_hash)},
      {"simulated time", seconds_text(r.sim_time_ns)},
      {"wall time", printf_text("%.3f s", r.wall_time_s) + speed},
      {"events", count_text(static_cast<double>(r.events))},
      {"faults injected", count_text(metric(r, "faults_injected").value_or(0))},
      {"anomalies", anomalies},
      {"verdict", r.expectations_met ? "expectations met" : "an expectation failed"},
  };
  std::string out = "<section id=\"summary\"><h2>Summary</h2><table>";
  for (const auto& [name, value] : rows) {
    out += "<tr><th>" + html_escape(name) + "</th>" + cell(value) + "</tr>";
  }
  return out + "</table></section>";
}

// [SECTION] Expectations

std::string expectations_section(const ScenarioConfig& config, const RunResult& r) {
  std::string out = "<section id=\"expectations\"><h2>Expectations</h2>";
  if (config.expectations.empty()) {
    return out + "<p class=\"muted\">The scenario states no expectations.</p></section>";
  }
  out += "<table>" + header_row({"anomaly", "expected", "found", "result", "stated at"});
  for (const workloads::Expectation& e : config.expectations) {
    const std::uint64_t found = anomaly_count(r, e.anomaly);
    // As the runner weighs it (scenario_runner.cc weigh_expectations).
    const bool met = e.present == (found > 0);
    out += "<tr>" + cell(e.anomaly) + cell(e.present ? "present" : "absent") +
           num_cell(count_text(static_cast<double>(found))) + "<td class=\"" +
           (met ? "ok\">met" : "bad\">FAILED") + "</td>" + cell(e.origin) + "</tr>";
  }
  return out + "</table></section>";
}

// [SECTION] Anomalies

std::string anomalies_section(const ScenarioConfig& config, const RunResult& r) {
  const std::string_view checker = config.checker;
  std::string out = "<section id=\"anomalies\"><h2>Anomalies</h2>";
  if (r.check.anomalies.empty()) out += "<p>The checker found no anomaly.</p>";
  for (const auto& [name, count] : r.check.anomalies) {
    const auto example = r.check.examples.find(name);
    out += "<div class=\"anomaly\" id=\"anomaly-" + html_escape(name) + "\"><h3>" +
           html_escape(name) + " <span class=\"count\">x" +
           count_text(static_cast<double>(count)) + "</span></h3><p class=\"meaning\">" +
           html_escape(workloads::anomaly_meaning(checker, name)) +
           ".</p><p>First example:</p><blockquote>" +
           html_escape(example == r.check.examples.end() ? "" : example->second) +
           "</blockquote></div>";
  }
  std::string absent;
  for (const std::string& name : workloads::checker_anomalies(config.checker)) {
    if (anomaly_count(r, name) > 0) continue;
    const std::string_view meaning =
        workloads::anomaly_meaning(config.checker, name);
    absent += "<tr>" + cell(name) + cell(std::string(meaning)) +
              "</tr>";
  }
  if (!absent.empty()) {
    out += "<h3>Checked for and not found</h3><table>" + header_row({"anomaly", "meaning"}) +
           absent + "</table>";
  }
  return out + "</section>";
}

// [SECTION] Metrics

std::string metric_value(const RunResult& r, const char* name, bool per_s) {
  const std::optional<double> v = metric(r, name);
  if (!v) return "-";
  return per_s ? printf_text("%.1f/s", *v) : count_text(*v);
}

// Latency percentiles, one row per kind: (label, metric prefix).
std::string latency_table(const RunResult& r, const workloads::SystemAdapter& system) {
  std::string out = "<table>" + header_row({"latency (ms)", "p50", "p99", "p99.9", "max"});
  for (const workloads::LatencyRow& row : system.latency_rows()) {
    const std::string prefix = row.prefix;
    out += "<tr>" + cell(row.label);
    for (const char* q : {"_p50", "_p99", "_p999", "_max"}) {
      const std::optional<double> v = metric(r, std::string(prefix) + q);
      out += num_cell(v ? printf_text("%.3f", *v) : "-");
    }
    out += "</tr>";
  }
  return out + "</table>";
}

std::string metrics_section(const ScenarioConfig& config, const RunResult& r) {
  const workloads::SystemAdapter& system = workloads::system_adapter(config.system);
  std::string out = "<section id=\"metrics\"><h2>Metrics</h2>" + latency_table(r, system) +
                    "<table>";
  for (const workloads::MetricRow& row : system.metric_rows()) {
    out += "<tr><th>" + html_escape(row.label) + "</th>" +
           num_cell(metric_value(r, row.metric, row.per_s)) + "</tr>";
  }
  out += "</table><details><summary>Every metric the checker reported</summary><table>" +
         header_row({"metric", "value"});
  for (const auto& [name, value] : r.check.metrics) {
    out += "<tr>" + cell(name) + num_cell(printf_text("%.10g", value)) + "</tr>";
  }
  return out + "</table></details></section>";
}

// [SECTION] Charts

std::string charts_section(const std::vector<ReportChart>& charts) {
  std::string out = "<section id=\"charts\"><h2>Over simulated time</h2>";
  if (charts.empty()) {
    return out + "<p class=\"muted\">The checker reported no series.</p></section>";
  }
  out += "<p class=\"muted\">Shaded: a fault from its injection to its lift; dashed: an "
         "instant fault. #N is the fault's row in the fault schedule; hover for its text.</p>";
  for (const ReportChart& chart : charts) {
    out += "<figure id=\"" + html_escape(chart.id) + "\">" + chart.svg + "<figcaption>" +
           html_escape(chart.note) + "</figcaption></figure>";
  }
  return out + "</section>";
}

// [SECTION] Faults

std::string window_text(const workloads::FaultWindow& w) {
  if (w.to_ns == w.from_ns) return "instant";
  return seconds_text(w.from_ns) + " to " + seconds_text(w.to_ns) +
         (w.until_end ? " (the end: never lifted)" : "");
}

std::string faults_section(const RunResult& r) {
  std::string out = "<section id=\"faults\"><h2>Fault schedule as it ran</h2>";
  if (r.fault_log.empty()) return out + "<p>No fault was injected.</p></section>";
  std::int64_t end_ns = r.sim_time_ns;
  for (const sim::FaultLogEntry& e : r.fault_log) end_ns = std::max(end_ns, e.time_ns);
  std::vector<std::string> spans(r.fault_log.size());
  for (const workloads::FaultWindow& w : workloads::fault_windows(r.fault_log, end_ns)) {
    spans[w.log_index] = window_text(w);
  }
  out += "<table>" + header_row({"#", "time", "action", "fault", "on the charts"});
  for (std::size_t i = 0; i < r.fault_log.size(); ++i) {
    const sim::FaultLogEntry& e = r.fault_log[i];
    out += "<tr>" + num_cell("#" + std::to_string(i + 1)) + num_cell(seconds_text(e.time_ns)) +
           cell(e.lifted ? "lift" : "inject") + cell(e.text) +
           cell(spans[i].empty() ? "-" : spans[i]) + "</tr>";
  }
  return out + "</table></section>";
}

// [SECTION] Reproduce

std::string reproduce_section(const ScenarioConfig& config, const RunResult& r,
                              const std::string& path) {
  return "<section id=\"reproduce\"><h2>Reproduce</h2><p>The same seed runs the same events "
         "and ends with the same trace hash (" + hex64(r.trace_hash) + "):</p><pre><code>" +
         html_escape(reproduce_command(path, r.seed, config.run_flags)) + "</code></pre></section>";
}

// [SECTION] The page

std::string table_of_contents(const std::vector<ReportChart>& charts) {
  std::string out = "<nav><strong>Contents</strong><ol><li><a href=\"#summary\">Summary</a></li>"
                    "<li><a href=\"#expectations\">Expectations</a></li>"
                    "<li><a href=\"#anomalies\">Anomalies</a></li>"
                    "<li><a href=\"#metrics\">Metrics</a></li>"
                    "<li><a href=\"#charts\">Over simulated time</a><ol>";
  for (const ReportChart& chart : charts) {
    out += "<li><a href=\"#" + html_escape(chart.id) + "\">" + html_escape(chart.title) +
           "</a></li>";
  }
  return out + "</ol></li><li><a href=\"#faults\">Fault schedule</a></li>"
               "<li><a href=\"#reproduce\">Reproduce</a></li></ol></nav>";
}

}  // namespace

std::string report_html(const ScenarioConfig& config, const RunResult& result,
                        const std::string& path) {
  const std::vector<ReportChart> charts = report_charts(config, result);
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                    "<title>" + html_escape(config.name) + " seed " +
                    std::to_string(result.seed) + " - streamlab</title><style>" + kStyle +
                    "</style></head>\n<body><h1>" + html_escape(config.name) + "</h1>";
  if (!config.description.empty()) {
    out += "<p class=\"description\">" + html_escape(config.description) + "</p>";
  }
  out += verdict(config, result) + table_of_contents(charts) + "\n" +
         summary_section(config, result, path) + "\n" + expectations_section(config, result) +
         "\n" + anomalies_section(config, result) + "\n" + metrics_section(config, result) +
         "\n" + charts_section(charts) + "\n" + faults_section(result) + "\n" +
         reproduce_section(config, result, path) + "\n</body></html>\n";
  return out;
}

bool write_report(const ScenarioConfig& config, const RunResult& result, const std::string& path,
                  const std::string& out_path, std::string* error) {
  if (!write_file_atomically(out_path, report_html(config, result, path), error)) return false;
  std::printf("report     %s\n", out_path.c_str());
  return true;
}

}  // namespace streamlab::cli
