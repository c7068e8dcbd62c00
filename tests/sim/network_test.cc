#include "sim/network.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sim/world.h"
#include "test_world.h"

namespace streamlab::sim {
namespace {

using namespace test_util;  // NOLINT(google-build-using-namespace): test helpers.

// n0, n1 in zone 0; n2 in zone 1 (same region); n3 in zone 2 (another region).
constexpr std::int64_t kNicBytesPerS = 300'000'000;
constexpr std::int64_t kWithinZone = 200 * kUs;
constexpr std::int64_t kAcrossZones = 1500 * kUs;
constexpr std::int64_t kAcrossRegions = 30 * kMs;
constexpr std::int64_t kBreakDetection = 50 * kMs;

// ceil(bytes * 1e9 / bandwidth): what the NIC model charges.
std::int64_t serialization(std::int64_t bytes, std::int64_t bytes_per_s = kNicBytesPerS) {
  return (bytes * kSec + bytes_per_s - 1) / bytes_per_s;
}

Topology four_nodes() {
  Topology topology = make_topology({0, 0, 1, 2}, {0, 0, 1});
  for (NodeSpec& node : topology.nodes) node.hardware.nic_bytes_per_s = kNicBytesPerS;
  return topology;
}

class NetworkTest : public ::testing::Test {
 protected:
  void SetUp() override { build(four_nodes()); }

  void build(Topology topology) {
    log_.entries.clear();
    world_ = std::make_unique<World>(std::move(topology), 1);
    install_recorders(*world_, log_);
    world_->start();
  }
  void send(std::uint32_t from, std::uint32_t to, const std::string& text) {
    world_->runtime(from).send(to, bytes_of(text));
  }
  Network& net() { return world_->network(); }
  std::vector<std::int64_t> delivered(std::uint32_t node) { return log_.times(node, "msg"); }
  std::vector<std::int64_t> broken(std::uint32_t node, std::uint32_t peer) {
    return log_.times(node, "broken " + std::to_string(peer));
  }
  void run_for(std::int64_t ns) { world_->run_until(world_->kernel().now() + ns); }

  Log log_;
  std::unique_ptr<World> world_;
};

TEST_F(NetworkTest, ArrivalIsSerializationPlusBaseLatency) {
  const std::string payload(1000, 'x');
  const std::int64_t ser = serialization(1000);
  ASSERT_EQ(ser, 3334);  // Rounded up, not down.
  const std::pair<std::uint32_t, std::int64_t> cases[] = {
      {1, kWithinZone}, {2, kAcrossZones}, {3, kAcrossRegions}};
  for (const auto& [to, base] : cases) {
    build(four_nodes());
    send(0, to, payload);
    run_for(kSec);
    EXPECT_EQ(delivered(to), std::vector<std::int64_t>{ser + base}) << "to n" << to;
  }
}

TEST_F(NetworkTest, BackToBackMessagesQueueOnSenderNic) {
  const std::string payload(1000, 'x');
  send(0, 1, payload);
  send(0, 1, payload);
  run_for(kSec);
  const std::int64_t ser = serialization(1000);
  EXPECT_EQ(delivered(1), (std::vector<std::int64_t>{ser + kWithinZone, 2 * ser + kWithinZone}));
}

TEST_F(NetworkTest, FifoPerConnectionEvenWithLognormalJitter) {
  Topology topology = four_nodes();
  topology.latency.jitter.kind = Jitter::Kind::lognormal;
  topology.latency.jitter.sigma = 1.0;
  build(std::move(topology));
  for (int i = 0; i < 1000; ++i) send(0, 1, std::to_string(i));
  run_for(10 * kSec);
  const std::vector<Entry> got = log_.of(1, "msg");
  ASSERT_EQ(got.size(), 1000u);
  std::set<std::int64_t> gaps;
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(got[i].what, "msg 0 " + std::to_string(i));
    if (i > 0) gaps.insert(got[i].time_ns - got[i - 1].time_ns);
  }
  EXPECT_GT(gaps.size(), 10u);  // The jitter really varied the flight times.
}

TEST_F(NetworkTest, OneWayPartitionBlocksOnlyThatDirectionAndSenderLearns) {
  net().partition({0}, {1}, /*one_way=*/true);
  EXPECT_TRUE(net().blocked(0, 1));
  EXPECT_FALSE(net().blocked(1, 0));
  send(0, 1, "a");
  send(1, 0, "b");
  run_for(kSec);
  EXPECT_TRUE(delivered(1).empty());
  EXPECT_EQ(log_.of(0, "msg"),
            (std::vector<Entry>{{serialization(1) + kWithinZone, 0, "msg 1 b"}}));
  EXPECT_EQ(broken(0, 1), std::vector<std::int64_t>{kBreakDetection});
  EXPECT_TRUE(log_.of(1, "broken").empty());
}

TEST_F(NetworkTest, SymmetricPartitionBlocksBothDirections) {
  net().partition({0}, {1}, /*one_way=*/false);
  send(0, 1, "a");
  send(1, 0, "b");
  send(0, 2, "c");  // Not part of the partition.
  run_for(kSec);
  EXPECT_TRUE(delivered(1).empty());
  EXPECT_TRUE(delivered(0).empty());
  EXPECT_EQ(delivered(2).size(), 1u);
  EXPECT_EQ(broken(0, 1), std::vector<std::int64_t>{kBreakDetection});
  EXPECT_EQ(broken(1, 0), std::vector<std::int64_t>{kBreakDetection});
}

TEST_F(NetworkTest, PartitionMetInFlightDropsMessage) {
  send(0, 1, "a");  // Arrives after kWithinZone, by which time the partition is up.
  run_for(100 * kUs);
  net().partition({0}, {1}, /*one_way=*/true);
  run_for(kSec);
  EXPECT_TRUE(delivered(1).empty());
  EXPECT_EQ(broken(0, 1),
            std::vector<std::int64_t>{serialization(1) + kWithinZone + kBreakDetection});
}

TEST_F(NetworkTest, BrokenConnectionDropsLaterInFlightMessagesToo) {
  const std::string payload(1000, 'x');
  send(0, 1, payload);  // Arrives at ser + 200 us.
  send(0, 1, payload);  // One ser later.
  run_for(100 * kUs);
  const FaultHandle handle = net().partition({0}, {1}, /*one_way=*/true);
  world_->run_until(serialization(1000) + kWithinZone);  // The first meets the partition.
  net().remove(handle);  // Lifted before the second arrives: it is dropped all the same.
  run_for(kSec);
  EXPECT_TRUE(delivered(1).empty());
  EXPECT_EQ(net().stats().messages_dropped, 2u);
  EXPECT_EQ(broken(0, 1),
            std::vector<std::int64_t>{serialization(1000) + kWithinZone + kBreakDetection});
}

TEST_F(NetworkTest, SenderLearnsOncePerBreak) {
  net().partition({0}, {1}, /*one_way=*/true);
  send(0, 1, "a");
  run_for(10 * kMs);
  send(0, 1, "b");  // Same break, notification already pending.
  run_for(50 * kMs);
  send(0, 1, "c");  // Reconnects, meets the partition again: a new break.
  run_for(kSec);
  EXPECT_EQ(broken(0, 1), (std::vector<std::int64_t>{kBreakDetection, 60 * kMs + kBreakDetection}));
  EXPECT_EQ(net().stats().messages_sent, 3u);
  EXPECT_EQ(net().stats().messages_dropped, 3u);
  EXPECT_EQ(net().bytes_sent_by(0), 3u);
}

// TCP's rule: once a message is lost, nothing later arrives on that connection. A send
// after the break but before the sender is told is dropped even with the partition gone,
// so the receiver never sees "a" lost and "c" arrive as one ordered stream.
TEST_F(NetworkTest, NothingAfterALossArrivesUntilTheSenderIsTold) {
  const FaultHandle handle = net().partition({0}, {1}, /*one_way=*/true);
  send(0, 1, "a");
  net().remove(handle);
  run_for(10 * kMs);
  send(0, 1, "c");  // The partition is gone, the break is not told yet: dropped.
  run_for(kBreakDetection);
  EXPECT_EQ(broken(0, 1), std::vector<std::int64_t>{kBreakDetection});
  send(0, 1, "d");  // Told: reconnects.
  run_for(kSec);
  ASSERT_EQ(log_.of(1, "msg").size(), 1u);
  EXPECT_EQ(log_.of(1, "msg")[0].what, "msg 0 d");
  EXPECT_EQ(net().stats().messages_dropped, 2u);
  EXPECT_EQ(broken(0, 1).size(), 1u);
}

TEST_F(NetworkTest, TrafficFlowsAgainAfterRemove) {
  const FaultHandle handle = net().partition({0}, {1}, /*one_way=*/false);
  send(0, 1, "lost");
  run_for(100 * kMs);
  net().remove(handle);
  EXPECT_FALSE(net().blocked(0, 1));
  send(0, 1, "found");
  run_for(kSec);
  EXPECT_EQ(log_.of(1, "msg"),
            (std::vector<Entry>{{100 * kMs + serialization(5) + kWithinZone, 1, "msg 0 found"}}));
}

TEST_F(NetworkTest, ClogAddsItsDelayBothWays) {
  net().clog({0}, {1}, 3 * kMs);
  send(0, 1, "a");
  send(1, 0, "b");
  send(2, 3, "c");
  run_for(kSec);
  const std::int64_t ser = serialization(1);
  EXPECT_EQ(delivered(1), std::vector<std::int64_t>{ser + kWithinZone + 3 * kMs});
  EXPECT_EQ(delivered(0), std::vector<std::int64_t>{ser + kWithinZone + 3 * kMs});
  EXPECT_EQ(delivered(3), std::vector<std::int64_t>{ser + kAcrossRegions});
  EXPECT_EQ(net().base_latency_ns(0, 1), kWithinZone + 3 * kMs);
}

TEST_F(NetworkTest, LatencySpikeAddsToAllOfNodeTraffic) {
  net().set_latency_spike(0, 5 * kMs);
  send(0, 1, "out");
  send(2, 0, "in");
  send(1, 2, "other");
  run_for(kSec);
  EXPECT_EQ(delivered(1), std::vector<std::int64_t>{serialization(3) + kWithinZone + 5 * kMs});
  EXPECT_EQ(delivered(0), std::vector<std::int64_t>{serialization(2) + kAcrossZones + 5 * kMs});
  EXPECT_EQ(delivered(2), std::vector<std::int64_t>{serialization(5) + kAcrossZones});
}

TEST_F(NetworkTest, BandwidthCutToHalfDoublesSerialization) {
  const std::string payload(3000, 'x');
  ASSERT_EQ(serialization(3000), 10 * kUs);
  net().set_bandwidth_percent(0, 50);
  send(0, 1, payload);
  run_for(kSec);
  EXPECT_EQ(delivered(1), std::vector<std::int64_t>{20 * kUs + kWithinZone});
}

TEST_F(NetworkTest, ResetConnectionDropsInFlightAndNotifiesBothEnds) {
  send(0, 1, "a");
  send(1, 0, "b");
  run_for(100 * kUs);  // Both still in flight.
  net().reset_connection(0, 1);
  run_for(kSec);
  EXPECT_TRUE(delivered(0).empty());
  EXPECT_TRUE(delivered(1).empty());
  EXPECT_EQ(broken(0, 1), std::vector<std::int64_t>{100 * kUs + kBreakDetection});
  EXPECT_EQ(broken(1, 0), std::vector<std::int64_t>{100 * kUs + kBreakDetection});
  // The next send reconnects.
  send(0, 1, "again");
  run_for(kSec);
  EXPECT_EQ(delivered(1).size(), 1u);
}

TEST_F(NetworkTest, MessageToCrashedNodeDroppedAndSenderLearns) {
  world_->crash(1);
  send(0, 1, "a");
  run_for(kSec);
  EXPECT_TRUE(log_.of(1, "msg").empty());
  EXPECT_EQ(broken(0, 1), std::vector<std::int64_t>{kBreakDetection});
  EXPECT_EQ(net().stats().messages_dropped, 1u);
  EXPECT_EQ(net().stats().messages_delivered, 0u);
}

TEST_F(NetworkTest, InFlightMessageToNodeThatCrashesIsDropped) {
  send(0, 1, "a");
  run_for(100 * kUs);
  world_->crash(1);
  run_for(kSec);
  EXPECT_TRUE(log_.of(1, "msg").empty());
  EXPECT_EQ(broken(0, 1), std::vector<std::int64_t>{100 * kUs + kBreakDetection});
}

TEST_F(NetworkTest, HealAllLiftsEverything) {
  net().partition({0}, {1}, /*one_way=*/true);
  net().clog({0}, {2}, 7 * kMs);
  net().set_latency_spike(3, 9 * kMs);
  net().set_bandwidth_percent(0, 10);
  net().heal_all();
  EXPECT_FALSE(net().blocked(0, 1));
  EXPECT_EQ(net().base_latency_ns(2, 0), kAcrossZones);
  send(0, 1, "a");
  send(2, 0, "b");
  send(3, 1, "c");
  run_for(kSec);
  const std::int64_t ser = serialization(1);
  EXPECT_EQ(delivered(1), (std::vector<std::int64_t>{ser + kWithinZone, ser + kAcrossRegions}));
  EXPECT_EQ(delivered(0), std::vector<std::int64_t>{ser + kAcrossZones});
}

TEST_F(NetworkTest, RemoveAfterHealAllIsNoOp) {
  const FaultHandle handle = net().partition({0}, {1}, /*one_way=*/false);
  net().heal_all();
  net().remove(handle);
  EXPECT_FALSE(net().blocked(0, 1));
  EXPECT_FALSE(net().blocked(1, 0));
}

Topology one_receiver(std::uint32_t cores) {
  Topology topology = make_topology({0, 0, 0, 0}, {0});
  topology.nodes[0].hardware.cpu.cores = cores;
  topology.nodes[0].hardware.cpu.of(Work::receive).per_message_ns = kMs;
  return topology;
}

TEST_F(NetworkTest, CpuModelOneCoreServesMessagesOneAfterAnother) {
  build(one_receiver(1));
  for (std::uint32_t sender = 1; sender <= 3; ++sender) send(sender, 0, "x");
  run_for(kSec);
  const std::int64_t arrival = serialization(1, HardwareProfile{}.nic_bytes_per_s) + kWithinZone;
  EXPECT_EQ(delivered(0),
            (std::vector<std::int64_t>{arrival + kMs, arrival + 2 * kMs, arrival + 3 * kMs}));
}

TEST_F(NetworkTest, CpuModelThreeCoresServeMessagesInParallel) {
  build(one_receiver(3));
  for (std::uint32_t sender = 1; sender <= 3; ++sender) send(sender, 0, "x");
  run_for(kSec);
  const std::vector<std::int64_t> times = delivered(0);
  ASSERT_EQ(times.size(), 3u);
  EXPECT_LT(times[2] - times[0], kUs);  // Only ingress contention, nanoseconds.
}

// Work a node charges holds back what it sends next, and counts on its CPU.
TEST_F(NetworkTest, ChargedWorkDelaysTheSendsAfterIt) {
  Topology topology = make_topology({0, 0}, {0});
  topology.nodes[0].hardware.cpu.cores = 1;
  topology.nodes[0].hardware.cpu.of(Work::publish) = WorkCost{2 * kMs, 1'000'000};  // 1 us/B.
  topology.nodes[0].hardware.cpu.of(Work::send) = WorkCost{kMs, 0};
  build(std::move(topology));
  world_->runtime(0).charge(Work::publish, 1000);  // 2 ms + 1 ms.
  send(0, 1, "x");                                 // Its send work: 1 ms more.
  run_for(kSec);
  const std::int64_t arrival =
      4 * kMs + serialization(1, HardwareProfile{}.nic_bytes_per_s) + kWithinZone;
  EXPECT_EQ(delivered(1), (std::vector<std::int64_t>{arrival}));
  EXPECT_EQ(world_->cpu(0).busy_ns(), 4 * kMs);
  EXPECT_EQ(world_->network().nic_busy(0).out_ns, serialization(1, HardwareProfile{}.nic_bytes_per_s));
}

}  // namespace
}  // namespace streamlab::sim
