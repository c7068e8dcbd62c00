#pragma once

// Where a real-mode cluster meets its scenario: which of the scenario's nodes become
// processes, and the actor each one runs, built from the same settings the simulator
// uses (workloads/scenario_runner.cc), so a node runs the same code with the same
// configuration in both worlds.

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "runtime/runtime.h"
#include "workloads/cluster/cluster.h"
#include "workloads/scenario/scenario_config.h"

namespace streamlab::cluster {

using NodeFactory = std::function<std::unique_ptr<Node>(Runtime&)>;

// The nodes of a cluster for a pulsar scenario: its metadata store, bookies and brokers in
// topology order, then `clients` client slots named client-1..N, every port still 0.
// An error if the scenario is not a pulsar system or a slot's name is a server's.
Result<std::vector<ClusterNode>> cluster_nodes(const workloads::ScenarioConfig& scenario,
                                               std::uint32_t clients);

// The actor node `name` runs as `role`. An error if the scenario is not a pulsar system or
// does not run `name` as `role` (a scenario edited after `cluster up`).
Result<NodeFactory> node_factory(const workloads::ScenarioConfig& scenario, NodeRole role,
                                 std::string_view name);

}  // namespace streamlab::cluster
