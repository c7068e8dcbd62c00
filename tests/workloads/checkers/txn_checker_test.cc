// The queue checker on transactions (REFERENCE.md "Pulsar transactions (PIP-31)"): what
// the log's markers make visible, and the verdicts of plain runs (lost-write, unseen,
// poll-skip, duplicate, duplicate-delivery) that transactions must not disturb. The
// anomalies only transactions have are in txn_checker_anomalies_test.cc, the log as read in
// txn_queue_log_test.cc.

#include "workloads/checkers/queue_checker.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tests/workloads/checkers/queue_runs.h"

namespace streamlab::workloads {
namespace {

using test::anomalies_of;
using test::contains;
using test::count;
using test::example;
using test::kMs;
using test::orders;
using test::Pos;
using test::send_two;
using test::TwoPartitionTxn;
using test::TxnRun;

// [SECTION] Control entries

TEST(TxnChecker, CommittedTransactionIsCleanAndControlEntriesAreNotUnexpected) {
  TxnRun run = orders();
  const TwoPartitionTxn sent = send_two(run);
  run.pending_ack("orders", 0, "0:1", "sub");
  run.marker("orders", 0, "0:1", true);
  run.marker("orders", 1, "0:1", true);
  run.end(10 * kMs, "0:1", true);
  run.poll(20 * kMs, 2, "t1", 1, "orders", 0, sent.first);
  run.poll(21 * kMs, 2, "t1", 2, "orders", 1, sent.second);
  run.invoke(5'000 * kMs, "p9", 1, "orders");  // The history ends at 5s.

  const CheckResult r = run.check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("log_messages"), 2);
  EXPECT_EQ(r.metrics.at("log_entries"), 5);
  EXPECT_EQ(r.metrics.at("log_control_entries"), 3);
  EXPECT_EQ(r.metrics.at("txn_commits_ok"), 1);
  EXPECT_EQ(r.metrics.at("ops_ok"), 2);  // Sends only: the commit is no publish op.
}

// The coordinator's transaction log is a managed ledger listed like a topic's: not read.
TEST(TxnChecker, CoordinatorLogIsNoTopic) {
  TxnRun run = orders();
  const Pos one = run.send(0, "p1", 1, "orders", 0);
  run.poll(10 * kMs, 2, "p1", 1, "orders", 0, one);
  run.coordinator_log();

  const CheckResult r = run.check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("log_entries"), 1);
}

// [SECTION] Aborted messages: neither lost, unseen, skipped nor duplicated

// An aborted transaction's messages are invisible: neither the one the log lost nor the one
// no consumer got is an anomaly, and an exclusive consumer's hole over it is no skip.
TEST(TxnChecker, AbortedTransactionsMessagesAreNeitherLostNorUnseenNorSkipped) {
  TxnRun run = orders();
  const Pos one = run.send(0, "p1", 1, "orders", 0);
  run.send(5 * kMs, "t1", 1, "orders", 0, "0:1");  // Stored, never delivered.
  run.invoke(6 * kMs, "t1", 2, "orders", "0:1");
  run.ok(7 * kMs, "t1", 2, "orders", 0, Pos{1, 5, 0}, "0:1");  // Acked, never stored.
  run.marker("orders", 0, "0:1", false);
  run.end(10 * kMs, "0:1", false);
  const Pos two = run.send(20 * kMs, "p1", 2, "orders", 0);
  run.poll(30 * kMs, 2, "p1", 1, "orders", 0, one);
  run.poll(31 * kMs, 2, "p1", 2, "orders", 0, two);
  run.unseen_grace_ns = 0;
  run.invoke(5'000 * kMs, "p9", 1, "orders");

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "lost-write"), 0u) << anomalies_of(r);
  EXPECT_EQ(count(r, "unseen"), 0u) << anomalies_of(r);
  EXPECT_EQ(count(r, "poll-skip"), 0u) << anomalies_of(r);
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
  // Only the two ordinary messages (never acked) wait: the aborted ones wait for nobody.
  EXPECT_EQ(r.metrics.at("backlog_end"), 2);
}

// The same run with an ordinary message in the aborted one's place: now the hole is real.
TEST(TxnChecker, OrdinaryMessageInTheHoleIsStillSkipped) {
  TxnRun run = orders();
  const Pos one = run.send(0, "p1", 1, "orders", 0);
  run.send(5 * kMs, "p1", 2, "orders", 0);
  const Pos three = run.send(20 * kMs, "p1", 3, "orders", 0);
  run.poll(30 * kMs, 2, "p1", 1, "orders", 0, one);
  run.poll(31 * kMs, 2, "p1", 3, "orders", 0, three);

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "poll-skip"), 1u) << anomalies_of(r);
}

TEST(TxnChecker, AbortedCopyIsNoDuplicateOfTheCommittedOne) {
  TxnRun run = orders();
  run.send(0, "t1", 1, "orders", 0, "0:1");
  run.marker("orders", 0, "0:1", false);
  const Pos again = run.send(10 * kMs, "t1", 1, "orders", 0, "0:2");  // Retried in a new txn.
  run.marker("orders", 0, "0:2", true);
  run.end(20 * kMs, "0:2", true);
  run.poll(30 * kMs, 2, "t1", 1, "orders", 0, again);

  CheckResult r = run.check();
  EXPECT_EQ(count(r, "duplicate"), 0u) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("log_duplicates"), 0);

  TxnRun both = orders();  // Both copies committed: a reader gets it twice.
  both.send(0, "t1", 1, "orders", 0, "0:1");
  both.marker("orders", 0, "0:1", true);
  both.send(10 * kMs, "t1", 1, "orders", 0, "0:2");
  both.marker("orders", 0, "0:2", true);
  r = both.check();
  EXPECT_EQ(count(r, "duplicate"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "duplicate"),
                       "t1 message #1 of orders-partition-0 is stored 2 times, first at ledger 1 "
                       "entry 0 batch index 0 and again at ledger 1 entry 2 batch index 0"))
      << example(r, "duplicate");
}

// Sent in 0:1 (aborted), then again in 0:2 (committed): 0:2 decides, so never delivering
// it is unseen.
TEST(TxnChecker, MessageResentInACommittedTransactionIsJudgedByIt) {
  TxnRun run = orders();
  run.send(0, "t1", 1, "orders", 0, "0:1");
  run.marker("orders", 0, "0:1", false);
  run.end(5 * kMs, "0:1", false);
  run.send(10 * kMs, "t1", 1, "orders", 0, "0:2");
  run.marker("orders", 0, "0:2", true);
  run.end(20 * kMs, "0:2", true);
  run.poll(30 * kMs, 2, "p1", 9, "orders", 1, Pos{});  // "sub" reads orders.
  run.invoke(5'000 * kMs, "p9", 1, "orders");

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "unseen"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "unseen"),
                       "t1 message #1 of orders-partition-0 sent by client-1 in txn 0:2"))
      << example(r, "unseen");
}

// Readers apply a transaction's first marker; a second, contrary one is partial-txn.
TEST(TxnChecker, FirstMarkerDecidesTheOutcome) {
  TxnRun run = orders();
  const Pos one = run.send(0, "t1", 1, "orders", 0, "0:1");
  run.marker("orders", 0, "0:1", true);
  run.marker("orders", 0, "0:1", false);
  run.poll(20 * kMs, 2, "t1", 1, "orders", 0, one);

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "G1a"), 0u) << anomalies_of(r);
  EXPECT_EQ(count(r, "partial-txn"), 1u) << anomalies_of(r);
}

// [SECTION] When a transaction committed, and what its acks do

// No commit returned ok: the entry after the marker times the commit only if it was stored
// once, or the ops might speak of another copy.
TEST(TxnChecker, OnlyAMessageStoredOnceTimesACommit) {
  const auto build = [](bool copy_of_an_earlier_message) {
    TxnRun run = orders();
    const Pos early = run.send(kMs, "p1", 1, "orders", 0);  // Entry 0.
    run.send(kMs, "t1", 1, "orders", 0, "0:1");            // Entry 1.
    run.marker("orders", 0, "0:1", true);                  // Entry 2.
    run.end(4 * kMs, "0:1", true, OpType::info);
    run.poll(3 * kMs, 2, "p1", 1, "orders", 0, early);
    if (copy_of_an_earlier_message) {
      run.store("orders", 0, "p1", {1});  // Entry 3: p1 #1 again; its delivery was entry 0.
    } else {
      run.invoke(kMs, "p1", 2, "orders");
      const Pos later{1, run.store("orders", 0, "p1", {2}), 0};
      run.poll(3 * kMs, 2, "p1", 2, "orders", 0, later);
    }
    run.invoke(5'000 * kMs, "p9", 1, "orders");
    return run.check();
  };
  CheckResult r = build(false);
  EXPECT_EQ(count(r, "unseen"), 1u) << anomalies_of(r);  // t1 #1, committed by 3ms.
  EXPECT_TRUE(contains(example(r, "unseen"), "t1 message #1")) << example(r, "unseen");
  r = build(true);
  EXPECT_EQ(count(r, "unseen"), 0u) << anomalies_of(r);  // When it committed is unknown.
}

// A pipeline acked #1 inside a transaction that aborted: the ack never took effect, so the
// broker rightly delivers it again.
TEST(TxnChecker, AckInAnAbortedTransactionDoesNotMakeARedeliveryDuplicate) {
  TxnRun run = orders();
  const Pos one = run.send(0, "p1", 1, "orders", 0);
  run.poll(10 * kMs, 2, "p1", 1, "orders", 0, one);
  run.ack(11 * kMs, 2, "p1", 1, "orders", 0, one, "0:5");
  run.pending_ack("orders", 0, "0:5", "sub");
  run.marker("orders", 0, "0:5", false);
  run.poll(30 * kMs, 2, "p1", 1, "orders", 0, one);

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "duplicate-delivery"), 0u) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("redeliveries"), 1);
}

TEST(TxnChecker, AckInACommittedTransactionMakesARedeliveryDuplicate) {
  TxnRun run = orders();
  const Pos one = run.send(0, "p1", 1, "orders", 0);
  run.poll(10 * kMs, 2, "p1", 1, "orders", 0, one);
  run.ack(11 * kMs, 2, "p1", 1, "orders", 0, one, "0:5");
  run.pending_ack("orders", 0, "0:5", "sub");
  run.marker("orders", 0, "0:5", true);
  run.poll(30 * kMs, 2, "p1", 1, "orders", 0, one);

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "duplicate-delivery"), 1u) << anomalies_of(r);
}

TEST(TxnChecker, CommittedMessageNeverDeliveredIsUnseen) {
  TxnRun run = orders();
  const TwoPartitionTxn sent = send_two(run);
  run.marker("orders", 0, "0:1", true);
  run.marker("orders", 1, "0:1", true);
  run.end(10 * kMs, "0:1", true);  // Committed at 11ms.
  run.poll(20 * kMs, 2, "t1", 1, "orders", 0, sent.first);
  run.invoke(5'000 * kMs, "p9", 1, "orders");

  CheckResult r = run.check();
  EXPECT_EQ(count(r, "unseen"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "unseen"),
                       "t1 message #2 of orders-partition-1 sent by client-1 in txn 0:1 was "
                       "acknowledged by broker-1 at 0.001000s as ledger 2 entry 0 batch index 0"))
      << example(r, "unseen");

  run.unseen_grace_ns = 6'000 * kMs;  // Still on its way.
  r = run.check();
  EXPECT_EQ(count(r, "unseen"), 0u) << anomalies_of(r);
}

// Sent long ago but committed just now (by the commit's ok): not unseen yet.
TEST(TxnChecker, UnseenCountsFromTheCommit) {
  TxnRun run = orders();
  const TwoPartitionTxn sent = send_two(run);
  run.marker("orders", 0, "0:1", true);
  run.marker("orders", 1, "0:1", true);
  run.end(4'900 * kMs, "0:1", true);
  run.poll(4'950 * kMs, 2, "t1", 1, "orders", 0, sent.first);
  run.invoke(5'000 * kMs, "p9", 1, "orders");

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "unseen"), 0u) << anomalies_of(r);
  EXPECT_EQ(count(r, "partial-txn"), 0u) << anomalies_of(r);
}

}  // namespace
}  // namespace streamlab::workloads
