// The anomalies only transactions have (REFERENCE.md "Pulsar transactions (PIP-31)"), each
// shown present and absent: G1a (a read of an aborted or unfinished transaction),
// partial-txn (a transaction committed in part, or a subscription that got only part of
// it), lost-write of a commit that returned ok, and an input a pipeline transformed twice.

#include "workloads/checkers/queue_checker.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tests/workloads/checkers/queue_runs.h"
#include "workloads/history/pipeline_payload.h"

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

// [SECTION] G1a

TEST(TxnChecker, ReadOfAnAbortedOrUnfinishedTransactionIsG1a) {
  TxnRun run = orders();
  const Pos aborted = run.send(0, "t1", 1, "orders", 0, "0:1");
  run.marker("orders", 0, "0:1", false);
  run.end(5 * kMs, "0:1", false);
  const Pos open = run.send(10 * kMs, "t1", 2, "orders", 1, "0:2");  // No marker, ever.
  run.poll(20 * kMs, 2, "t1", 1, "orders", 0, aborted);  // A read-uncommitted consumer.
  run.poll(30 * kMs, 2, "t1", 2, "orders", 1, open);

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "G1a"), 2u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "G1a"),
                       "subscription \"sub\" got t1 message #1 of orders-partition-0 (ledger 1 "
                       "entry 0 batch index 0, in txn 0:1) on client-2 at 0.020000s, but txn "
                       "0:1's first marker there is its abort marker at ledger 1 entry 1 of "
                       "orders-partition-0; its abort returned ok at 0.006000s"))
      << example(r, "G1a");
  EXPECT_EQ(r.metrics.at("aborted_reads"), 2);
}

TEST(TxnChecker, ReadOfACommittedTransactionIsNotG1a) {
  TxnRun run = orders();
  const Pos committed = run.send(0, "t1", 1, "orders", 0, "0:1");
  run.marker("orders", 0, "0:1", true);
  run.poll(20 * kMs, 2, "t1", 1, "orders", 0, committed);

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "G1a"), 0u) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("aborted_reads"), 0);
}

// [SECTION] partial-txn

TEST(TxnChecker, CommitInOnePartitionAndAbortInAnotherIsPartialTxn) {
  TxnRun run = orders();
  send_two(run);
  run.marker("orders", 0, "0:1", true);
  run.marker("orders", 1, "0:1", false);
  run.end(10 * kMs, "0:1", true, OpType::info);

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "partial-txn"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "partial-txn"),
                       "txn 0:1 has a commit marker at ledger 1 entry 1 of orders-partition-0 and "
                       "an abort marker at ledger 2 entry 1 of orders-partition-1: it committed "
                       "in part and aborted in part"))
      << example(r, "partial-txn");
}

TEST(TxnChecker, TransactionAbortedEverywhereIsNotPartial) {
  TxnRun run = orders();
  send_two(run);
  run.marker("orders", 0, "0:1", false);
  run.marker("orders", 1, "0:1", false);
  run.end(10 * kMs, "0:1", false);

  const CheckResult r = run.check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
}

// The subscription got #1 of the transaction but, long after the commit, still not #2.
TEST(TxnChecker, SubscriptionGettingPartOfACommittedTransactionIsPartialTxn) {
  TxnRun run = orders();
  const TwoPartitionTxn sent = send_two(run);
  run.marker("orders", 0, "0:1", true);
  run.marker("orders", 1, "0:1", true);
  run.end(10 * kMs, "0:1", true);
  run.poll(20 * kMs, 2, "t1", 1, "orders", 0, sent.first);
  run.invoke(5'000 * kMs, "p9", 1, "orders");

  CheckResult r = run.check();
  EXPECT_EQ(count(r, "partial-txn"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "partial-txn"),
                       "subscription \"sub\" got 1 of the 2 messages txn 0:1 committed on the "
                       "topics it reads, t1 message #1 of orders-partition-0 among them, but "
                       "never t1 message #2 of orders-partition-1 at ledger 2 entry 0 batch "
                       "index 0, although the transaction had committed by 0.011000s (the "
                       "history ends at 5.000000s)"))
      << example(r, "partial-txn");

  run.unseen_grace_ns = 6'000 * kMs;  // The rest may still be on its way.
  r = run.check();
  EXPECT_EQ(count(r, "partial-txn"), 0u) << anomalies_of(r);
}

TEST(TxnChecker, SubscriptionGettingAllOfACommittedTransactionIsNotPartial) {
  TxnRun run = orders();
  const TwoPartitionTxn sent = send_two(run);
  run.marker("orders", 0, "0:1", true);
  run.marker("orders", 1, "0:1", true);
  run.end(10 * kMs, "0:1", true);
  run.poll(20 * kMs, 2, "t1", 1, "orders", 0, sent.first);
  run.poll(21 * kMs, 2, "t1", 2, "orders", 1, sent.second);
  run.invoke(5'000 * kMs, "p9", 1, "orders");

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "partial-txn"), 0u) << anomalies_of(r);
}

// Only the topics a subscription reads count: "sub" reads orders, "audit-sub" audit, and
// each got all of the transaction that is on its topic.
TEST(TxnChecker, PartialTxnCountsOnlyTheTopicsASubscriptionReads) {
  TxnRun run({{"audit", 0}, {"orders", 2}});
  const Pos order = run.send(0, "t1", 1, "orders", 0, "0:1");
  const Pos audit = run.send(0, "t1", 2, "audit", 0, "0:1");
  run.marker("orders", 0, "0:1", true);
  run.marker("audit", 0, "0:1", true);
  run.end(10 * kMs, "0:1", true);
  run.poll(20 * kMs, 2, "t1", 1, "orders", 0, order);
  run.poll(21 * kMs, 3, "t1", 2, "audit", 0, audit, "audit-sub");
  run.invoke(5'000 * kMs, "p9", 1, "orders");

  CheckResult r = run.check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);

  const Pos other = run.send(30 * kMs, "p1", 1, "audit", 0);
  run.poll(40 * kMs, 2, "p1", 1, "audit", 0, other);  // Now "sub" reads audit too...
  r = run.check();
  EXPECT_EQ(count(r, "partial-txn"), 1u) << anomalies_of(r);  // ...and never got t1 #2.
  EXPECT_TRUE(contains(example(r, "partial-txn"), "subscription \"sub\" got 1 of the 2"))
      << example(r, "partial-txn");
}

// Nobody heard the commit's answer, but the log holds the markers: the commit happened by
// the time an entry after a marker was acknowledged, and only then.
TEST(TxnChecker, CommitTimeComesFromTheLogWhenNoCommitReturnedOk) {
  const auto build = [](bool later_entry) {
    TxnRun run = orders();
    const TwoPartitionTxn sent = send_two(run);
    run.marker("orders", 0, "0:1", true);
    run.marker("orders", 1, "0:1", true);
    run.end(10 * kMs, "0:1", true, OpType::info);
    if (later_entry) run.send(100 * kMs, "p1", 1, "orders", 1);  // Acked at 101ms.
    run.poll(200 * kMs, 2, "t1", 1, "orders", 0, sent.first);
    run.invoke(5'000 * kMs, "p9", 1, "orders");
    return run;
  };
  CheckResult r = build(true).check();
  EXPECT_EQ(count(r, "partial-txn"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "partial-txn"), "had committed by 0.101000s"))
      << example(r, "partial-txn");

  r = build(false).check();  // When it committed is unknown: no verdict.
  EXPECT_EQ(count(r, "partial-txn"), 0u) << anomalies_of(r);
}

// [SECTION] lost-write of a confirmed commit

TEST(TxnChecker, ConfirmedCommitWithoutItsMarkerIsLostWrite) {
  TxnRun run = orders();
  send_two(run);
  run.marker("orders", 0, "0:1", true);  // Partition 1 never got its marker.
  run.end(10 * kMs, "0:1", true);

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "lost-write"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "lost-write"),
                       "txn 0:1's commit returned ok on client-1 at 0.011000s, but t1 message #2 "
                       "of orders-partition-1, whose send in it was acknowledged at 0.001000s as "
                       "ledger 2 entry 0 batch index 0, is invisible: the log of "
                       "orders-partition-1 holds no marker of txn 0:1"))
      << example(r, "lost-write");
}

TEST(TxnChecker, ConfirmedCommitOfATransactionAbortedSomewhereIsLostWrite) {
  TxnRun run = orders();
  run.send(0, "t1", 1, "orders", 0, "0:1");
  run.marker("orders", 0, "0:1", true);
  run.pending_ack("orders", 1, "0:1", "sub");
  run.marker("orders", 1, "0:1", false);  // Where it only acked.
  run.end(10 * kMs, "0:1", true);

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "lost-write"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "lost-write"),
                       "txn 0:1's commit returned ok on client-1 at 0.011000s, but the log holds "
                       "its abort marker at ledger 2 entry 1 of orders-partition-1"))
      << example(r, "lost-write");
  EXPECT_EQ(count(r, "partial-txn"), 1u) << anomalies_of(r);
}

TEST(TxnChecker, UnconfirmedCommitWithoutMarkersIsNoLostWrite) {
  TxnRun run = orders();
  send_two(run);
  run.end(10 * kMs, "0:1", true, OpType::info);  // Timed out; the coordinator aborted it.

  TxnRun confirmed = orders();  // A confirmed commit with every marker.
  send_two(confirmed);
  confirmed.marker("orders", 0, "0:1", true);
  confirmed.marker("orders", 1, "0:1", true);
  confirmed.end(10 * kMs, "0:1", true);

  for (const CheckResult& r : {run.check(), confirmed.check()}) {
    EXPECT_EQ(count(r, "lost-write"), 0u) << anomalies_of(r);
  }
}

// Where the transaction committed, an acknowledged message missing from the log is lost
// as any message is (once per message, by the ordinary rule).
TEST(TxnChecker, MessageMissingWhereItsTransactionCommittedIsLostWrite) {
  TxnRun run = orders();
  run.invoke(0, "t1", 1, "orders", "0:1");
  run.ok(kMs, "t1", 1, "orders", 0, Pos{1, 3, 0}, "0:1");  // Acked, never stored.
  run.marker("orders", 0, "0:1", true);
  run.end(10 * kMs, "0:1", true);

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "lost-write"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "lost-write"),
                       "t1 message #1 of orders-partition-0 sent by client-1 in txn 0:1 was "
                       "acknowledged"))
      << example(r, "lost-write");
}

// [SECTION] duplicate across a pipeline

// The pipeline read p1 #1 from "in" and wrote its output twice, in two committed
// transactions (a zombie instance redid the work).
TxnRun pipeline(bool second_commits) {
  TxnRun run({{"in", 0}, {"out", 2}});  // Ledger 1: in; 2, 3: out's partitions.
  run.send(0, "p1", 1, "in", 0);
  const PipelineSource source{"in", "p1", 1};
  run.invoke(10 * kMs, "pipe", 0, "out", "0:1");
  run.store_output("out", 0, "pipe", 0, source, "0:1");
  run.ok(11 * kMs, "pipe", 0, "out", 0, Pos{2, 0, 0}, "0:1");
  run.marker("out", 0, "0:1", true);
  run.invoke(20 * kMs, "pipe", 1, "out", "0:2");
  run.store_output("out", 1, "pipe", 1, source, "0:2");
  run.ok(21 * kMs, "pipe", 1, "out", 1, Pos{3, 0, 0}, "0:2");
  run.marker("out", 1, "0:2", second_commits);
  return run;
}

TEST(TxnChecker, OneInputTransformedTwiceIsDuplicate) {
  const CheckResult r = pipeline(true).check();
  EXPECT_EQ(count(r, "duplicate"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "duplicate"),
                       "one input transformed twice: p1 message #1 of in became pipe message #0 "
                       "of out-partition-0 at ledger 2 entry 0 batch index 0 (txn 0:1, "
                       "acknowledged at 0.011000s), and again pipe message #1 of "
                       "out-partition-1 at ledger 3 entry 0 batch index 0 (txn 0:2, "
                       "acknowledged at 0.021000s)"))
      << example(r, "duplicate");
  EXPECT_EQ(r.metrics.at("pipeline_duplicates"), 1);
  EXPECT_EQ(r.metrics.at("log_duplicates"), 0);
}

TEST(TxnChecker, OutputOfAnAbortedTransactionIsNoDuplicate) {
  const CheckResult r = pipeline(false).check();
  EXPECT_EQ(count(r, "duplicate"), 0u) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("pipeline_duplicates"), 0);
}

}  // namespace
}  // namespace streamlab::workloads
