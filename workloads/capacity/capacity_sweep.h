#pragma once

// The load test's search (`streamlab capacity`). With the workload's producerRate 0: the
// maximum sustainable rate, found by doubling from a start rate (producerStartRate, or
// SweepSettings::start_rate) until a load point is not sustainable, then narrowing the
// bracket between the last sustainable rate and the first that is not (two interior
// points a round, so a third of it is left) until it is within `precision` of its low
// end; then the latency curve, load points at fractions of that maximum. With a
// producerRate: that one load point, or with producerIncrementRate OMB's staircase from
// producerStartRate up to it. The bottleneck is the busiest resource at the highest
// sustainable load.
//
// Load points are independent simulations, so `jobs` of them run at once on threads: the
// ramp tries `jobs` successive rates a round, speculatively (a rate above the first
// failure does not move the bracket). The rates the search settles on, and so every
// result but the list of load points tried, are the same for any `jobs`.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/result.h"
#include "workloads/capacity/capacity_probe.h"

namespace streamlab::workloads {

struct SweepSettings {
  ProbeSettings probe;
  double start_rate = 10'000;  // When the workload names none.
  double precision = 0.04;     // Stop when the bracket is within this share of its low end.
  unsigned jobs = 1;           // Load points run at once.
  std::vector<double> curve = {0.1, 0.25, 0.5, 0.75, 0.9};  // Of the maximum.
  double max_rate = 50'000'000;  // Give up doubling here.
  // Told of every load point as it is done: for progress lines.
  std::function<void(const LoadPoint&, const std::string& phase)> on_point;
};

struct SweepResult {
  bool found_max = false;        // false: a fixed rate, or nothing was sustainable.
  double max_rate = 0;           // The highest sustainable rate tried.
  LoadPoint at_max;              // Its load point (or the fixed rate's).
  std::vector<LoadPoint> curve;  // Increasing rate, ending with at_max.
  std::vector<LoadPoint> searched;  // Every load point of the search, in order.
  bool hit_limit = false;        // Still sustainable at SweepSettings::max_rate.
  std::string bottleneck;        // "journal disk of bookie-2 at 98%".
  // The most any load point published per second: past saturation, the ceiling the
  // bottleneck sets (the maximum sustainable rate also needs latency and backlog bounded).
  double peak_published_rate = 0;
  double wall_s = 0;  // Elapsed, from start to end of the sweep.
  std::uint64_t events = 0;
};

Result<SweepResult> sweep(const CapacityPlan& plan, const SweepSettings& settings);

}  // namespace streamlab::workloads
