#pragma once

// One load point of a load test: the cluster under the workload at one total rate, run
// for a warm-up and then a measured window, judged sustainable or not, with the
// utilisation of every resource over the window.
//
// Sustainable means the cluster keeps up: producers publish at least 95% of the rate
// (they block when their pending queue is full, as OMB's do, so an overloaded cluster
// shows as a lower rate), no send fails, consumers keep the backlog from growing by more
// than 5% of what they consume, and publish p99 stays within its bound.
//
// Every node's disk keeps only the newest `kept_bytes_per_file` of each file in memory
// (SimDisk::keep_recent_only, for fault-free runs): a fast run would not fit otherwise.
// Tailing consumers are served from the brokers' entry caches; a read of a forgotten
// entry fails, and a load point with any (LoadPoint::forgotten_reads) is not sustainable.

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "workloads/capacity/capacity_meter.h"
#include "workloads/capacity/capacity_plan.h"

namespace streamlab::workloads {

struct ProbeSettings {
  std::int64_t producers_start_ns = 300'000'000;  // Topics and subscriptions load first.
  std::int64_t warmup_ns = 500'000'000;  // After the producers start.
  std::int64_t measure_ns = 1'500'000'000;
  std::int64_t max_publish_p99_ns = 200'000'000;
  std::uint64_t kept_bytes_per_file = 32u << 20;
  std::uint64_t seed = 1;
};

// The busy share of one resource over the window (above 1: work was booked beyond it).
struct Utilisation {
  std::string resource;  // "journal disk of bookie-2", "CPU of broker-1", "NIC out of ..."
  double busy = 0;
};

struct LoadPoint {
  double target_rate = 0;  // Msg/s over all producers.
  LoadMeasure measure;
  std::vector<Utilisation> utilisation;  // Every resource, busiest first.
  bool sustainable = false;
  std::string verdict;  // Why not, or "sustainable".
  std::uint64_t forgotten_reads = 0;
  std::uint64_t events = 0;
  double wall_s = 0;
};

Result<LoadPoint> probe(const CapacityPlan& plan, double rate, const ProbeSettings& settings);

}  // namespace streamlab::workloads
