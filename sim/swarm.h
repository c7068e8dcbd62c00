#pragma once

// Swarm faults, FoundationDB BUGGIFY-style: a seeded random mix of faults with a rate per
// kind, drawn up front into an explicit schedule (so a failing swarm run can be written
// out, replayed and shrunk like a scripted one).
// Safety mode keeps faulting until the end. Liveness mode draws no fault after stop_ns,
// cuts every fault short at stop_ns, and the run heals everything there; the system must
// then recover within the scenario's bound.

#include <cstdint>
#include <map>
#include <vector>

#include "sim/faults.h"
#include "sim/rng.h"
#include "sim/topology.h"

namespace streamlab::sim {

struct SwarmConfig {
  std::map<FaultKind, double> rate_per_minute;
  std::vector<std::uint32_t> targets;  // Nodes that faults may hit.
  std::int64_t start_ns = 0;
  std::int64_t stop_ns = 0;  // No fault starts at or after this time.
  bool liveness = false;
  std::int64_t duration_min_ns = 100'000'000;
  std::int64_t duration_max_ns = 5'000'000'000;
};

std::vector<Fault> draw_swarm(const SwarmConfig& config, const Topology& topology, Rng rng);

}  // namespace streamlab::sim
