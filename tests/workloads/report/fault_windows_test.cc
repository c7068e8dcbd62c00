#include "workloads/report/fault_windows.h"

#include <gtest/gtest.h>

#include <vector>

namespace streamlab::workloads {
namespace {

constexpr std::int64_t kS = 1'000'000'000;

sim::FaultLogEntry inject(std::int64_t s, const char* text) { return {s * kS, false, text}; }
sim::FaultLogEntry lift(std::int64_t s, const char* text) { return {s * kS, true, text}; }

TEST(FaultWindows, AnInjectionLastsUntilItsLift) {
  const auto w = fault_windows({inject(5, "crash server for 1s (f:28)"),
                                inject(6, "partition a <-> b for 3s (swarm)"),
                                lift(6, "crash server for 1s (f:28)"),
                                lift(9, "partition a <-> b for 3s (swarm)")},
                               20 * kS);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].log_index, 0u);
  EXPECT_EQ(w[0].from_ns, 5 * kS);
  EXPECT_EQ(w[0].to_ns, 6 * kS);
  EXPECT_FALSE(w[0].until_end);
  EXPECT_EQ(w[1].log_index, 1u);
  EXPECT_EQ(w[1].to_ns, 9 * kS);
}

TEST(FaultWindows, APauseLastsItsLength) {
  const auto w = fault_windows({inject(10, "pause broker-a for 15s (f:48)"),
                                inject(40, "pause broker-b for 1.5s (swarm)")},
                               45 * kS);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].to_ns, 25 * kS);
  EXPECT_EQ(w[1].to_ns, 41 * kS + kS / 2);
}

TEST(FaultWindows, InstantsAndTheLivenessHealAreLines) {
  const auto w = fault_windows({inject(2, "connection_reset broker-a (f:1)"),
                                lift(3, "connection_reset broker-a (f:1)"),
                                lift(30, "heal everything (liveness phase)")},
                               50 * kS);
  ASSERT_EQ(w.size(), 2u);  // An instant's lift undoes nothing: no mark of its own.
  EXPECT_EQ(w[0].from_ns, w[0].to_ns);
  EXPECT_EQ(w[1].log_index, 2u);
  EXPECT_EQ(w[1].from_ns, 30 * kS);
  EXPECT_EQ(w[1].to_ns, 30 * kS);
}

TEST(FaultWindows, ACrashLastsUntilItsNodeRestarts) {
  const auto w = fault_windows({inject(12, "crash broker-a (f:48)"),
                                inject(15, "crash broker-b (f:49)"),
                                inject(22, "restart broker-a (f:50)")},
                               40 * kS);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].to_ns, 22 * kS);
  EXPECT_FALSE(w[0].until_end);
  EXPECT_EQ(w[1].to_ns, 40 * kS);  // Never restarted.
  EXPECT_TRUE(w[1].until_end);
  EXPECT_EQ(w[2].from_ns, w[2].to_ns);
}

TEST(FaultWindows, HealsEndWhatTheyHeal) {
  const auto w = fault_windows({inject(1, "partition a (f:1)"),
                                inject(2, "zone_kill zone b wiping disks (f:2)"),
                                inject(3, "disk_slow c (f:3)"),
                                inject(4, "heal_network (f:4)"),
                                inject(5, "zone_restore zone b (f:5)"),
                                lift(8, "heal everything (liveness phase)")},
                               10 * kS);
  ASSERT_EQ(w.size(), 6u);
  EXPECT_EQ(w[0].to_ns, 4 * kS);  // partition: heal_network.
  EXPECT_EQ(w[1].to_ns, 5 * kS);  // zone_kill: zone_restore of its zone.
  EXPECT_EQ(w[2].to_ns, 8 * kS);  // Anything: the liveness heal.
  EXPECT_FALSE(w[2].until_end);
}

TEST(FaultWindows, OriginsComeOffForLabels) {
  EXPECT_EQ(without_origin("pause broker-a for 15s (workloads/x.textproto:48)"),
            "pause broker-a for 15s");
  EXPECT_EQ(without_origin("crash a (swarm)"), "crash a");
  EXPECT_EQ(without_origin("heal everything (liveness phase)"), "heal everything");
  EXPECT_EQ(without_origin("restart a"), "restart a");
}

}  // namespace
}  // namespace streamlab::workloads
