// The queue checker on a topic's change of owner: split-brain (the old owner acknowledging
// a send into its ledger after the new owner acknowledged one into the next), told apart
// from a handover in order and from a late reply for a write the log kept.

#include "workloads/checkers/queue_checker.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tests/workloads/checkers/queue_runs.h"

namespace streamlab::workloads {
namespace {

using test::anomalies_of;
using test::contains;
using test::count;
using test::example;
using test::kMs;
using test::Pos;
using test::QueueRun;

// Ledger 2 follows ledger 1 once broker-2 took the topic over.
QueueRun handover() {
  QueueRun run;
  run.create(1);
  run.list("orders", {1});
  run.publish(0, "p1", {1}, 1, 0, "broker-1");
  run.create(2);
  run.list("orders", {1, 2});
  return run;
}

TEST(QueueChecker, OldOwnerAckingAfterTheNewOneIsSplitBrain) {
  QueueRun run = handover();
  run.publish(10 * kMs, "p2", {1}, 2, 0, "broker-2");  // Acked at 11ms.
  run.publish(20 * kMs, "p1", {2}, 1, 1, "broker-1");  // Acked at 21ms into ledger 1.

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "split-brain"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "split-brain"),
                       "broker-1 acknowledged p1 message #2 of orders (invoked at 0.020000s) for "
                       "ledger 1 (ordinal 1) of orders at 0.021000s, after broker-2 had "
                       "acknowledged a send for ledger 2 (ordinal 2) at 0.011000s"))
      << example(r, "split-brain");
}

// broker-1 stored p1 #2 before the takeover but paused with the reply queued: recovery
// kept the entry, so the late reply agrees with the log.
TEST(QueueChecker, LateReplyForAWriteTheLogKeptIsNotSplitBrain) {
  QueueRun run = handover();
  run.invoke(5 * kMs, "p1", 2);
  run.store(1, 1, "p1", {2});
  run.close(1, 1);
  run.publish(10 * kMs, "p2", {1}, 2, 0, "broker-2");  // Acked at 11ms.
  run.ok(30 * kMs, "p1", 2, Pos{1, 1, 0}, "broker-1");

  const CheckResult r = run.check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
}

// The same late reply, but the takeover's recovery closed ledger 1 before the entry.
TEST(QueueChecker, LateReplyForAWriteTheLogLostIsSplitBrain) {
  QueueRun run = handover();
  run.invoke(5 * kMs, "p1", 2);
  run.store(1, 1, "p1", {2});
  run.close(1, 0);
  run.publish(10 * kMs, "p2", {1}, 2, 0, "broker-2");
  run.ok(30 * kMs, "p1", 2, Pos{1, 1, 0}, "broker-1");

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "split-brain"), 1u) << anomalies_of(r);
  EXPECT_EQ(count(r, "lost-write"), 1u) << anomalies_of(r);
}

TEST(QueueChecker, HandoverInOrderIsNotSplitBrain) {
  QueueRun run = handover();
  run.publish(10 * kMs, "p1", {2}, 1, 1, "broker-1");  // Old owner, before the handover.
  run.close(1, 1);
  run.publish(20 * kMs, "p2", {1}, 2, 0, "broker-2");
  run.publish(30 * kMs, "p2", {2}, 2, 1, "broker-2");

  const CheckResult r = run.check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
}

}  // namespace
}  // namespace streamlab::workloads
