#include "workloads/checkers/op_report.h"

#include <cstdio>
#include <utility>

#include "base/assert.h"

namespace streamlab::workloads {

void report_ops(const OpTally& tally, const char* latency_name, std::int64_t duration_ns,
                std::map<std::string, double>& m) {
  const auto count = [&tally](OpType t) { return static_cast<double>(tally.of(t)); };
  m["ops_invoked"] =
      count(OpType::invoke) + count(OpType::ok) + count(OpType::fail) + count(OpType::info);
  m["ops_ok"] = count(OpType::ok);
  m["ops_fail"] = count(OpType::fail);
  m["ops_info"] = count(OpType::info);
  m["ops_pending"] = count(OpType::invoke);
  const std::string name = latency_name;
  m[name + "_p50"] = static_cast<double>(tally.latency.quantile(0.50)) / 1e6;
  m[name + "_p99"] = static_cast<double>(tally.latency.quantile(0.99)) / 1e6;
  m[name + "_p999"] = static_cast<double>(tally.latency.quantile(0.999)) / 1e6;
  m[name + "_max"] = static_cast<double>(tally.latency.max()) / 1e6;
  if (duration_ns > 0) {
    m["throughput_ok_per_s"] = m["ops_ok"] / (static_cast<double>(duration_ns) / 1e9);
  }
}

void OpTimeline::ok(std::int64_t time_ns, std::int64_t latency_ns) {
  SL_ASSERT_GE(time_ns, 0);
  const auto second = static_cast<std::size_t>(time_ns / 1'000'000'000);
  if (ok_per_second.size() <= second) ok_per_second.resize(second + 1, 0);
  ++ok_per_second[second];
  latency.record(time_ns, latency_ns);
}

void report_timeline(OpTimeline& timeline, const char* latency_name, std::int64_t end_ns,
                     std::map<std::string, Series>& series) {
  const TimeBuckets buckets(end_ns);
  series["ok_rate"] = rate_series(buckets, timeline.ok_per_second);
  timeline.latency.report(buckets, latency_name, series);
  series["lost_write_total"] = running_count_series(buckets, std::move(timeline.lost_ns));
  series["duplicate_total"] = running_count_series(buckets, std::move(timeline.duplicated_ns));
}

std::string format_seconds(std::int64_t ns) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6fs", static_cast<double>(ns) / 1e9);
  return buffer;
}

std::string describe_op(const std::string& process, const char* what, std::uint64_t id) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, " #%llx", static_cast<unsigned long long>(id));
  return process + " " + what + buffer;
}

}  // namespace streamlab::workloads
