#include "sim/swarm.h"

#include <algorithm>
#include <cmath>

#include "base/assert.h"

namespace streamlab::sim {

namespace {

constexpr double kNsPerMinute = 60e9;

std::vector<std::uint32_t> pick_some(const std::vector<std::uint32_t>& from, Rng& rng) {
  // Usually one node (the common failure), sometimes a minority of them.
  std::vector<std::uint32_t> pool = from;
  for (std::size_t i = pool.size(); i > 1; --i) {
    std::swap(pool[i - 1], pool[rng.uniform_u64(i)]);
  }
  const std::size_t max_count = std::max<std::size_t>(1, pool.size() / 2);
  const std::size_t count = rng.chance(0.7) ? 1 : 1 + rng.uniform_u64(max_count);
  pool.resize(count);
  std::sort(pool.begin(), pool.end());
  return pool;
}

void fill_parameters(Fault& fault, const SwarmConfig& config, const Topology& topology,
                     Rng& rng) {
  fault.nodes = pick_some(config.targets, rng);
  fault.duration_ns = rng.uniform_i64(config.duration_min_ns, config.duration_max_ns);
  switch (fault.kind) {
    case FaultKind::partition:
      fault.one_way = rng.chance(0.3);
      break;
    case FaultKind::clog:
      fault.amount_ns = rng.uniform_i64(1'000'000, 200'000'000);
      break;
    case FaultKind::latency_spike:
      fault.amount_ns = rng.uniform_i64(5'000'000, 500'000'000);
      break;
    case FaultKind::bandwidth_cut:
      fault.percent = static_cast<std::uint32_t>(rng.uniform_i64(1, 50));
      break;
    case FaultKind::crash:
      fault.torn = rng.chance(0.5);
      break;
    case FaultKind::clock_jump:
      fault.amount_ns = rng.uniform_i64(-2'000'000'000, 2'000'000'000);
      fault.duration_ns = 0;
      break;
    case FaultKind::disk_read_errors:
    case FaultKind::disk_corruption:
    case FaultKind::disk_misdirected_writes:
      fault.probability = 0.01 + 0.2 * rng.uniform_01();
      break;
    case FaultKind::disk_slow:
      fault.factor = static_cast<std::uint32_t>(rng.uniform_i64(2, 50));
      break;
    case FaultKind::zone_kill:
    case FaultKind::zone_isolate:
      fault.nodes.clear();
      fault.zone = static_cast<std::uint32_t>(rng.uniform_u64(topology.zones.size()));
      break;
    case FaultKind::zone_restore:
      fault.nodes.clear();
      fault.zone = static_cast<std::uint32_t>(rng.uniform_u64(topology.zones.size()));
      fault.duration_ns = 0;
      break;
    case FaultKind::heal_network:
      fault.nodes.clear();  // It heals every network fault, of any node.
      fault.duration_ns = 0;
      break;
    case FaultKind::connection_reset:
    case FaultKind::restart:
      fault.duration_ns = 0;
      break;
    case FaultKind::pause:
    case FaultKind::disk_full:
    case FaultKind::disk_lying_fsync:
      break;
  }
}

}  // namespace

std::vector<Fault> draw_swarm(const SwarmConfig& config, const Topology& topology, Rng rng) {
  SL_ASSERT_GE(config.stop_ns, config.start_ns);
  SL_ASSERT_GT(config.duration_min_ns, 0);
  SL_ASSERT_LE(config.duration_min_ns, config.duration_max_ns);
  std::vector<Fault> faults;
  if (config.targets.empty()) return faults;
  // std::map iterates kinds in a fixed order, so the draw does not depend on insertion.
  for (const auto& [kind, rate] : config.rate_per_minute) {
    if (rate <= 0) continue;
    Rng stream = rng.fork(static_cast<std::uint64_t>(kind) + 1);
    const double mean_gap_ns = kNsPerMinute / rate;
    std::int64_t t = config.start_ns;
    while (true) {
      t += std::max<std::int64_t>(1, std::llround(stream.exponential(mean_gap_ns)));
      if (t >= config.stop_ns) break;
      Fault fault;
      fault.kind = kind;
      fault.at_ns = t;
      fault.origin = "swarm";
      fill_parameters(fault, config, topology, stream);
      if (config.liveness && fault.duration_ns > 0) {
        fault.duration_ns = std::min(fault.duration_ns, config.stop_ns - t);
      }
      faults.push_back(std::move(fault));
    }
  }
  std::stable_sort(faults.begin(), faults.end(),
                   [](const Fault& a, const Fault& b) { return a.at_ns < b.at_ns; });
  return faults;
}

}  // namespace streamlab::sim
