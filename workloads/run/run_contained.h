#pragma once

// One scenario run in a child process of its own, so that a run that crashes (an
// assertion, a fault in the code under test, an allocation failure) ends the child and not
// the batch around it (explore's seeds, shrink's candidates), and the batch can name it.
// The child is a fork: it runs the caller's config and options as they are in memory, and
// sends back what a batch needs of the result. Its memory budget is then its own.

#include <cstddef>
#include <functional>
#include <string>
#include <utility>

#include "workloads/scenario/scenario_config.h"
#include "workloads/run/scenario_runner.h"

namespace streamlab::workloads {

struct ContainedRun {
  bool crashed = false;
  // When crashed: how the child ended ("killed by signal 6 (Aborted)") and the last lines it
  // wrote to stderr (an assertion's message), in words.
  std::string crash;
  // When not crashed: the result's seed, runaway, trace hash, time, events, wall time,
  // expectations and the check's anomalies and examples (not metrics, series, history).
  RunResult result;
};

ContainedRun run_contained(const ScenarioConfig& config, const RunOptions& options);

// Runs count runs, each in a child process of its own, up to `jobs` at a time; run(i)
// gives the i-th run's config and options (the config must outlive the call), and
// done(i, result) is called as each ends, in the order they end. Every fork and callback
// happens on the calling thread: a process that forks while other threads run may copy
// a lock one of them holds (the allocator's, under a sanitizer), and the child then
// waits on it forever. So batches run children, never threads that fork.
using ContainedJob = std::pair<const ScenarioConfig*, RunOptions>;
void run_contained_batch(std::size_t count, std::size_t jobs,
                         const std::function<ContainedJob(std::size_t)>& run,
                         const std::function<void(std::size_t, ContainedRun)>& done);

}  // namespace streamlab::workloads
