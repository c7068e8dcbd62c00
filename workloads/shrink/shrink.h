#pragma once

// `streamlab shrink`: cuts a failing run down to a small repro that still fails the same
// way (workloads/shrink_property.h), delta-debugging style (Zeller and Hildebrandt,
// "Simplifying and Isolating Failure-Inducing Input", IEEE TSE 28(2), 2002). Runs are
// deterministic, so a candidate either keeps the property or not. In order:
//  1. the swarm's draw becomes scripted faults (a liveness swarm stays, without rates,
//     for its heal and judgement), checked to give the very same trace;
//  2. ddmin over the faults (a fault with a lift is one unit), then the run without the
//     heal-only swarm;
//  3. the run ends as early as it still fails (faults after the end go);
//  4. workload entries go one at a time, then their rates, stops and maximum counts
//     are halved while the run still fails.
// The result is scenario text with the seed in it, so `streamlab run` reproduces it.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "workloads/run/scenario_runner.h"
#include "workloads/scenario/scenario_loader.h"

namespace streamlab::workloads {

struct ShrinkOptions {
  std::uint64_t seed = 0;      // The failing seed; required.
  std::string keep_anomaly;    // Non-empty: keep finding this anomaly, whatever is expected.
  unsigned jobs = 1;           // Runs in parallel.
  std::size_t max_runs = 2000;  // Candidate runs in all; shrinking stops there.
  RunBudget budget;             // Of each run; a runaway candidate does not keep.
  std::string out_path;        // Where the result will live, for its reproduce command;
                               // required.
  ScenarioOverrides overrides;  // Applied to the scenario, and kept in the shrunk one.
};

struct ShrinkSize {
  std::size_t faults = 0;
  std::int64_t duration_ns = 0;
  std::size_t workload_entries = 0;
};

// "1 fault, 12.5s, 3 workload entries".
std::string describe(const ShrinkSize& size);

struct ShrinkProgress {
  const char* step;  // "swarm", "faults", "duration", "workload", "knobs".
  std::size_t runs;  // Candidates run so far.
  ShrinkSize size;   // The smallest failing scenario so far.
  double wall_s;
};

struct ShrinkSummary {
  std::string text;      // The shrunk scenario file, comment header included.
  std::string property;  // What it keeps, in words.
  ShrinkSize before;     // With the swarm's draw counted as faults.
  ShrinkSize after;
  std::size_t swarm_faults = 0;  // How many of before.faults the swarm drew.
  std::size_t runs = 0;
  bool cap_reached = false;
  std::uint64_t trace_hash = 0;  // Of the shrunk scenario's run.
  double wall_s = 0;
};

using ShrinkProgressFn = std::function<void(const ShrinkProgress&)>;

// `file_name` names the scenario in messages and in the result's header. An error (bad
// scenario, nothing to keep, a swarm whose explicit schedule does not replay) names the
// file and what is wrong.
Result<ShrinkSummary> shrink_scenario(std::string_view text, const std::string& file_name,
                                      const ShrinkOptions& options,
                                      const ShrinkProgressFn& progress);

}  // namespace streamlab::workloads
