#pragma once

// Judging a real run (DESIGN.md section 7) with the simulator's queue checker
// (workloads/queue_checker.h): the histories the client processes wrote, the metadata
// store's log and every bookie's journal as the cluster directory holds them, the topics
// and subscription types of the cluster's scenario and the node names of its cluster
// file. It reads files only, so it works while the cluster runs or after it stopped.

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "workloads/checkers/check_result.h"

namespace streamlab::cluster {

struct ClusterCheck {
  workloads::CheckResult result;
  std::uint64_t ops = 0;
  // The histories' first op, CLOCK_MONOTONIC: the checker's times (anomaly examples,
  // series) count from it.
  std::int64_t first_op_ns = 0;
  std::int64_t last_op_ns = 0;
};

// An error (bad input) names what is missing or malformed: the directory, the cluster
// file, the scenario, a history file (and line), a node's file.
Result<ClusterCheck> check_cluster_run(const std::string& dir,
                                       const std::vector<std::string>& history_paths);

}  // namespace streamlab::cluster
