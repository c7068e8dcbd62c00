#pragma once

// What every checker reports alike: operations counted by outcome, the latency of those
// that succeeded, and the words anomaly examples are written in.

#include <cstdint>
#include <map>
#include <string>

#include "workloads/history.h"
#include "workloads/latency_histogram.h"

namespace streamlab::workloads {

struct OpTally {
  std::uint64_t by_outcome[4] = {0, 0, 0, 0};  // Indexed by OpType; invoke: still pending.
  LatencyHistogram latency;                     // Of the ok ones, invoke to completion.

  void count(OpType outcome) { ++by_outcome[static_cast<int>(outcome)]; }
  std::uint64_t of(OpType outcome) const { return by_outcome[static_cast<int>(outcome)]; }
};

// ops_invoked/ok/fail/info/pending, <latency_name>_p50/p99/p999/max in ms, and
// throughput_ok_per_s when the run's duration is known.
void report_ops(const OpTally& tally, const char* latency_name, std::int64_t duration_ns,
                std::map<std::string, double>& metrics);

// "12.345678s".
std::string format_seconds(std::int64_t ns);
// "client-1 add #1f": a process's operation by its id, as examples name it.
std::string describe_op(const std::string& process, const char* what, std::uint64_t id);

}  // namespace streamlab::workloads
