// The queue checker on what the consumers got: duplicate-delivery (a delivery after the
// ack, not an at-least-once redelivery before it), unseen, poll-skip and nonmonotonic-poll,
// and how the subscription's type and a rewinding redelivery change what is a hole or a
// step back.

#include "workloads/checkers/queue_checker.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "broker/pulsar/pulsar.pb.h"
#include "tests/workloads/checkers/queue_runs.h"

namespace streamlab::workloads {
namespace {

using test::anomalies_of;
using test::consume_all;
using test::contains;
using test::count;
using test::example;
using test::kMs;
using test::Pos;
using test::QueueRun;
using test::three_batches;

TEST(QueueChecker, DeliveryAfterTheAckIsDuplicateDelivery) {
  QueueRun run = three_batches();
  consume_all(run, 100 * kMs);
  run.poll(500 * kMs, 3, "p1", 2, Pos{1, 0, 1});  // Acked at 111ms; redelivered anyway.

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "duplicate-delivery"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "duplicate-delivery"),
                       "subscription \"sub\" got p1 message #2 of orders (ledger 1 entry 0 batch "
                       "index 1) on client-3 at 0.500000s, after it had acknowledged it at "
                       "0.111000s"))
      << example(r, "duplicate-delivery");
  EXPECT_EQ(r.metrics.at("delivery_duplicates"), 1);
  EXPECT_EQ(r.metrics.at("redeliveries"), 1);
  EXPECT_EQ(count(r, "nonmonotonic-poll"), 0u);  // A redelivery, not a first delivery.
}

// At-least-once: a message delivered again before it was acked is normal.
TEST(QueueChecker, RedeliveryOfAnUnackedMessageIsNotDuplicateDelivery) {
  QueueRun run = three_batches();
  run.poll(100 * kMs, 2, "p1", 1, Pos{1, 0, 0});
  run.poll(200 * kMs, 2, "p1", 1, Pos{1, 0, 0});  // Ack timeout: delivered again.
  run.ack(200 * kMs, 2, "p1", 1, Pos{1, 0, 0});   // Acked at the same instant: not before.
  run.consume(300 * kMs, "p1", 2, Pos{1, 0, 1});

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "duplicate-delivery"), 0u) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("redeliveries"), 1);
  EXPECT_EQ(r.metrics.at("delivery_duplicates"), 0);
}

TEST(QueueChecker, AckedSendNeverDeliveredIsUnseen) {
  QueueRun run = three_batches();
  run.unseen_grace_ns = 1'000 * kMs;
  run.consume(100 * kMs, "p1", 1, Pos{1, 0, 0});
  run.consume(110 * kMs, "p1", 2, Pos{1, 0, 1});
  run.consume(120 * kMs, "p1", 4, Pos{2, 0, 0});  // #3 never arrives.
  run.invoke(3'000 * kMs, "p9", 1);               // The history ends at 3s.

  CheckResult r = run.check();
  EXPECT_EQ(count(r, "unseen"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "unseen"),
                       "p1 message #3 of orders sent by client-1 was acknowledged by broker-1 at "
                       "0.011000s as ledger 1 entry 1 batch index 0, stored at ledger 1 entry 1 "
                       "batch index 0, but was never delivered to subscription \"sub\" of orders"))
      << example(r, "unseen");
  // The consumer skipped it, too.
  EXPECT_EQ(count(r, "poll-skip"), 1u) << anomalies_of(r);

  run.unseen_grace_ns = 5'000 * kMs;  // It might still be on its way.
  r = run.check();
  EXPECT_EQ(count(r, "unseen"), 0u) << anomalies_of(r);
}

TEST(QueueChecker, TopicWithoutSubscriptionsHasNothingUnseen) {
  QueueRun run = three_batches();
  run.unseen_grace_ns = 0;
  run.invoke(3'000 * kMs, "p9", 1);
  const CheckResult r = run.check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
}

TEST(QueueChecker, HoleBetweenFirstDeliveriesIsPollSkip) {
  QueueRun run = three_batches();
  run.consume(100 * kMs, "p1", 1, Pos{1, 0, 0});
  run.consume(110 * kMs, "p1", 3, Pos{1, 1, 0});  // #2 is never delivered.
  run.consume(120 * kMs, "p1", 4, Pos{2, 0, 0});

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "poll-skip"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "poll-skip"),
                       "client-2 got p1 message #1 of orders at ledger 1 entry 0 batch index 0 "
                       "and then, at 0.110000s, p1 message #3 of orders at ledger 1 entry 1 "
                       "batch index 0 for subscription \"sub\", skipping 1 message(s) it never "
                       "received, first p1 message #2 of orders at ledger 1 entry 0 batch index 1"))
      << example(r, "poll-skip");
}

// Failover: the hole went to the other consumer; shared subscriptions have no order.
TEST(QueueChecker, HoleDeliveredToAnotherConsumerOrOnSharedIsNotPollSkip) {
  QueueRun run = three_batches();
  run.subscriptions["sub"] = pulsar::FAILOVER;
  run.consume(100 * kMs, "p1", 1, Pos{1, 0, 0});
  run.poll(105 * kMs, 5, "p1", 2, Pos{1, 0, 1});  // Process 5 was active for a moment.
  run.consume(110 * kMs, "p1", 3, Pos{1, 1, 0});
  run.poll(120 * kMs, 2, "p1", 4, Pos{2, 0, 0});
  run.poll(130 * kMs, 2, "p1", 1, Pos{1, 0, 0}, "shared");  // Shared: any order, holes.
  run.poll(140 * kMs, 2, "p1", 4, Pos{2, 0, 0}, "shared");
  run.poll(150 * kMs, 2, "p1", 2, Pos{1, 0, 1}, "shared");

  const CheckResult r = run.check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
}

TEST(QueueChecker, FirstDeliveryBehindThePreviousIsNonmonotonicPoll) {
  QueueRun run = three_batches();
  run.consume(100 * kMs, "p1", 1, Pos{1, 0, 0});
  run.consume(110 * kMs, "p1", 3, Pos{1, 1, 0});
  run.consume(120 * kMs, "p1", 2, Pos{1, 0, 1});  // First time, but behind #3.
  run.consume(130 * kMs, "p1", 4, Pos{2, 0, 0});

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "nonmonotonic-poll"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "nonmonotonic-poll"),
                       "client-2 got p1 message #2 of orders at ledger 1 entry 0 batch index 1 "
                       "for subscription \"sub\" at 0.120000s for the first time, after it had "
                       "first got p1 message #3 of orders at the later ledger 1 entry 1 batch "
                       "index 0"))
      << example(r, "nonmonotonic-poll");
  // #2 arrived in the end, so the earlier hole is no skip.
  EXPECT_EQ(count(r, "poll-skip"), 0u);
}

// After a reconnect, a consumer gets its unacked messages again from the start.
TEST(QueueChecker, RewindingRedeliveryIsNotNonmonotonicPoll) {
  QueueRun run = three_batches();
  run.poll(100 * kMs, 2, "p1", 1, Pos{1, 0, 0});
  run.poll(110 * kMs, 2, "p1", 2, Pos{1, 0, 1});
  run.poll(120 * kMs, 2, "p1", 3, Pos{1, 1, 0});
  run.poll(200 * kMs, 2, "p1", 2, Pos{1, 0, 1});  // Rewound to #2.
  run.poll(210 * kMs, 2, "p1", 3, Pos{1, 1, 0});
  run.poll(220 * kMs, 2, "p1", 4, Pos{2, 0, 0});

  const CheckResult r = run.check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("redeliveries"), 2);
}

}  // namespace
}  // namespace streamlab::workloads
