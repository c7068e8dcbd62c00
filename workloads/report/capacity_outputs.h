#pragma once

// What `streamlab capacity` writes: per swept plan (one per --vary value, or the one),
// a text summary, JSON shaped as OpenMessaging Benchmark's result files where the
// meaning is the same, and an HTML report with the throughput-vs-latency plot.

#include <string>
#include <vector>

#include "workloads/capacity/capacity_sweep.h"

namespace streamlab::cli {

struct CapacityOutcome {
  std::string label;  // "ack_quorum=3", or the workload's name without --vary.
  workloads::CapacityPlan plan;
  workloads::SweepResult sweep;
};

struct CapacityRun {
  std::string workload_file;
  std::string cluster_file;
  std::string command;  // The command line that reproduces it.
  workloads::ProbeSettings probe;
  std::vector<CapacityOutcome> outcomes;
};

std::string capacity_text(const CapacityRun& run);
// One outcome: an OMB result object (rates in msg/s, latencies in ms; OMB's arrays are
// per sampling period of one run, ours per load point of increasing rate) plus a
// "streamlab" object with the search, the bottleneck and the utilisation. With --vary,
// {"comparison": [one per value]}.
std::string capacity_json(const CapacityRun& run);
std::string capacity_html(const CapacityRun& run);

}  // namespace streamlab::cli
