#include "sim/kernel.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <queue>
#include <string>
#include <utility>
#include <vector>

#include "sim/event_queue.h"
#include "sim/rng.h"

namespace streamlab::sim {
namespace {

using Ran = std::vector<std::pair<std::int64_t, int>>;  // (now at run, label)

void add(Kernel& kernel, Ran& ran, std::int64_t time_ns, int label,
         std::uint32_t node = kKernelNode) {
  kernel.schedule_at(time_ns, node, EventKind::control,
                     [&kernel, &ran, label] { ran.emplace_back(kernel.now(), label); });
}

TEST(KernelTest, RunsEventsByTimeThenInsertionOrder) {
  Kernel kernel(1);
  Ran ran;
  add(kernel, ran, 5, 0);
  add(kernel, ran, 3, 1);
  add(kernel, ran, 5, 2);
  add(kernel, ran, 1, 3);
  add(kernel, ran, 3, 4);
  add(kernel, ran, 5, 5);
  kernel.run();
  EXPECT_EQ(ran, (Ran{{1, 3}, {3, 1}, {3, 4}, {5, 0}, {5, 2}, {5, 5}}));
  EXPECT_EQ(kernel.events_executed(), 6u);
}

TEST(KernelTest, EventScheduledByAnEventAtTheSameTimeRunsAfterTheOthers) {
  Kernel kernel(1);
  Ran ran;
  kernel.schedule_at(10, kKernelNode, EventKind::control, [&] {
    ran.emplace_back(kernel.now(), 0);
    add(kernel, ran, 10, 2);
  });
  add(kernel, ran, 10, 1);
  kernel.run();
  EXPECT_EQ(ran, (Ran{{10, 0}, {10, 1}, {10, 2}}));
}

TEST(KernelDeathTest, ScheduleInThePastAsserts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Kernel kernel(1);
  kernel.run_until(100);
  EXPECT_DEATH(kernel.schedule_at(99, kKernelNode, EventKind::control, [] {}),
               "event scheduled in the past");
}

TEST(KernelTest, CancelPreventsRunning) {
  Kernel kernel(1);
  Ran ran;
  add(kernel, ran, 1, 0);
  const EventId id = kernel.schedule_at(5, kKernelNode, EventKind::control,
                                        [&] { ran.emplace_back(kernel.now(), 1); });
  add(kernel, ran, 6, 2);
  EXPECT_TRUE(kernel.cancel(id));
  EXPECT_FALSE(kernel.cancel(id));  // Twice is a no-op.
  kernel.run();
  EXPECT_EQ(ran, (Ran{{1, 0}, {6, 2}}));
  EXPECT_EQ(kernel.events_executed(), 2u);
}

TEST(KernelTest, FirstEventEverCanBeCancelled) {
  // Regression: ids once started at 0, which cancel() also took to mean "free slot".
  Kernel kernel(1);
  Ran ran;
  const EventId first = kernel.schedule_at(5, kKernelNode, EventKind::control,
                                           [&] { ran.emplace_back(kernel.now(), 0); });
  EXPECT_TRUE(kernel.cancel(first));
  kernel.run();
  EXPECT_TRUE(ran.empty());
}

TEST(KernelTest, CancelAfterRunIsNoOpReturningFalse) {
  Kernel kernel(1);
  Ran ran;
  add(kernel, ran, 1, 0);
  const EventId id = kernel.schedule_at(5, kKernelNode, EventKind::control,
                                        [&] { ran.emplace_back(kernel.now(), 1); });
  kernel.run();
  EXPECT_FALSE(kernel.cancel(0));  // Never a valid id; a free slot must not match it.
  EXPECT_FALSE(kernel.cancel(id));
  // The freed slot is reused by a new event; the stale id must not cancel it.
  add(kernel, ran, 7, 2);
  add(kernel, ran, 8, 3);
  EXPECT_FALSE(kernel.cancel(id));
  kernel.run();
  EXPECT_EQ(ran, (Ran{{1, 0}, {5, 1}, {7, 2}, {8, 3}}));
}

TEST(KernelTest, EventCancellingItselfIsNoOp) {
  Kernel kernel(1);
  EventId id = 0;
  bool result = true;
  id = kernel.schedule_at(3, kKernelNode, EventKind::control, [&] { result = kernel.cancel(id); });
  kernel.run();
  EXPECT_FALSE(result);
  EXPECT_EQ(kernel.events_executed(), 1u);
}

TEST(KernelTest, RunUntilRunsEventsAtTheLimitAndSetsNow) {
  Kernel kernel(1);
  Ran ran;
  add(kernel, ran, 10, 0);
  add(kernel, ran, 20, 1);
  add(kernel, ran, 21, 2);
  kernel.run_until(20);
  EXPECT_EQ(ran, (Ran{{10, 0}, {20, 1}}));
  EXPECT_EQ(kernel.now(), 20);
  EXPECT_EQ(kernel.pending(), 1u);
  kernel.run_until(25);  // Past the last event: now is the limit, not the event time.
  EXPECT_EQ(kernel.now(), 25);
  kernel.run_until(1000);  // Empty queue.
  EXPECT_EQ(kernel.now(), 1000);
  EXPECT_TRUE(kernel.idle());
}

TEST(KernelTest, ScheduleBelowPeekedTimeAfterRunUntilKeepsOrder) {
  Kernel kernel(1);
  Ran ran;
  add(kernel, ran, 100, 0);
  kernel.run_until(10);  // Looked at the event at 100 and stopped.
  add(kernel, ran, 50, 1);
  add(kernel, ran, 100, 2);
  add(kernel, ran, 50, 3);
  add(kernel, ran, 10, 4);
  kernel.run();
  EXPECT_EQ(ran, (Ran{{10, 4}, {50, 1}, {50, 3}, {100, 0}, {100, 2}}));
}

std::uint64_t hash_of_schedule(const std::vector<std::int64_t>& times) {
  Kernel kernel(1);
  kernel.add_node();
  for (std::size_t i = 0; i < times.size(); ++i) {
    kernel.schedule_at(times[i], i % 2 == 0 ? 0u : kKernelNode, EventKind::timer, [] {});
  }
  kernel.run();
  return kernel.trace_hash();
}

TEST(KernelTest, TraceHashIdenticalForIdenticalSchedules) {
  const std::vector<std::int64_t> times = {5, 1, 9, 9, 2, 40};
  EXPECT_EQ(hash_of_schedule(times), hash_of_schedule(times));
}

TEST(KernelTest, TraceHashDiffersWhenOneEventTimeDiffers) {
  const std::vector<std::int64_t> times = {5, 1, 9, 9, 2, 40};
  std::vector<std::int64_t> moved = times;
  moved[2] = 10;
  EXPECT_NE(hash_of_schedule(times), hash_of_schedule(moved));
}

TEST(KernelTest, TraceHashDiffersWhenEventKindDiffers) {
  auto run = [](EventKind kind) {
    Kernel kernel(1);
    kernel.schedule_at(5, kKernelNode, kind, [] {});
    kernel.run();
    return kernel.trace_hash();
  };
  EXPECT_NE(run(EventKind::timer), run(EventKind::message));
}

TEST(KernelTest, ObserverSeesEveryExecutedEventWithRunningHash) {
  Kernel kernel(1);
  const std::uint32_t node = kernel.add_node();
  std::vector<EventRecord> seen;
  kernel.set_observer([&](const EventRecord& r) { seen.push_back(r); });
  kernel.schedule_at(4, node, EventKind::disk, [] {});
  const EventId cancelled = kernel.schedule_at(5, kKernelNode, EventKind::timer, [] {});
  kernel.schedule_at(6, kKernelNode, EventKind::fault, [] {});
  kernel.cancel(cancelled);
  kernel.run();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].index, 0u);
  EXPECT_EQ(seen[0].time_ns, 4);
  EXPECT_EQ(seen[0].node, node);
  EXPECT_EQ(seen[0].kind, EventKind::disk);
  EXPECT_EQ(seen[1].index, 1u);
  EXPECT_EQ(seen[1].kind, EventKind::fault);
  EXPECT_EQ(seen[1].trace_hash, kernel.trace_hash());
}

TEST(KernelTest, EventsOfBumpedIncarnationAreDropped) {
  Kernel kernel(1);
  const std::uint32_t node = kernel.add_node();
  Ran ran;
  add(kernel, ran, 5, 0, node);
  add(kernel, ran, 6, 1, kKernelNode);
  kernel.bump_incarnation(node);
  add(kernel, ran, 7, 2, node);  // Belongs to the new incarnation.
  kernel.run();
  EXPECT_EQ(ran, (Ran{{6, 1}, {7, 2}}));
  EXPECT_EQ(kernel.incarnation(node), 1u);
  EXPECT_EQ(kernel.events_executed(), 2u);
}

TEST(KernelTest, PausedNodeEventsDeferredToResumeInOrder) {
  Kernel kernel(1);
  const std::uint32_t node = kernel.add_node();
  const std::uint32_t other = kernel.add_node();
  Ran ran;
  kernel.pause_until(node, 100);
  EXPECT_TRUE(kernel.paused(node));
  EXPECT_FALSE(kernel.paused(other));
  add(kernel, ran, 30, 0, node);
  add(kernel, ran, 10, 1, node);
  add(kernel, ran, 30, 2, node);
  add(kernel, ran, 50, 3, other);
  add(kernel, ran, 150, 4, node);
  kernel.run();
  EXPECT_EQ(ran, (Ran{{50, 3}, {100, 1}, {100, 0}, {100, 2}, {150, 4}}));
  EXPECT_FALSE(kernel.paused(node));
}

// broker-swarm.safe seed 9769: two overlapping pauses of a broker, and the messages held by
// the first overtaken by those that arrived after the second began; the broker took a
// producer's later sends before its earlier ones and deduplication then dropped the earlier.
TEST(KernelTest, ExtendedPauseKeepsTheDeferredEventsInOrder) {
  Kernel kernel(1);
  const std::uint32_t node = kernel.add_node();
  Ran ran;
  kernel.pause_until(node, 100);
  add(kernel, ran, 10, 0, node);  // Waits for 100.
  kernel.run_until(50);
  kernel.pause_until(node, 200);  // A second pause extends the first.
  add(kernel, ran, 60, 1, node);  // Joins label 0 at 100, behind it.
  add(kernel, ran, 99, 2, node);
  add(kernel, ran, 150, 3, node);
  add(kernel, ran, 250, 4, node);
  kernel.run();
  EXPECT_EQ(ran, (Ran{{200, 0}, {200, 1}, {200, 2}, {200, 3}, {250, 4}}));
}

TEST(KernelTest, CancelWorksOnDeferredEventOfPausedNode) {
  Kernel kernel(1);
  const std::uint32_t node = kernel.add_node();
  Ran ran;
  kernel.pause_until(node, 100);
  EventId timer = 0;
  // A message that arrives during the pause cancels the node's timeout timer when the
  // node resumes (the zombie-leader case): the timer is pending, so it must not fire.
  kernel.schedule_at(5, node, EventKind::message,
                     [&] { ran.emplace_back(kernel.now(), kernel.cancel(timer) ? 1 : -1); });
  timer =
      kernel.schedule_at(10, node, EventKind::timer, [&] { ran.emplace_back(kernel.now(), 0); });
  kernel.run();
  EXPECT_EQ(ran, (Ran{{100, 1}}));
}

TEST(KernelTest, SetDownDropsEvents) {
  Kernel kernel(1);
  const std::uint32_t node = kernel.add_node();
  Ran ran;
  add(kernel, ran, 5, 0, node);
  kernel.set_down(node, true);
  add(kernel, ran, 6, 1, node);  // Scheduled while down: dropped too.
  add(kernel, ran, 7, 2);
  kernel.run_until(10);
  kernel.set_down(node, false);
  add(kernel, ran, 11, 3, node);
  kernel.run();
  EXPECT_EQ(ran, (Ran{{7, 2}, {11, 3}}));
}

TEST(EventQueueTest, AgreesWithPriorityQueueOnMonotoneRandomOps) {
  // The kernel's use: times never below the last popped one, keys issued increasing, and
  // now and then a push below the last peeked time (run_until peeked past its limit).
  EventQueue queue;
  auto later = [](const QueueEntry& a, const QueueEntry& b) { return b.before(a); };
  std::priority_queue<QueueEntry, std::vector<QueueEntry>, decltype(later)> reference(later);
  Rng rng(77);
  std::uint64_t next_key = 1;
  std::int64_t floor_ns = 0;  // The last popped time: nothing may be pushed below it.
  auto push = [&](std::int64_t time_ns) {
    const QueueEntry entry{time_ns, next_key++};
    queue.push(entry);
    reference.push(entry);
  };
  for (int op = 0; op < 10'000; ++op) {
    const double dice = rng.uniform_01();
    if (reference.empty() || dice < 0.45) {
      // Mostly near the front (many ties), sometimes far ahead (high buckets).
      const std::int64_t ahead =
          rng.chance(0.9) ? rng.uniform_i64(0, 20) : rng.uniform_i64(0, std::int64_t{1} << 40);
      push(floor_ns + ahead);
    } else if (dice < 0.55) {
      const std::int64_t peeked = queue.peek().time_ns;
      ASSERT_EQ(peeked, reference.top().time_ns) << "op " << op;
      if (peeked > floor_ns) push(rng.uniform_i64(floor_ns, peeked - 1));  // Rebase.
    } else {
      const QueueEntry got = queue.pop();
      ASSERT_EQ(got.time_ns, reference.top().time_ns) << "op " << op;
      ASSERT_EQ(got.key, reference.top().key) << "op " << op;
      reference.pop();
      floor_ns = got.time_ns;
    }
    ASSERT_EQ(queue.size(), reference.size());
  }
  while (!reference.empty()) {
    ASSERT_EQ(queue.pop().key, reference.top().key);
    reference.pop();
  }
  EXPECT_TRUE(queue.empty());
}

}  // namespace
}  // namespace streamlab::sim
