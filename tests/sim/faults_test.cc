#include "sim/faults.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sim/swarm.h"
#include "sim/world.h"
#include "test_world.h"

namespace streamlab::sim {
namespace {

using namespace test_util;  // NOLINT(google-build-using-namespace): test helpers.

// n0, n1 in zone 0; n2 in zone 1; n3 in zone 2.
class FaultInjectorTest : public ::testing::Test {
 protected:
  FaultInjectorTest() : world_(make_topology({0, 0, 1, 2}, {0, 0, 0}), 1), injector_(world_) {
    install_recorders(world_, log_);
  }

  void start(const std::vector<Fault>& faults) {
    injector_.schedule(faults);
    world_.start();
  }
  // Runs to `time_ns` (faults due then included), then sends.
  void send_at(std::int64_t time_ns, std::uint32_t from, std::uint32_t to,
               const std::string& text) {
    world_.run_until(time_ns);
    world_.runtime(from).send(to, bytes_of(text));
  }
  std::vector<std::string> received(std::uint32_t node) { return texts(log_.of(node, "msg")); }

  Log log_;
  World world_;
  FaultInjector injector_;
};

Fault make_fault(FaultKind kind, std::int64_t at_ns, std::int64_t duration_ns) {
  Fault fault;
  fault.kind = kind;
  fault.at_ns = at_ns;
  fault.duration_ns = duration_ns;
  return fault;
}

TEST_F(FaultInjectorTest, OverlappingFaultsOfOneKindDoNotEndEachOtherEarly) {
  Fault long_spike = make_fault(FaultKind::latency_spike, 1 * kMs, 10 * kMs);
  long_spike.nodes = {0};
  long_spike.amount_ns = 50 * kMs;
  Fault short_spike = make_fault(FaultKind::latency_spike, 2 * kMs, 1 * kMs);
  short_spike.nodes = {0, 1};
  short_spike.amount_ns = 5 * kMs;
  Fault slow = make_fault(FaultKind::disk_slow, 1 * kMs, 10 * kMs);
  slow.nodes = {2};
  slow.factor = 7;
  Fault slower = make_fault(FaultKind::disk_slow, 2 * kMs, 1 * kMs);
  slower.nodes = {2};
  slower.factor = 3;
  start({long_spike, short_spike, slow, slower});
  const std::int64_t base = world_.network().base_latency_ns(0, 2);
  world_.run_until(2 * kMs);
  EXPECT_EQ(world_.network().base_latency_ns(0, 2) - base, 5 * kMs) << "newest wins";
  EXPECT_EQ(world_.disk(2).faults().slowdown_factor, 3u);
  world_.run_until(4 * kMs);  // The short ones are lifted; the long ones still run.
  EXPECT_EQ(world_.network().base_latency_ns(0, 2) - base, 50 * kMs);
  EXPECT_EQ(world_.network().base_latency_ns(1, 2) - base, 0);
  EXPECT_EQ(world_.disk(2).faults().slowdown_factor, 7u);
  world_.run_until(12 * kMs);
  EXPECT_EQ(world_.network().base_latency_ns(0, 2) - base, 0);
  EXPECT_EQ(world_.disk(2).faults().slowdown_factor, 1u);
}

TEST_F(FaultInjectorTest, ScriptedPartitionBlocksDuringWindowThenLifts) {
  Fault partition = make_fault(FaultKind::partition, 10 * kMs, 20 * kMs);
  partition.nodes = {0};
  partition.peers = {1};
  start({partition});
  send_at(5 * kMs, 0, 1, "before");
  send_at(10 * kMs, 0, 1, "at-start");
  send_at(15 * kMs, 1, 0, "back");  // Symmetric: blocked too.
  send_at(29 * kMs, 0, 1, "inside");
  // [at, at + for): lifted by now, but the connection broke at 10 ms and n0 is told only
  // at 60 ms; until then its sends are dropped (nothing after a loss arrives).
  send_at(30 * kMs, 0, 1, "at-end");
  send_at(70 * kMs, 0, 1, "after");
  world_.run_until(kSec);
  EXPECT_EQ(received(1), (std::vector<std::string>{"msg 0 before", "msg 0 after"}));
  EXPECT_TRUE(received(0).empty());
  EXPECT_EQ(log_.times(0, "broken 1"), std::vector<std::int64_t>{60 * kMs});
  ASSERT_EQ(injector_.log().size(), 2u);
  EXPECT_EQ(injector_.log()[0].time_ns, 10 * kMs);
  EXPECT_FALSE(injector_.log()[0].lifted);
  EXPECT_EQ(injector_.log()[0].text, "partition n0 <-> n1 for 20ms");
  EXPECT_EQ(injector_.log()[1].time_ns, 30 * kMs);
  EXPECT_TRUE(injector_.log()[1].lifted);
}

TEST_F(FaultInjectorTest, PartitionWithoutPeersCutsNodeFromEveryone) {
  Fault partition = make_fault(FaultKind::partition, 0, 0);
  partition.nodes = {2};
  partition.one_way = true;
  start({partition});
  send_at(1 * kMs, 2, 0, "out");
  send_at(1 * kMs, 3, 2, "in");
  world_.run_until(kSec);
  EXPECT_TRUE(received(0).empty());
  EXPECT_EQ(received(2), std::vector<std::string>{"msg 3 in"});
}

TEST_F(FaultInjectorTest, CrashWithDurationRestarts) {
  Fault crash = make_fault(FaultKind::crash, 10 * kMs, 20 * kMs);
  crash.nodes = {1};
  start({crash});
  world_.run_until(20 * kMs);
  EXPECT_EQ(world_.state(1), NodeState::crashed);
  world_.run_until(30 * kMs);
  EXPECT_EQ(world_.state(1), NodeState::up);
  EXPECT_EQ(log_.times(1, "start"), (std::vector<std::int64_t>{0, 30 * kMs}));
}

TEST_F(FaultInjectorTest, ZoneKillCrashesZoneAndZoneRestoreRestartsIt) {
  Fault kill = make_fault(FaultKind::zone_kill, 10 * kMs, 0);
  kill.zone = 0;
  Fault restore = make_fault(FaultKind::zone_restore, 50 * kMs, 0);
  restore.zone = 0;
  start({kill, restore});
  world_.run_until(20 * kMs);
  EXPECT_EQ(world_.state(0), NodeState::crashed);
  EXPECT_EQ(world_.state(1), NodeState::crashed);
  EXPECT_EQ(world_.state(2), NodeState::up);
  EXPECT_EQ(world_.state(3), NodeState::up);
  world_.run_until(50 * kMs);
  EXPECT_EQ(world_.state(0), NodeState::up);
  EXPECT_EQ(world_.state(1), NodeState::up);
  EXPECT_EQ(log_.times(1, "start"), (std::vector<std::int64_t>{0, 50 * kMs}));
  EXPECT_EQ(log_.times(2, "start"), std::vector<std::int64_t>{0});
}

TEST_F(FaultInjectorTest, ZoneKillWithDurationRestartsWhenLifted) {
  Fault kill = make_fault(FaultKind::zone_kill, 10 * kMs, 40 * kMs);
  kill.zone = 1;
  start({kill});
  world_.run_until(49 * kMs);
  EXPECT_EQ(world_.state(2), NodeState::crashed);
  world_.run_until(50 * kMs);
  EXPECT_EQ(world_.state(2), NodeState::up);
}

TEST_F(FaultInjectorTest, ZoneIsolateBlocksOnlyCrossZoneTraffic) {
  Fault isolate = make_fault(FaultKind::zone_isolate, 10 * kMs, 100 * kMs);
  isolate.zone = 0;
  start({isolate});
  send_at(20 * kMs, 0, 2, "cross-out");
  send_at(20 * kMs, 2, 1, "cross-in");
  send_at(20 * kMs, 0, 1, "inside");
  send_at(20 * kMs, 2, 3, "elsewhere");
  send_at(110 * kMs, 0, 2, "lifted");
  world_.run_until(kSec);
  EXPECT_EQ(received(1), std::vector<std::string>{"msg 0 inside"});
  EXPECT_EQ(received(2), std::vector<std::string>{"msg 0 lifted"});
  EXPECT_EQ(received(3), std::vector<std::string>{"msg 2 elsewhere"});
}

TEST_F(FaultInjectorTest, ZoneRestoreLiftsIsolation) {
  Fault isolate = make_fault(FaultKind::zone_isolate, 10 * kMs, 0);
  isolate.zone = 0;
  Fault restore = make_fault(FaultKind::zone_restore, 50 * kMs, 0);
  restore.zone = 0;
  start({isolate, restore});
  send_at(20 * kMs, 0, 2, "blocked");
  send_at(80 * kMs, 0, 2, "restored");  // After n0 was told of the break (at 70 ms).
  world_.run_until(kSec);
  EXPECT_EQ(received(2), std::vector<std::string>{"msg 0 restored"});
  EXPECT_FALSE(world_.network().blocked(2, 0));
}

TEST_F(FaultInjectorTest, DiskFaultAppliedAndLifted) {
  Fault full = make_fault(FaultKind::disk_full, 10 * kMs, 10 * kMs);
  full.nodes = {3};
  start({full});
  world_.run_until(15 * kMs);
  EXPECT_TRUE(world_.disk(3).faults().full);
  EXPECT_FALSE(world_.disk(2).faults().full);
  world_.run_until(20 * kMs);
  EXPECT_FALSE(world_.disk(3).faults().full);
}

TEST_F(FaultInjectorTest, HealEverythingLiftsFaultsAndRestartsNodes) {
  Fault partition = make_fault(FaultKind::partition, 0, 0);
  partition.nodes = {0};
  Fault crash = make_fault(FaultKind::crash, 0, 0);
  crash.nodes = {1};
  Fault slow = make_fault(FaultKind::disk_slow, 0, 0);
  slow.nodes = {2};
  slow.factor = 10;
  start({partition, crash, slow});
  injector_.schedule_heal_everything(100 * kMs);
  world_.run_until(99 * kMs);
  EXPECT_TRUE(world_.network().blocked(0, 2));
  EXPECT_EQ(world_.state(1), NodeState::crashed);
  world_.run_until(100 * kMs);
  EXPECT_FALSE(world_.network().blocked(0, 2));
  EXPECT_EQ(world_.state(1), NodeState::up);
  EXPECT_EQ(world_.disk(2).faults().slowdown_factor, 1u);
}

// --- Swarm ----------------------------------------------------------------------------

constexpr std::int64_t kMinute = 60 * kSec;

SwarmConfig test_swarm(bool liveness) {
  SwarmConfig config;
  for (const FaultKind kind :
       {FaultKind::partition, FaultKind::clog, FaultKind::crash, FaultKind::pause,
        FaultKind::clock_jump, FaultKind::zone_kill, FaultKind::disk_full, FaultKind::bandwidth_cut,
        FaultKind::connection_reset}) {
    config.rate_per_minute[kind] = 6;
  }
  config.targets = {0, 1, 2, 3};
  config.start_ns = kSec;
  config.stop_ns = 10 * kMinute;
  config.liveness = liveness;
  return config;
}

std::vector<std::string> summary(const std::vector<Fault>& faults) {
  std::vector<std::string> out;
  for (const Fault& f : faults) {
    std::string line = std::to_string(f.at_ns) + " " + to_string(f.kind) + " for " +
                       std::to_string(f.duration_ns) + " zone " + std::to_string(f.zone) +
                       " amount " + std::to_string(f.amount_ns) + " nodes";
    for (const std::uint32_t n : f.nodes) line += " " + std::to_string(n);
    out.push_back(line);
  }
  return out;
}

const Topology& swarm_topology() {
  static const Topology topology = make_topology({0, 0, 1, 2}, {0, 0, 0});
  return topology;
}

TEST(SwarmTest, DeterministicForASeedAndDifferentAcrossSeeds) {
  const SwarmConfig config = test_swarm(false);
  const auto a = summary(draw_swarm(config, swarm_topology(), Rng(5)));
  const auto b = summary(draw_swarm(config, swarm_topology(), Rng(5)));
  const auto c = summary(draw_swarm(config, swarm_topology(), Rng(6)));
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(SwarmTest, SortedAndNoFaultAtOrAfterStop) {
  const SwarmConfig config = test_swarm(false);
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    const std::vector<Fault> faults = draw_swarm(config, swarm_topology(), Rng(seed));
    for (std::size_t i = 0; i < faults.size(); ++i) {
      EXPECT_GT(faults[i].at_ns, config.start_ns);
      EXPECT_LT(faults[i].at_ns, config.stop_ns);
      if (i > 0) {
        EXPECT_LE(faults[i - 1].at_ns, faults[i].at_ns);
      }
      for (const std::uint32_t n : faults[i].nodes) EXPECT_LT(n, 4u);
    }
  }
}

TEST(SwarmTest, LivenessModeEndsEveryFaultByStop) {
  const SwarmConfig config = test_swarm(true);
  bool some_cut_short = false;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    for (const Fault& f : draw_swarm(config, swarm_topology(), Rng(seed))) {
      EXPECT_LE(f.at_ns + f.duration_ns, config.stop_ns) << to_string(f.kind);
      some_cut_short |= f.duration_ns > 0 && f.at_ns + f.duration_ns == config.stop_ns;
    }
  }
  EXPECT_TRUE(some_cut_short);
}

TEST(SwarmTest, SafetyModeLetsFaultsRunPastStop) {
  const SwarmConfig config = test_swarm(false);
  bool some_past_stop = false;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    for (const Fault& f : draw_swarm(config, swarm_topology(), Rng(seed))) {
      some_past_stop |= f.at_ns + f.duration_ns > config.stop_ns;
    }
  }
  EXPECT_TRUE(some_past_stop);
}

TEST(SwarmTest, RateRoughlyMatches) {
  SwarmConfig config;
  config.rate_per_minute[FaultKind::partition] = 60;
  config.rate_per_minute[FaultKind::crash] = 6;
  config.targets = {0, 1, 2, 3};
  config.stop_ns = 10 * kMinute;
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    int partitions = 0;
    int crashes = 0;
    for (const Fault& f : draw_swarm(config, swarm_topology(), Rng(seed))) {
      partitions += f.kind == FaultKind::partition ? 1 : 0;
      crashes += f.kind == FaultKind::crash ? 1 : 0;
    }
    EXPECT_NEAR(partitions, 600, 150) << "seed " << seed;
    EXPECT_NEAR(crashes, 60, 30) << "seed " << seed;
  }
}

// Zone faults name a zone, not nodes; a zone restore used to restore zone 0 always.
TEST(SwarmTest, ZoneRestoresDrawTheirZoneAndNetworkHealsNameNoNode) {
  SwarmConfig config = test_swarm(false);
  config.rate_per_minute = {{FaultKind::zone_restore, 60}, {FaultKind::heal_network, 60}};
  std::set<std::uint32_t> zones;
  for (const Fault& f : draw_swarm(config, swarm_topology(), Rng(3))) {
    EXPECT_TRUE(f.nodes.empty()) << to_string(f.kind);
    EXPECT_EQ(f.duration_ns, 0);
    if (f.kind == FaultKind::zone_restore) zones.insert(f.zone);
  }
  EXPECT_EQ(zones.size(), 3u) << "every zone is restored sometimes";
}

TEST(SwarmTest, NoTargetsOrZeroRateDrawsNothing) {
  SwarmConfig config = test_swarm(false);
  config.targets.clear();
  EXPECT_TRUE(draw_swarm(config, swarm_topology(), Rng(1)).empty());
  config = test_swarm(false);
  for (auto& [kind, rate] : config.rate_per_minute) rate = 0;
  EXPECT_TRUE(draw_swarm(config, swarm_topology(), Rng(1)).empty());
}

}  // namespace
}  // namespace streamlab::sim
