#pragma once

// A simulated run kept for judging later (`streamlab run --history H --save-logs DIR`,
// then `streamlab check SCENARIO H --logs DIR`): every node's files as its disk held them
// at the end, laid out as a real cluster's directory is (DIR/NODE/FILE), and the
// clients' history as JSON lines. Judging it again gives what the run's checker found.

#include <string>
#include <variant>
#include <vector>

#include "base/result.h"
#include "sim/world.h"
#include "workloads/checkers/check_result.h"
#include "workloads/scenario/scenario_config.h"

namespace streamlab::workloads {

// Writes DIR/NODE/FILE for every file of every node's disk (created as needed).
Result<std::monostate> save_node_files(sim::World& world, const ScenarioConfig& config,
                                       const std::string& dir);

// Judges the histories (JSON lines of the scenario's system: workloads/queue_history_io.h
// or workloads/history_io.h; merged by time) with the files under DIR, by the checker of
// the scenario's system. Errors name the file that is missing or malformed.
Result<CheckResult> check_saved_run(const ScenarioConfig& config,
                                    const std::vector<std::string>& histories,
                                    const std::string& dir);

}  // namespace streamlab::workloads
