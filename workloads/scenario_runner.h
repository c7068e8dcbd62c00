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
#include "workloads/check_result.h"
#include "workloads/scenario_config.h"

namespace streamlab::workloads {

struct RunResult {
  std::uint64_t seed = 0;
  std::uint64_t trace_hash = 0;
  std::int64_t sim_time_ns = 0;
  std::uint64_t events = 0;
  double wall_time_s = 0;
  CheckResult check;
  bool expectations_met = true;
  std::vector<std::string> failed_expectations;  // In words, one per failed expectation.
  std::vector<sim::FaultLogEntry> fault_log;
};

struct RunOptions {
  std::uint64_t seed = 0;  // 0: the scenario's own seed.
  std::function<void(const sim::EventRecord&)> observer;
};

RunResult run_scenario(const ScenarioConfig& config, const RunOptions& options);

}  // namespace streamlab::workloads
