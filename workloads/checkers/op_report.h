#pragma once

// What every checker reports alike: operations counted by outcome, the latency of those
// that succeeded, and the words anomaly examples are written in.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "workloads/history/history.h"
#include "workloads/checkers/latency_histogram.h"
#include "workloads/checkers/time_series.h"

namespace streamlab::workloads {

struct OpTally {
  std::uint64_t by_outcome[4] = {0, 0, 0, 0};  // Indexed by OpType; invoke: still pending.
  LatencyHistogram latency;                     // Of the ok ones, invoke to completion.

  void count(OpType outcome) { ++by_outcome[static_cast<int>(outcome)]; }
  std::uint64_t of(OpType outcome) const { return by_outcome[static_cast<int>(outcome)]; }
};

// The ledger and counter checkers' ops over time, for their series.
struct OpTimeline {
  std::vector<std::uint64_t> ok_per_second;  // Ok completions in second k.
  LatencySeries latency;                     // Of the ok ones, at their completion.
  std::vector<std::int64_t> lost_ns;         // When each lost write was acknowledged.
  // When each op stored more than once was acknowledged (invoked, if it never was).
  std::vector<std::int64_t> duplicated_ns;

  void ok(std::int64_t time_ns, std::int64_t latency_ns);
};

// Series over [0, end_ns]: ok_rate (ok ops per second), <latency_name>_p50/p99/p999 in
// ms, and the running counts lost_write_total and duplicate_total.
void report_timeline(OpTimeline& timeline, const char* latency_name, std::int64_t end_ns,
                     std::map<std::string, Series>& series);

// ops_invoked/ok/fail/info/pending, <latency_name>_p50/p99/p999/max in ms, and
// throughput_ok_per_s when the run's duration is known.
void report_ops(const OpTally& tally, const char* latency_name, std::int64_t duration_ns,
                std::map<std::string, double>& metrics);

// "12.345678s".
std::string format_seconds(std::int64_t ns);
// "client-1 add #1f": a process's operation by its id, as examples name it.
std::string describe_op(const std::string& process, const char* what, std::uint64_t id);

}  // namespace streamlab::workloads
