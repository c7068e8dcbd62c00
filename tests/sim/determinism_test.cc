// Whole-world determinism: actors that draw their delays, peers and sizes from
// Runtime::random, exchange messages, write and read their disks, under a swarm of every
// fault kind. A seed must fix everything: the trace hash and the event count.

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <span>
#include <vector>

#include "sim/faults.h"
#include "sim/swarm.h"
#include "sim/world.h"
#include "test_world.h"

namespace streamlab::sim {
namespace {

using namespace test_util;  // NOLINT(google-build-using-namespace): test helpers.

class Chatter final : public Node {
 public:
  explicit Chatter(Runtime& runtime) : rt_(runtime) {}

  void on_start() override { arm(); }
  void on_message(NodeId from, std::span<const std::uint8_t> bytes) override {
    if (rt_.random() % 2 == 0) rt_.send(from, bytes.first(std::min<std::size_t>(bytes.size(), 16)));
    rt_.disk_write("log", offset_, bytes, [this](IoStatus status) {
      if (status == IoStatus::ok && rt_.random() % 4 == 0) rt_.disk_fsync("log", [](IoStatus) {});
    });
    offset_ += bytes.size();
  }
  void on_connection_broken(NodeId peer) override {
    rt_.send(peer, std::vector<std::uint8_t>(4, 1));
  }

 private:
  void arm() {
    rt_.after(1 + static_cast<Nanos>(rt_.random() % (10 * kMs)), [this] { fire(); });
  }
  void fire() {
    const auto to = static_cast<NodeId>(rt_.random() % rt_.node_count());
    if (to != rt_.self()) rt_.send(to, std::vector<std::uint8_t>(8 + rt_.random() % 200, 7));
    if (rt_.random() % 8 == 0) {
      rt_.disk_read("log", rt_.random() % 1024, 64, [](IoStatus, std::span<const std::uint8_t>) {});
    }
    arm();
  }

  Runtime& rt_;
  std::uint64_t offset_ = 0;
};

struct RunResult {
  std::uint64_t trace_hash;
  std::uint64_t events_executed;
  std::uint64_t messages_delivered;
  std::size_t faults;

  bool operator==(const RunResult&) const = default;
};

constexpr std::int64_t kStop = 3 * kSec;
constexpr std::int64_t kEnd = 4 * kSec;

// A world and its fault injector; advance() runs it in steps so that two can interleave.
class ChatterWorld {
 public:
  explicit ChatterWorld(std::uint64_t seed) : world_(topology(), seed), injector_(world_) {
    for (std::uint32_t n = 0; n < world_.node_count(); ++n) {
      world_.set_factory(n, [](Runtime& runtime) { return std::make_unique<Chatter>(runtime); });
    }
    SwarmConfig config;
    for (int k = 0; k < kFaultKindCount; ++k) config.rate_per_minute[FaultKind(k)] = 30;
    for (std::uint32_t n = 0; n < world_.node_count(); ++n) config.targets.push_back(n);
    config.stop_ns = kStop;
    config.liveness = true;
    config.duration_min_ns = 10 * kMs;
    config.duration_max_ns = 500 * kMs;
    faults_ = draw_swarm(config, world_.topology(), world_.kernel().rng().fork(77));
    injector_.schedule(faults_);
    injector_.schedule_heal_everything(kStop);
    world_.start();
  }

  void advance(std::int64_t until_ns) { world_.run_until(until_ns); }
  RunResult result() {
    return {world_.kernel().trace_hash(), world_.kernel().events_executed(),
            world_.network().stats().messages_delivered, faults_.size()};
  }

 private:
  static Topology topology() {
    Topology topology = make_topology({0, 0, 1, 1, 2}, {0, 0, 1});
    topology.latency.jitter.kind = Jitter::Kind::lognormal;
    topology.latency.jitter.sigma = 0.3;
    for (NodeSpec& node : topology.nodes) node.hardware.cpu = CpuProfile{};  // Costs on.
    topology.nodes[4].clock_drift_ppm = 200;
    return topology;
  }

  World world_;
  FaultInjector injector_;
  std::vector<Fault> faults_;
};

RunResult run_once(std::uint64_t seed) {
  ChatterWorld world(seed);
  world.advance(kEnd);
  return world.result();
}

TEST(DeterminismTest, SameSeedSameTraceHashAndEventCount) {
  const RunResult first = run_once(42);
  const RunResult second = run_once(42);
  EXPECT_EQ(first, second);
  EXPECT_GT(first.events_executed, 2'000u);
  EXPECT_GT(first.messages_delivered, 500u);
  EXPECT_GT(first.faults, 10u);
}

TEST(DeterminismTest, DifferentSeedsDifferentTraceHashes) {
  const std::uint64_t a = run_once(1).trace_hash;
  const std::uint64_t b = run_once(2).trace_hash;
  const std::uint64_t c = run_once(3).trace_hash;
  EXPECT_NE(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(b, c);
}

TEST(DeterminismTest, TwoWorldsInterleavedInOneProcessMatchSoloRuns) {
  ChatterWorld x(7);
  ChatterWorld y(8);
  for (std::int64_t t = 0; t <= kEnd; t += 37 * kMs) {
    x.advance(t);
    y.advance(t);
  }
  x.advance(kEnd);
  y.advance(kEnd);
  EXPECT_EQ(x.result(), run_once(7));
  EXPECT_EQ(y.result(), run_once(8));
}

TEST(DeterminismTest, SwarmOfEveryFaultKindRunsCleanAcrossSeeds) {
  // Any assertion inside sim/ aborts the binary; reaching the end is the check.
  for (std::uint64_t seed = 100; seed < 108; ++seed) {
    const RunResult result = run_once(seed);
    EXPECT_GT(result.events_executed, 0u) << "seed " << seed;
  }
}

}  // namespace
}  // namespace streamlab::sim
