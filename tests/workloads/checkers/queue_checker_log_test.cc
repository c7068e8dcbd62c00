// The queue checker on what the log holds (workloads/checkers/queue_log.h): which ledgers
// are read and where an open one ends for its readers, and the anomalies found by holding
// the sends against the log: lost-write, duplicate, nonmonotonic-send,
// inconsistent-offsets and unexpected, with each partition a log of its own.

#include "workloads/checkers/queue_checker.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "broker/pulsar/pulsar.pb.h"
#include "broker/storage/ledger_client.h"
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

// [SECTION] lost-write

TEST(QueueChecker, SendMissingFromTheLogIsLostWrite) {
  QueueRun run = three_batches();
  run.invoke(40 * kMs, "p1", 9);
  run.ok(41 * kMs, "p1", 9, Pos{2, 1, 0}, "broker-1");  // Acked, never stored.

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "lost-write"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "lost-write"),
                       "p1 message #9 of orders sent by client-1 was acknowledged by broker-1 at "
                       "0.041000s as ledger 2 entry 1 batch index 0, but ledger 2 (ordinal 2) "
                       "ends at entry 0 for its readers: the message is in no ledger of the log "
                       "of orders"))
      << example(r, "lost-write");
}

TEST(QueueChecker, SendBeyondTheClosedLedgersEndIsLostWrite) {
  QueueRun run;
  run.create(1);
  run.list("orders", {1});
  for (std::uint64_t i = 0; i < 3; ++i) {
    run.publish(static_cast<std::int64_t>(i) * 10 * kMs, "p1", {i}, 1, static_cast<std::int64_t>(i));
  }
  run.close(1, 1);  // Recovery closed it at entry 1 although entry 2 was acknowledged.
  run.create(2);
  run.list("orders", {1, 2});
  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "lost-write"), 1u) << anomalies_of(r);
  // The story in words: where the reader's log ends, and who took it on from there.
  EXPECT_TRUE(contains(example(r, "lost-write"),
                       "p1 message #2 of orders sent by client-1 was acknowledged by broker-1 at "
                       "0.021000s as ledger 1 entry 2 batch index 0, but ledger 1 (ordinal 1) "
                       "ends at entry 1 for its readers, and the log goes on in ledger 2 "
                       "(ordinal 2): the next owner's recovery closed it before entry 2"))
      << example(r, "lost-write");
  EXPECT_EQ(r.metrics.at("log_messages"), 2);
}

TEST(QueueChecker, PositionHoldingAnotherMessageIsLostWrite) {
  QueueRun run = three_batches();
  run.invoke(40 * kMs, "p2", 1);
  run.ok(41 * kMs, "p2", 1, Pos{1, 1, 0});  // Ledger 1 entry 1 holds p1 #3.
  run.invoke(40 * kMs, "p2", 2);
  run.store(2, 1, "p2", {2});
  run.ok(41 * kMs, "p2", 2, Pos{1, 1, 0});  // Stored, but elsewhere: both claim the spot.

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "lost-write"), 2u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "lost-write"), "but that position holds p1 message #3 of orders"))
      << example(r, "lost-write");
}

// A broker acks a resent message it already holds as a duplicate, without a position.
TEST(QueueChecker, SendAckedAsDuplicateNeedsOnlyToBePresent) {
  QueueRun run = three_batches();
  run.invoke(50 * kMs, "p1", 3);  // A resend of #3, dropped by deduplication.
  run.ok(51 * kMs, "p1", 3, Pos{0, -1, -1});
  run.invoke(60 * kMs, "p1", 8);  // Acked as a duplicate, but nowhere: lost.
  run.ok(61 * kMs, "p1", 8, Pos{0, -1, -1});

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "lost-write"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "lost-write"), "p1 message #8 of orders")) << example(r, "lost-write");
  EXPECT_TRUE(contains(example(r, "lost-write"), "as a duplicate")) << example(r, "lost-write");
  EXPECT_EQ(count(r, "duplicate"), 0u);
  EXPECT_EQ(count(r, "inconsistent-offsets"), 0u);
}

// [SECTION] Which ledgers are read, and where they end

// A ledger trimmed from the list (every cursor passed it) and even deleted still counts,
// with what the bookies still hold of it: its entries were consumed before.
TEST(QueueChecker, TrimmedLedgerStillCounts) {
  QueueRun run = three_batches();
  consume_all(run, 100 * kMs);
  run.list("orders", {2}, 2);
  run.remove(storage::ledger_key(1));

  const CheckResult r = run.check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("log_messages"), 4);
}

// Retention on three_batches(): ledger 1 leaves the list, its metadata is removed, and the
// bookies' garbage collection takes its records.
void delete_and_collect_first_ledger(QueueRun& run) {
  run.list("orders", {2}, 2);
  run.remove(storage::ledger_key(1));
  run.collect(1);
}

// Once the bookies' garbage collection has taken a deleted ledger, its messages are in no
// ledger of the log: retention, not loss, since the subscription had them all.
TEST(QueueChecker, CollectedLedgerIsNoLossOnceDelivered) {
  QueueRun run = three_batches();
  consume_all(run, 100 * kMs);
  delete_and_collect_first_ledger(run);

  const CheckResult r = run.check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("log_messages"), 1);
}

// Deleted before the subscription got to it: the messages are lost.
TEST(QueueChecker, LedgerCollectedBeforeItsSubscriptionHadItIsLostWrite) {
  QueueRun run = three_batches();
  run.consume(100 * kMs, "p1", 4, Pos{2, 0, 0});
  delete_and_collect_first_ledger(run);

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "lost-write"), 3u) << anomalies_of(r);
}

// A topic without subscriptions holds nothing back: its deleted ledgers lose nothing.
TEST(QueueChecker, CollectedLedgerOfATopicWithoutSubscriptionsIsNoLoss) {
  QueueRun run = three_batches();
  delete_and_collect_first_ledger(run);

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "lost-write"), 0u) << anomalies_of(r);
}

// Ledgers no topic lists (cursor ledgers, or one whose list update failed) are not read.
TEST(QueueChecker, UnlistedLedgersAreIgnored) {
  QueueRun run = three_batches();
  run.create(77);
  pulsar::CursorState cursor;
  cursor.set_mark_delete(5);
  run.store_raw(77, 0, cursor.SerializeAsString());
  run.create(78);
  run.store(78, 0, "ghost", {1});

  const CheckResult r = run.check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("log_entries"), 3);
}

TEST(QueueChecker, OpenLedgerEndsAtTheFirstEntryNoBookieHolds) {
  QueueRun run = three_batches();
  run.invoke(40 * kMs, "p1", 5);
  run.ok(41 * kMs, "p1", 5, Pos{2, 1, 0});  // Entry 1 is on no bookie ...
  run.publish(50 * kMs, "p1", {6}, 2, 2);   // ... so entry 2 is past the end.

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "lost-write"), 2u) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("log_messages"), 4);
}

// [SECTION] duplicate, nonmonotonic-send, inconsistent-offsets, unexpected

TEST(QueueChecker, MessageStoredTwiceIsDuplicate) {
  QueueRun run = three_batches();
  run.store(2, 1, "p1", {3});  // Resent after a lost ack, without deduplication.

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "duplicate"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "duplicate"),
                       "p1 message #3 of orders is stored 2 times, first at ledger 1 entry 1 "
                       "batch index 0 and again at ledger 2 entry 1 batch index 0"))
      << example(r, "duplicate");
  EXPECT_EQ(r.metrics.at("log_duplicates"), 1);
  EXPECT_EQ(count(r, "lost-write"), 0u);
  EXPECT_EQ(count(r, "unexpected"), 0u);
}

TEST(QueueChecker, SendsStoredOutOfOrderAreNonmonotonicSend) {
  QueueRun run = three_batches();
  run.invoke(40 * kMs, "p1", 5);
  run.invoke(40 * kMs, "p1", 6);
  run.store(2, 1, "p1", {6});  // #6 overtook #5.
  run.store(2, 2, "p1", {5});
  run.ok(41 * kMs, "p1", 6, Pos{2, 1, 0});
  run.ok(42 * kMs, "p1", 5, Pos{2, 2, 0});

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "nonmonotonic-send"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "nonmonotonic-send"),
                       "p1 message #5 of orders and p1 message #6 of orders were acknowledged at "
                       "0.042000s and 0.041000s but are stored in the opposite order, at ledger 2 "
                       "entry 2 batch index 0 and ledger 2 entry 1 batch index 0"))
      << example(r, "nonmonotonic-send");
}

TEST(QueueChecker, OnePositionReportedForTwoMessagesIsInconsistentOffsets) {
  QueueRun run = three_batches();
  run.poll(100 * kMs, 2, "p1", 9, Pos{1, 0, 0});  // The log and the send said #1 is there.

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "inconsistent-offsets"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "inconsistent-offsets"),
                       "ledger 1 entry 0 batch index 0 of orders was reported for p1 message #1 "
                       "of orders and, by client-2's poll at 0.100000s, for p1 message #9 of "
                       "orders"))
      << example(r, "inconsistent-offsets");
}

TEST(QueueChecker, MessageNoProducerSentIsUnexpected) {
  QueueRun run = three_batches();
  run.store(2, 1, "ghost", {42});

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "unexpected"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "unexpected"),
                       "ledger 2 entry 1 batch index 0 of orders holds ghost message #2a of "
                       "orders, which no producer sent"))
      << example(r, "unexpected");
}

TEST(QueueChecker, EntryThatIsNotABatchIsUnexpected) {
  QueueRun run = three_batches();
  run.store_raw(2, 1, std::string("\xff\xff\xff", 3));
  run.publish(40 * kMs, "p1", {5}, 2, 2);  // The bad entry does not end the ledger.

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "unexpected"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "unexpected"),
                       "ledger 2 entry 1 of orders does not parse as a batch"))
      << example(r, "unexpected");
  EXPECT_EQ(count(r, "lost-write"), 0u);
  EXPECT_EQ(r.metrics.at("log_entries"), 5);
}

// [SECTION] Partitions

// Partitions are separate logs: one producer's sequence ids may repeat across them.
TEST(QueueChecker, PartitionsAreSeparateLogs) {
  QueueRun run;
  run.topics["orders"] = 2;
  run.create(1);
  run.create(2);
  run.list("orders-partition-0", {1});
  run.list("orders-partition-1", {2});
  run.publish(0, "p1", {1}, 1, 0, "broker-1", 0);
  run.publish(0, "p1", {1}, 2, 0, "broker-1", 1);
  run.poll(10 * kMs, 2, "p1", 1, Pos{1, 0, 0}, "sub", 0);
  run.poll(10 * kMs, 2, "p1", 1, Pos{2, 0, 0}, "sub", 1);
  // A send to partition 1 that only partition 0 holds is lost.
  run.invoke(20 * kMs, "p1", 2, 1);
  run.store(1, 1, "p1", {2});
  run.ok(21 * kMs, "p1", 2, Pos{1, 1, 0}, "broker-1", 1);

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "lost-write"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "lost-write"), "p1 message #2 of orders-partition-1"))
      << example(r, "lost-write");
  EXPECT_EQ(count(r, "unexpected"), 1u) << anomalies_of(r);  // Partition 0's copy.
  EXPECT_EQ(count(r, "duplicate"), 0u);
  EXPECT_EQ(r.metrics.at("log_messages"), 3);
  EXPECT_EQ(r.metrics.at("redeliveries"), 0);
}

// A send that timed out (or was never answered) learns no partition, yet the broker may
// have stored it: the partition whose log holds it is the one it was sent to, so it is
// neither unexpected there nor anything at partition 0.
TEST(QueueChecker, UnacknowledgedSendStoredInAnotherPartitionIsNotUnexpected) {
  QueueRun run;
  run.topics["orders"] = 3;
  run.create(1);
  run.create(2);
  run.list("orders-partition-0", {1});
  run.list("orders-partition-2", {2});
  run.publish(0, "p1", {1}, 1, 0, "broker-1", 0);
  run.invoke(10 * kMs, "p1", 2);
  run.store(2, 0, "p1", {2});
  run.fail(20 * kMs, "p1", 2, OpType::info);
  run.invoke(30 * kMs, "p1", 3);  // Still pending at the end, and stored too.
  run.store(2, 1, "p1", {3});

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "unexpected"), 0u) << anomalies_of(r);
  EXPECT_EQ(count(r, "lost-write"), 0u) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("log_messages"), 3);
  EXPECT_EQ(r.metrics.at("ops_info"), 1);
  EXPECT_EQ(r.metrics.at("ops_pending"), 1);
}

}  // namespace
}  // namespace streamlab::workloads
