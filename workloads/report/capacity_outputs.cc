// [SECTION] index: numbers and units, text, JSON, HTML.

#include "workloads/report/capacity_outputs.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "workloads/report/json_writer.h"
#include "workloads/report/html_escape.h"
#include "workloads/report/svg_chart.h"

namespace streamlab::cli {

namespace {

using workloads::LatencyHistogram;
using workloads::LoadMeasure;
using workloads::LoadPoint;
using workloads::html_escape;

// [SECTION] Numbers and units

std::string format(const char* f, double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, f, v);
  return buffer;
}

double ms(std::int64_t ns) { return static_cast<double>(ns) / 1e6; }

double mb_per_s(const CapacityOutcome& o, double msg_per_s) {
  return msg_per_s * static_cast<double>(o.plan.workload.message_size) / 1e6;
}

double published_rate(const LoadPoint& p) { return p.measure.per_s(p.measure.published); }
double consumed_rate(const LoadPoint& p) { return p.measure.per_s(p.measure.consumed); }

double average_ms(double sum_ns, std::uint64_t count) {
  return count == 0 ? 0 : sum_ns / static_cast<double>(count) / 1e6;
}

constexpr double kQuantiles[] = {0.5, 0.75, 0.95, 0.99, 0.999, 0.9999};
constexpr const char* kQuantileNames[] = {"50pct", "75pct", "95pct", "99pct", "999pct", "9999pct"};

std::string sampling_note(const CapacityRun& run) {
  return "every message is measured (no sampling); each load point is a fresh run of " +
         format("%.1f", static_cast<double>(run.probe.producers_start_ns + run.probe.warmup_ns) / 1e9) +
         " s warm-up and " + format("%.1f", static_cast<double>(run.probe.measure_ns) / 1e9) +
         " s measured (simulated time); disks keep only the newest " +
         std::to_string(run.probe.kept_bytes_per_file >> 20) + " MiB of each file in memory";
}

// [SECTION] Text

std::string point_line(const CapacityOutcome& o, const LoadPoint& p) {
  char line[256];
  const LoadMeasure& m = p.measure;
  std::snprintf(line, sizeof line, "  %10.0f %10.0f %8.1f %9.2f %9.2f %9.2f %9.2f  %s\n",
                p.target_rate, published_rate(p), mb_per_s(o, published_rate(p)),
                ms(m.publish_latency.quantile(0.5)), ms(m.publish_latency.quantile(0.99)),
                ms(m.publish_latency.quantile(0.999)), ms(m.end_to_end_latency.quantile(0.99)),
                p.verdict.c_str());
  return line;
}

}  // namespace

std::string capacity_text(const CapacityRun& run) {
  const workloads::OmbWorkload& w = run.outcomes.front().plan.workload;
  std::string out = "method: " + sampling_note(run) + "; the workload's testDurationMinutes (" +
                    format("%g", w.test_duration_minutes) + ") and warmupDurationMinutes (" +
                    format("%g", w.warmup_duration_minutes) + ") are not used\n";
  for (const CapacityOutcome& o : run.outcomes) {
    const workloads::SweepResult& s = o.sweep;
    out += "\n== " + o.label + " ==\n";
    if (o.plan.workload.producer_rate > 0 && o.plan.workload.producer_increment_rate == 0) {
      out += "fixed rate " + format("%.0f", s.max_rate) + " msg/s: " + s.at_max.verdict + "\n";
    } else if (s.hit_limit) {
      out += "still sustainable at the search's limit (" + format("%.0f", s.max_rate) +
             " msg/s): the cluster is faster than the search goes\n";
    } else if (!s.found_max) {
      out += "no sustainable rate found (lowest tried: " +
             (s.searched.empty() ? std::string("none") : s.searched.back().verdict) + ")\n";
      continue;
    } else {
      const double carried = published_rate(s.at_max);
      out += "max sustainable: " + format("%.0f", carried) + " msg/s = " +
             format("%.1f", mb_per_s(o, carried)) + " MB/s of produce (offered " +
             format("%.0f", s.max_rate) + " msg/s)\n";
      out += "saturated: " + format("%.0f", s.peak_published_rate) + " msg/s = " +
             format("%.1f", mb_per_s(o, s.peak_published_rate)) +
             " MB/s at most published under overload\n";
    }
    out += "bottleneck: " + s.bottleneck + "\n";
    out += "  target/s  publish/s     MB/s   pub p50   pub p99  pub p999   e2e p99  (ms)\n";
    for (const LoadPoint& p : s.curve) out += point_line(o, p);
    out += "utilisation at the highest sustainable load:\n";
    std::size_t shown = 0;
    for (const workloads::Utilisation& u : s.at_max.utilisation) {
      if (shown++ == 8) break;
      out += "  " + format("%5.1f%%", u.busy * 100) + "  " + u.resource + "\n";
    }
    out += format("%.0f", static_cast<double>(s.searched.size() + s.curve.size() - 1)) +
           " load points, " + format("%.1f", s.wall_s) + " s elapsed, " +
           format("%.1f", static_cast<double>(s.events) / 1e6) + "M events\n";
  }
  if (run.outcomes.size() > 1) {
    out += "\ncomparison:\n  setting                      max msg/s      MB/s   pub p99 ms  bottleneck\n";
    for (const CapacityOutcome& o : run.outcomes) {
      char line[320];
      const double carried = published_rate(o.sweep.at_max);
      std::snprintf(line, sizeof line, "  %-26s %11.0f %9.1f %12.2f  %s\n", o.label.c_str(),
                    carried, mb_per_s(o, carried),
                    ms(o.sweep.at_max.measure.publish_latency.quantile(0.99)),
                    o.sweep.bottleneck.c_str());
      out += line;
    }
  }
  return out;
}

// [SECTION] JSON

namespace {

void latency_arrays(JsonWriter& j, const std::string& prefix, const std::vector<LoadPoint>& curve,
                    bool end_to_end) {
  const auto hist = [&](const LoadPoint& p) -> const LatencyHistogram& {
    return end_to_end ? p.measure.end_to_end_latency : p.measure.publish_latency;
  };
  j.key(prefix + "Avg").begin_array();
  for (const LoadPoint& p : curve) {
    j.value(average_ms(end_to_end ? p.measure.end_to_end_latency_sum_ns
                                  : p.measure.publish_latency_sum_ns,
                       hist(p).count()));
  }
  j.end_array();
  for (std::size_t q = 0; q < std::size(kQuantiles); ++q) {
    j.key(prefix + kQuantileNames[q]).begin_array();
    for (const LoadPoint& p : curve) j.value(ms(hist(p).quantile(kQuantiles[q])));
    j.end_array();
  }
  j.key(prefix + "Max").begin_array();
  for (const LoadPoint& p : curve) j.value(ms(hist(p).max()));
  j.end_array();
}

void aggregated(JsonWriter& j, const std::string& prefix, const LoadPoint& p, bool end_to_end) {
  const LatencyHistogram& h = end_to_end ? p.measure.end_to_end_latency : p.measure.publish_latency;
  j.key(prefix + "Avg").value(average_ms(
      end_to_end ? p.measure.end_to_end_latency_sum_ns : p.measure.publish_latency_sum_ns, h.count()));
  for (std::size_t q = 0; q < std::size(kQuantiles); ++q) {
    j.key(prefix + kQuantileNames[q]).value(ms(h.quantile(kQuantiles[q])));
  }
  j.key(prefix + "Max").value(ms(h.max()));
}

void load_point_json(JsonWriter& j, const CapacityOutcome& o, const LoadPoint& p) {
  j.begin_object();
  j.key("targetRate").value(p.target_rate);
  j.key("publishRate").value(published_rate(p));
  j.key("publishMBps").value(mb_per_s(o, published_rate(p)));
  j.key("consumeRate").value(consumed_rate(p));
  j.key("backlog").value(static_cast<std::int64_t>(p.measure.backlog_end));
  j.key("failed").value(p.measure.failed);
  j.key("publishLatency99pct").value(ms(p.measure.publish_latency.quantile(0.99)));
  j.key("endToEndLatency99pct").value(ms(p.measure.end_to_end_latency.quantile(0.99)));
  j.key("sustainable").value(p.sustainable);
  j.key("verdict").value(p.verdict);
  j.key("wallSeconds").value(p.wall_s);
  j.end_object();
}

void outcome_json(JsonWriter& j, const CapacityRun& run, const CapacityOutcome& o) {
  const workloads::OmbWorkload& w = o.plan.workload;
  const workloads::SweepResult& s = o.sweep;
  j.begin_object();
  j.key("workload").value(w.name);
  j.key("driver").value("streamlab (simulated pulsar)");
  j.key("messageSize").value(static_cast<std::uint64_t>(w.message_size));
  j.key("topics").value(static_cast<std::uint64_t>(w.topics));
  j.key("partitions").value(static_cast<std::uint64_t>(w.partitions_per_topic));
  j.key("producersPerTopic").value(static_cast<std::uint64_t>(w.producers_per_topic));
  j.key("consumersPerTopic")
      .value(static_cast<std::uint64_t>(w.subscriptions_per_topic * w.consumer_per_subscription));
  j.key("publishRate").begin_array();
  for (const LoadPoint& p : s.curve) j.value(published_rate(p));
  j.end_array();
  j.key("consumeRate").begin_array();
  for (const LoadPoint& p : s.curve) j.value(consumed_rate(p));
  j.end_array();
  j.key("backlog").begin_array();
  for (const LoadPoint& p : s.curve) j.value(static_cast<std::int64_t>(p.measure.backlog_end));
  j.end_array();
  latency_arrays(j, "publishLatency", s.curve, false);
  aggregated(j, "aggregatedPublishLatency", s.at_max, false);
  latency_arrays(j, "endToEndLatency", s.curve, true);
  aggregated(j, "aggregatedEndToEndLatency", s.at_max, true);
  j.key("streamlab").begin_object();
  j.key("label").value(o.label);
  j.key("settings").begin_array();
  for (const std::string& setting : o.plan.settings) j.value(setting);
  j.end_array();
  j.key("foundMax").value(s.found_max);
  j.key("maxSustainableRate").value(published_rate(s.at_max));
  j.key("maxSustainableMBps").value(mb_per_s(o, published_rate(s.at_max)));
  j.key("maxSustainableOfferedRate").value(s.max_rate);
  j.key("peakPublishRate").value(s.peak_published_rate);
  j.key("peakPublishMBps").value(mb_per_s(o, s.peak_published_rate));
  j.key("bottleneck").value(s.bottleneck);
  j.key("utilisationAtMax").begin_array();
  for (const workloads::Utilisation& u : s.at_max.utilisation) {
    j.begin_object().key("resource").value(u.resource).key("busy").value(u.busy).end_object();
  }
  j.end_array();
  j.key("curve").begin_array();
  for (const LoadPoint& p : s.curve) load_point_json(j, o, p);
  j.end_array();
  j.key("search").begin_array();
  for (const LoadPoint& p : s.searched) load_point_json(j, o, p);
  j.end_array();
  j.key("sampling").value(sampling_note(run));
  j.key("wallSeconds").value(s.wall_s);
  j.key("events").value(s.events);
  j.end_object();
  j.end_object();
}

}  // namespace

std::string capacity_json(const CapacityRun& run) {
  JsonWriter j;
  if (run.outcomes.size() == 1) {
    outcome_json(j, run, run.outcomes.front());
  } else {
    j.begin_object().key("comparison").begin_array();
    for (const CapacityOutcome& o : run.outcomes) outcome_json(j, run, o);
    j.end_array().end_object();
  }
  return j.str() + "\n";
}

// [SECTION] HTML

namespace {

constexpr const char* kStyle = R"(
body{font:15px/1.5 system-ui,sans-serif;color:#222;max-width:1060px;margin:0 auto;padding:1em 1.5em 4em}
h1{font-size:1.7em;margin:.4em 0 .1em}h2{border-bottom:1px solid #ddd;padding-bottom:.15em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0 1em}th,td{border:1px solid #ddd;padding:.25em .65em;text-align:left}
th{background:#f5f5f5}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
pre{background:#f6f8fa;padding:.8em 1em;overflow-x:auto}.muted{color:#666}
)";

std::string cell(const std::string& text, bool num = false) {
  return std::string(num ? "<td class=\"num\">" : "<td>") + html_escape(text) + "</td>";
}

std::string throughput_chart(const CapacityRun& run) {
  workloads::Chart chart;
  chart.title = "Publish p99 latency against throughput";
  chart.x_label = "publish throughput (MB/s)";
  chart.y_label = "publish p99 (ms)";
  chart.log_y = true;
  double x_max = 0;
  for (const CapacityOutcome& o : run.outcomes) {
    workloads::ChartLine line;
    line.label = o.label;
    for (const LoadPoint& p : o.sweep.curve) {
      const double x = mb_per_s(o, published_rate(p));
      line.points.emplace_back(x, std::max(0.001, ms(p.measure.publish_latency.quantile(0.99))));
      x_max = std::max(x_max, x);
    }
    std::sort(line.points.begin(), line.points.end());
    chart.lines.push_back(std::move(line));
  }
  chart.x_max = x_max > 0 ? x_max * 1.05 : 1;
  return workloads::svg_chart(chart);
}

}  // namespace

std::string capacity_html(const CapacityRun& run) {
  std::string h = "<!doctype html><html><head><meta charset=\"utf-8\"><title>capacity: " +
                  html_escape(run.outcomes.front().plan.workload.name) + "</title><style>" +
                  kStyle + "</style></head><body>";
  h += "<h1>Capacity: " + html_escape(run.outcomes.front().plan.workload.name) + "</h1>";
  h += "<p class=\"muted\">workload " + html_escape(run.workload_file) + ", cluster " +
       html_escape(run.cluster_file) + "</p>";
  h += "<h2>Summary</h2><table><tr><th>setting</th><th>max sustainable msg/s</th><th>MB/s</th>"
       "<th>publish p99 ms</th><th>end-to-end p99 ms</th><th>bottleneck</th></tr>";
  for (const CapacityOutcome& o : run.outcomes) {
    const LoadPoint& p = o.sweep.at_max;
    h += "<tr>" + cell(o.label) + cell(format("%.0f", published_rate(p)), true) +
         cell(format("%.1f", mb_per_s(o, published_rate(p))), true) +
         cell(format("%.2f", ms(p.measure.publish_latency.quantile(0.99))), true) +
         cell(format("%.2f", ms(p.measure.end_to_end_latency.quantile(0.99))), true) +
         cell(o.sweep.bottleneck) + "</tr>";
  }
  h += "</table><figure>" + throughput_chart(run) +
       "<figcaption>Each point is one load point: a fresh run at a fixed rate.</figcaption></figure>";
  for (const CapacityOutcome& o : run.outcomes) {
    h += "<h2>" + html_escape(o.label) + "</h2><table><tr><th>target msg/s</th><th>published "
         "msg/s</th><th>MB/s</th><th>pub p50</th><th>pub p99</th><th>pub p99.9</th><th>e2e "
         "p99</th><th>verdict</th></tr>";
    for (const LoadPoint& p : o.sweep.searched) {
      const LoadMeasure& m = p.measure;
      h += "<tr>" + cell(format("%.0f", p.target_rate), true) +
           cell(format("%.0f", published_rate(p)), true) +
           cell(format("%.1f", mb_per_s(o, published_rate(p))), true) +
           cell(format("%.2f", ms(m.publish_latency.quantile(0.5))), true) +
           cell(format("%.2f", ms(m.publish_latency.quantile(0.99))), true) +
           cell(format("%.2f", ms(m.publish_latency.quantile(0.999))), true) +
           cell(format("%.2f", ms(m.end_to_end_latency.quantile(0.99))), true) + cell(p.verdict) +
           "</tr>";
    }
    h += "</table><h3>Utilisation at the highest sustainable load</h3><table><tr><th>resource</th>"
         "<th>busy</th></tr>";
    for (const workloads::Utilisation& u : o.sweep.at_max.utilisation) {
      h += "<tr>" + cell(u.resource) + cell(format("%.1f%%", u.busy * 100), true) + "</tr>";
    }
    h += "</table>";
  }
  h += "<h2>Method</h2><p>" + html_escape(sampling_note(run)) + ".</p><pre>" +
       html_escape(run.command) + "</pre></body></html>\n";
  return h;
}

}  // namespace streamlab::cli
