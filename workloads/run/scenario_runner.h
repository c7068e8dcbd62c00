#pragma once

// Runs one scenario with one seed: builds the world, starts the system and the clients,
// schedules the faults (scripted and swarm), runs to the end, checks the history and the
// final logs, and weighs the expectations.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "sim/faults.h"
#include "sim/kernel.h"
#include "sim/trace.h"
#include "workloads/checkers/check_result.h"
#include "workloads/history/queue_history.h"
#include "workloads/history/run_history.h"
#include "workloads/scenario/scenario_config.h"

namespace streamlab::sim {
class World;
}  // namespace streamlab::sim

namespace streamlab::workloads {

// Why a run stopped before its end: it went over its budget (RunBudget). A runaway run is
// not judged; it fails as a kind of its own, next to safety and liveness.
enum class Runaway : std::uint8_t { none, events, memory };

const char* runaway_name(Runaway runaway);

struct RunResult {
  std::uint64_t seed = 0;
  Runaway runaway = Runaway::none;
  std::uint64_t trace_hash = 0;
  std::int64_t sim_time_ns = 0;
  std::uint64_t events = 0;
  double wall_time_s = 0;
  CheckResult check;
  bool expectations_met = true;
  std::vector<std::string> failed_expectations;  // In words, one per failed expectation.
  std::vector<sim::FaultLogEntry> fault_log;
  RunHistory history;
};

// A run's limits: a seed whose system never settles (a loop that piles up work) must stop
// and be named, not take the machine's memory. Zero: no limit.
struct RunBudget {
  std::uint64_t max_events = 0;
  // The process's resident memory, checked between slices of events; a run in a process
  // of its own (explore, shrink) is measured alone.
  std::uint64_t max_rss_bytes = 0;
};

struct RunOptions {
  std::uint64_t seed = 0;  // 0: the scenario's own seed.
  RunBudget budget;
  std::function<void(const sim::EventRecord&)> observer;
  // Gets every model's events, faults and node notes (sim/trace.h); it only observes.
  sim::TraceSink* trace_sink = nullptr;
  bool keep_history = false;
  // When set, the queue clients' ops go here as they happen and the history keeps none
  // (the checker then judges an empty history: for load tests, which judge no safety).
  std::function<void(const QueueOp&)> queue_ops;
  // Called once the run is over and judged, with the world still whole (its disks as
  // the checker found them): for saving the nodes' files.
  std::function<void(sim::World&)> at_end;
};

// The faults a run with `seed` (the effective one: RunOptions::seed or the scenario's)
// injects: the scripted ones and the swarm's draw, stable-sorted by time. A liveness
// swarm's heal at its stop time is not among them.
std::vector<sim::Fault> scheduled_faults(const ScenarioConfig& config, std::uint64_t seed);

RunResult run_scenario(const ScenarioConfig& config, const RunOptions& options);

// The expectations `check` fails, in words ("expected no lost-write but found 3 (file:12)");
// what run_scenario puts in RunResult::failed_expectations.
std::vector<std::string> failed_expectations(const ScenarioConfig& config,
                                             const CheckResult& check);

}  // namespace streamlab::workloads
