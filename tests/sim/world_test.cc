#include "sim/world.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "sim/sim_runtime.h"
#include "test_world.h"

namespace streamlab::sim {
namespace {

using namespace test_util;  // NOLINT(google-build-using-namespace): test helpers.

// Each incarnation arms a 1 s timer and reads back file "f".
void timer_and_read(RecordingNode& node) {
  node.runtime().after(kSec, [&node] { node.record("timer"); });
  node.runtime().disk_read("f", 0, 100, [&node](IoStatus, std::span<const std::uint8_t> b) {
    node.record("read " + text_of(b));
  });
}

// Ticks every 100 ms, recording the node's own clock.
void tick(RecordingNode& node) {
  node.runtime().after(100 * kMs, [&node] {
    node.record("tick " + std::to_string(node.runtime().now()));
    tick(node);
  });
}

TEST(WorldTest, CrashDestroysActorDropsTimersAndUnsyncedWritesRestartRecovers) {
  bool destroyed = false;
  Log log;
  World world(make_topology({0, 0}, {0}), 1);
  install_recorders(world, log, timer_and_read);
  world.set_factory(0, [&](Runtime& runtime) {
    return std::make_unique<RecordingNode>(runtime, world.kernel(), log, timer_and_read,
                                           &destroyed);
  });
  world.start();
  world.run_until(kMs);  // The first incarnation has read an empty "f".
  SimRuntime& rt = world.runtime(0);
  rt.disk_write("f", 0, bytes_of("durable"), [](IoStatus) {});
  rt.disk_fsync("f", [](IoStatus) {});
  world.run_until(10 * kMs);
  rt.disk_write("f", 7, bytes_of("+volatile"), [](IoStatus) {});
  world.run_until(20 * kMs);
  EXPECT_EQ(text_of(world.disk(0).contents("f")), "durable+volatile");
  bool pending_completed = false;
  rt.disk_write("g", 0, bytes_of("pending"), [&](IoStatus) { pending_completed = true; });

  world.crash(0);
  EXPECT_TRUE(destroyed);
  EXPECT_EQ(world.actor(0), nullptr);
  EXPECT_EQ(world.state(0), NodeState::crashed);
  EXPECT_EQ(text_of(world.disk(0).contents("f")), "durable");
  world.run_until(2 * kSec);
  EXPECT_TRUE(log.of(0, "timer").empty());  // The first incarnation's 1 s timer never fires.
  EXPECT_FALSE(pending_completed);
  EXPECT_EQ(text_of(world.disk(0).contents("g")), "");

  world.restart(0);
  EXPECT_EQ(world.state(0), NodeState::up);
  world.run_until(3500 * kMs);
  EXPECT_EQ(log.times(0, "start"), (std::vector<std::int64_t>{0, 2 * kSec}));
  EXPECT_EQ(texts(log.of(0, "read")), (std::vector<std::string>{"read ", "read durable"}));
  EXPECT_EQ(log.times(0, "timer"), std::vector<std::int64_t>{3 * kSec});
  EXPECT_EQ(log.times(1, "timer"), std::vector<std::int64_t>{kSec});  // Untouched.
}

TEST(WorldTest, PausedNodeRunsNothingThenResumesWithClockJumped) {
  Log log;
  World world(make_topology({0, 0}, {0}), 1);
  install_recorders(world, log, tick);
  world.start();
  world.run_until(250 * kMs);
  const std::int64_t before = world.runtime(0).now();
  world.pause(0, kSec);
  EXPECT_TRUE(world.paused(0));
  world.run_until(600 * kMs);
  world.runtime(1).send(0, bytes_of("hello"));  // Arrives during the pause.
  world.run_until(1250 * kMs - 1);
  for (const Entry& e : log.of(0)) EXPECT_LE(e.time_ns, 250 * kMs) << e.what;
  world.run_until(1300 * kMs);
  EXPECT_FALSE(world.paused(0));
  const std::vector<Entry> after = log.of(0);
  ASSERT_GE(after.size(), 5u);
  // start, tick at 100 and 200 ms; at the resume the overdue tick, then the message.
  EXPECT_EQ(after[3], (Entry{1250 * kMs, 0, "tick " + std::to_string(1250 * kMs)}));
  EXPECT_EQ(after[4], (Entry{1250 * kMs, 0, "msg 1 hello"}));
  EXPECT_EQ(1250 * kMs - before, kSec);         // The node's clock jumped by the pause length.
  EXPECT_EQ(log.times(1, "tick").size(), 13u);  // The other node kept ticking.
}

TEST(WorldTest, ShorterSecondPauseDoesNotCutTheFirstShort) {
  Log log;
  World world(make_topology({0, 0}, {0}), 1);
  install_recorders(world, log, [](RecordingNode& node) {
    node.runtime().after(500 * kMs, [&node] { node.record("timer"); });
  });
  world.start();
  world.run_until(100 * kMs);
  world.pause(0, 10 * kSec);  // Until 10.1 s.
  world.run_until(kSec);      // The 500 ms timer is overdue, waiting for the resume.
  world.pause(0, kSec);       // Overlapping fault (swarm): would end at 2 s.
  world.runtime(1).send(0, bytes_of("hi"));
  world.run_until(20 * kSec);
  const std::vector<std::int64_t> timer = log.times(0, "timer");
  const std::vector<std::int64_t> msg = log.times(0, "msg");
  ASSERT_EQ(timer.size(), 1u);
  ASSERT_EQ(msg.size(), 1u);
  // Overlapping pauses extend each other: deferred events run at the one resume, in order.
  EXPECT_LE(timer[0], msg[0]);
  EXPECT_EQ(timer[0], 10100 * kMs);
  EXPECT_EQ(msg[0], 10100 * kMs);
}

TEST(WorldTest, CrashDuringPauseThenRestartStartsAtOnce) {
  Log log;
  World world(make_topology({0}, {0}), 1);
  install_recorders(world, log);
  world.start();
  world.run_until(10 * kMs);
  world.pause(0, 10 * kSec);
  world.crash(0);
  world.restart(0);
  world.run_until(20 * kMs);
  EXPECT_EQ(log.times(0, "start"), (std::vector<std::int64_t>{0, 10 * kMs}));
}

TEST(WorldTest, ClockOffsetIsReflectedInNow) {
  Topology topology = make_topology({0, 0}, {0});
  topology.nodes[0].clock_offset_ns = 5 * kSec;
  World world(std::move(topology), 1);
  EXPECT_EQ(world.runtime(0).now(), 5 * kSec);
  EXPECT_EQ(world.runtime(1).now(), 0);
  world.run_until(kSec);
  EXPECT_EQ(world.runtime(0).now(), 6 * kSec);
}

// Kernel time at which a timer of `delay` armed at kernel time 1 s fires.
std::int64_t timer_fire_time(std::int64_t drift_ppm, std::int64_t delay) {
  Topology topology = make_topology({0}, {0});
  topology.nodes[0].clock_drift_ppm = drift_ppm;
  World world(std::move(topology), 1);
  world.run_until(kSec);
  std::int64_t fired = -1;
  world.runtime(0).after(delay, [&] { fired = world.kernel().now(); });
  world.run_until(10 * kSec);
  return fired;
}

TEST(WorldTest, ClockDriftScalesNowAndTimers) {
  Topology topology = make_topology({0, 0}, {0});
  topology.nodes[0].clock_drift_ppm = 1000;  // 0.1 % fast.
  topology.nodes[1].clock_drift_ppm = -1000;
  World world(std::move(topology), 1);
  world.run_until(kSec);
  EXPECT_EQ(world.runtime(0).now(), kSec + kMs);
  EXPECT_EQ(world.runtime(1).now(), kSec - kMs);
  // after(d) fires after d / (1 + drift) of kernel time, give or take the rounding.
  EXPECT_NEAR(timer_fire_time(1000, kSec), kSec + 999'000'999.0, 1.0);     // 1e9 / 1.001
  EXPECT_NEAR(timer_fire_time(-1000, kSec), kSec + 1'001'001'001.0, 1.0);  // 1e9 / 0.999
  EXPECT_EQ(timer_fire_time(0, kSec), 2 * kSec);
}

TEST(WorldTest, TimerNeverFiresEarlyOnTheNodesOwnClock) {
  std::vector<std::string> early;
  for (const std::int64_t drift : {1000, 37, -250, -1000}) {
    for (const std::int64_t delay : {kSec, 3 * kMs + 7, 999 * kUs}) {
      Topology topology = make_topology({0}, {0});
      topology.nodes[0].clock_drift_ppm = drift;
      World world(std::move(topology), 1);
      world.run_until(123'456'789);
      SimRuntime& rt = world.runtime(0);
      const std::int64_t armed = rt.now();
      std::int64_t elapsed = -1;
      rt.after(delay, [&] { elapsed = rt.now() - armed; });
      world.run_until(10 * kSec);
      if (elapsed < delay) {
        early.push_back("drift " + std::to_string(drift) + "ppm after(" + std::to_string(delay) +
                        ") saw " + std::to_string(elapsed));
      }
    }
  }
  std::string cases;
  for (const std::string& e : early) cases += e + "; ";
  EXPECT_TRUE(early.empty()) << "timers fired before now() advanced by their delay: " << cases;
}

TEST(WorldTest, JumpClockMovesForwardAndNeverBackwards) {
  World world(make_topology({0}, {0}), 1);
  SimRuntime& rt = world.runtime(0);
  world.run_until(kSec);
  world.jump_clock(0, 10 * kSec);
  EXPECT_EQ(rt.now(), 11 * kSec);
  world.jump_clock(0, -20 * kSec);  // The clock says -9 s: now() holds at 11 s.
  EXPECT_EQ(rt.now(), 11 * kSec);
  world.run_until(2 * kSec);
  EXPECT_EQ(rt.now(), 11 * kSec);
  world.run_until(21 * kSec);
  EXPECT_EQ(rt.now(), 11 * kSec);
  world.run_until(22 * kSec);
  EXPECT_EQ(rt.now(), 12 * kSec);  // Caught up; runs on from there.
}

TEST(WorldTest, PeersOfCrashedNodeLearnIfTheyHadAConnection) {
  Log log;
  World world(make_topology({0, 0, 0}, {0}), 1);
  install_recorders(world, log);
  world.start();
  world.runtime(1).send(0, bytes_of("hi"));
  world.run_until(10 * kMs);
  ASSERT_EQ(log.of(0, "msg").size(), 1u);
  world.crash(0);
  world.run_until(kSec);
  EXPECT_EQ(log.times(1, "broken 0"), std::vector<std::int64_t>{10 * kMs + 50 * kMs});
  EXPECT_TRUE(log.of(2, "broken").empty());  // Never connected: nothing to learn.
}

TEST(WorldTest, RestartedNodeAcceptsNewConnections) {
  Log log;
  World world(make_topology({0, 0}, {0}), 1);
  install_recorders(world, log);
  world.start();
  world.crash(0);
  world.runtime(1).send(0, bytes_of("lost"));
  world.run_until(100 * kMs);
  world.restart(0);
  world.runtime(1).send(0, bytes_of("found"));
  world.run_until(200 * kMs);
  EXPECT_EQ(texts(log.of(0, "msg")), std::vector<std::string>{"msg 1 found"});
}

TEST(WorldTest, NodeLookupsByNameAndZone) {
  World world(make_topology({0, 1, 1}, {0, 0}), 1);
  EXPECT_EQ(world.node_id("n2"), 2u);
  EXPECT_EQ(world.node_id("nope"), kNoNode);
  EXPECT_EQ(world.nodes_in_zone(1), (std::vector<std::uint32_t>{1, 2}));
  EXPECT_EQ(world.runtime(1).node_name(2), "n2");
  EXPECT_EQ(world.runtime(1).node_count(), 3u);
}

}  // namespace
}  // namespace streamlab::sim
