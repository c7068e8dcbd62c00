// Transactions at the broker (REFERENCE.md "Pulsar transactions (PIP-31)"): what a
// consumer gets and when. A committed reader sees a transaction's messages at its commit
// marker and stops at the max read position, never sees an aborted one's, even from sends
// that race a timeout abort; a read-uncommitted one sees them at once. An ack inside a
// transaction is pending until the transaction ends, and survives a topic failover.

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "broker/pulsar/wire.h"
#include "tests/broker/pulsar/txn_world.h"

namespace streamlab::pulsar {
namespace {

// ---- Visibility: commit, abort, the max read position ---------------------------------------

// PIP-31: a transaction's messages become visible at its commit marker; a committed reader
// stops at the first entry of the oldest open transaction, so a plain message written
// after it waits too, and one written before it does not.
TEST_F(TxnTest, TxnMessagesAndLaterOnesAreHeldUntilTheCommit) {
  take_coordinator(kBrokerA, 1);
  create_producer(kBrokerA, "t", 1, "p", 2);
  subscribe(kBrokerA, "t", "s", 7, 3, 100);
  run_for(300 * kMs);
  const TxnId txn = open_txn(kBrokerA, 10);
  register_part(kBrokerA, 11, txn, "t");
  publish(kBrokerA, 1, "p", 0);  // Before the transaction's first message.
  run_for(300 * kMs);
  publish_txn(kBrokerA, 1, "p", 1, txn);
  publish_txn(kBrokerA, 1, "p", 2, txn);
  publish(kBrokerA, 1, "p", 3);  // After it: behind the max read position.
  run_for(500 * kMs);
  const auto receipts = of(PulsarMessage::kSendReceipt);
  ASSERT_EQ(receipts.size(), 4u);
  for (const Received& r : receipts) EXPECT_FALSE(r.message.send_receipt().duplicate());
  EXPECT_EQ(delivered(7), Payloads{"m0"});

  run_for(2 * kSec);  // Nothing changes while the transaction is open.
  EXPECT_EQ(delivered(7), Payloads{"m0"});

  end_txn(kBrokerA, 12, txn, true);
  run_for(500 * kMs);
  EXPECT_EQ(txn_error(12), NO_ERROR);
  EXPECT_EQ(delivered(7), (Payloads{"m0", "m1", "m2", "m3"}));
  publish(kBrokerA, 1, "p", 4);
  run_for(300 * kMs);
  EXPECT_EQ(delivered(7), (Payloads{"m0", "m1", "m2", "m3", "m4"}));
}

// The coordinator on one broker, the topic on the other: the abort marker travels as a
// TxnMarkerRequest.
TEST_F(TxnTest, AbortedTxnMessagesAreNeverDeliveredAndLaterOnesAre) {
  take_coordinator(kBrokerA, 1);
  create_producer(kBrokerB, "t", 1, "p", 2);
  subscribe(kBrokerB, "t", "s", 7, 3, 100);
  run_for(300 * kMs);
  publish(kBrokerB, 1, "p", 0);
  const TxnId txn = open_txn(kBrokerA, 10);
  register_part(kBrokerA, 11, txn, "t");
  publish_txn(kBrokerB, 1, "p", 1, txn);
  publish_txn(kBrokerB, 1, "p", 2, txn);
  publish(kBrokerB, 1, "p", 3);
  run_for(500 * kMs);
  ASSERT_EQ(of(PulsarMessage::kSendReceipt).size(), 4u);
  EXPECT_EQ(delivered(7), Payloads{"m0"});

  end_txn(kBrokerA, 12, txn, false);
  run_for(500 * kMs);
  EXPECT_EQ(txn_error(12), NO_ERROR);
  EXPECT_EQ(delivered(7), (Payloads{"m0", "m3"}));
  publish_txn(kBrokerB, 1, "p", 4, txn);  // The transaction is over at the topic.
  publish(kBrokerB, 1, "p", 5);
  run_for(500 * kMs);
  EXPECT_EQ(send_errors(1), std::vector<ServerError>{TXN_NOT_OPEN});
  EXPECT_EQ(delivered(7), (Payloads{"m0", "m3", "m5"}));
  end_txn(kBrokerA, 13, txn, true);  // Ended the other way.
  run_for(300 * kMs);
  EXPECT_EQ(txn_error(13), TXN_NOT_OPEN);
  run_for(2 * kSec);
  EXPECT_EQ(delivered(7), (Payloads{"m0", "m3", "m5"}));
}

// The unsafe mode: a read-uncommitted subscription gets the transaction's messages as
// they are written; a committed one on the same topic does not.
TEST_F(TxnTest, AReadUncommittedConsumerGetsTxnMessagesBeforeTheCommit) {
  take_coordinator(kBrokerA, 1);
  create_producer(kBrokerA, "t", 1, "p", 2);
  subscribe(kBrokerA, "t", "dirty", 7, 3, 100, /*read_uncommitted=*/true);
  subscribe(kBrokerA, "t", "clean", 8, 4, 100);
  run_for(300 * kMs);
  const TxnId txn = open_txn(kBrokerA, 10);
  register_part(kBrokerA, 11, txn, "t");
  publish_txn(kBrokerA, 1, "p", 0, txn);
  publish_txn(kBrokerA, 1, "p", 1, txn);
  run_for(500 * kMs);
  EXPECT_EQ(delivered(7), (Payloads{"m0", "m1"}));
  EXPECT_EQ(delivered(8), Payloads{});

  end_txn(kBrokerA, 12, txn, true);
  run_for(500 * kMs);
  EXPECT_EQ(txn_error(12), NO_ERROR);
  EXPECT_EQ(delivered(7), (Payloads{"m0", "m1"})) << "the marker is not delivered";
  EXPECT_EQ(delivered(8), (Payloads{"m0", "m1"}));
}

// ---- Pending acks ---------------------------------------------------------------------------

// An ack inside a transaction holds the entry: another transaction cannot ack it, an
// abort gives it back for redelivery, a commit acknowledges it for good.
TEST_F(TxnTest, APendingAckHoldsTheEntryUntilItsTxnEnds) {
  take_coordinator(kBrokerA, 1);
  create_producer(kBrokerA, "t", 1, "p", 2);
  subscribe(kBrokerA, "t", "s", 7, 3, 100);
  run_for(300 * kMs);
  for (std::uint64_t s = 0; s < 3; ++s) publish(kBrokerA, 1, "p", s);
  run_for(500 * kMs);
  ASSERT_EQ(delivered(7), (Payloads{"m0", "m1", "m2"}));
  const MessageId m0 = delivered_id(7, "m0");
  const TxnId t1 = open_txn(kBrokerA, 10);
  const TxnId t2 = open_txn(kBrokerA, 11);
  register_part(kBrokerA, 12, t1, "t", "s");
  register_part(kBrokerA, 13, t2, "t", "s");

  ack_txn(kBrokerA, 7, m0, t1, 50);
  run_for(300 * kMs);
  EXPECT_EQ(ack_error(50), NO_ERROR);
  ack_txn(kBrokerA, 7, m0, t2, 51);
  run_for(300 * kMs);
  EXPECT_EQ(ack_error(51), TXN_CONFLICT);
  ack(kBrokerA, 7, m0);  // A plain ack does not take an entry a transaction holds.
  run_for(300 * kMs);
  EXPECT_EQ(delivered(7), (Payloads{"m0", "m1", "m2"}));

  end_txn(kBrokerA, 14, t1, false);
  run_for(500 * kMs);
  EXPECT_EQ(txn_error(14), NO_ERROR);
  EXPECT_EQ(delivered(7), (Payloads{"m0", "m1", "m2", "m0"})) << "the abort gives m0 back";
  EXPECT_GE(redelivery_count(7, "m0"), 1);

  ack_txn(kBrokerA, 7, m0, t2, 52);  // Free again.
  run_for(300 * kMs);
  EXPECT_EQ(ack_error(52), NO_ERROR);
  end_txn(kBrokerA, 15, t2, true);
  run_for(500 * kMs);
  EXPECT_EQ(txn_error(15), NO_ERROR);
  const TxnId t3 = open_txn(kBrokerA, 16);
  register_part(kBrokerA, 17, t3, "t", "s");
  ack_txn(kBrokerA, 7, m0, t3, 53);  // Acked for good: redoing it is a zombie's work.
  run_for(300 * kMs);
  EXPECT_EQ(ack_error(53), TXN_CONFLICT);

  close_consumer(kBrokerA, 7);
  run_for(100 * kMs);
  subscribe(kBrokerA, "t", "s", 8, 4, 100);
  run_for(500 * kMs);
  EXPECT_EQ(delivered(8), (Payloads{"m1", "m2"})) << "the committed ack of m0 holds";
}

// The pending-ack store is the topic's log: the topic's next owner still holds the entry
// for the open transaction, and applies the ack when the transaction commits.
TEST_F(TxnTest, APendingAckSurvivesATopicFailover) {
  take_coordinator(kBrokerB, 1);
  create_producer(kBrokerA, "t", 1, "p", 2);
  subscribe(kBrokerA, "t", "s", 7, 3, 100);
  run_for(300 * kMs);
  for (std::uint64_t s = 0; s < 3; ++s) publish(kBrokerA, 1, "p", s);
  run_for(500 * kMs);
  ASSERT_EQ(delivered(7), (Payloads{"m0", "m1", "m2"}));
  const MessageId m0 = delivered_id(7, "m0");
  ack(kBrokerA, 7, delivered_id(7, "m2"));
  const TxnId t1 = open_txn(kBrokerB, 10);
  const TxnId t2 = open_txn(kBrokerB, 11);
  register_part(kBrokerB, 12, t1, "t", "s");
  register_part(kBrokerB, 13, t2, "t", "s");
  ack_txn(kBrokerA, 7, m0, t1, 50);
  run_for(1 * kSec);  // The pending ack is stored, the cursor persisted.
  ASSERT_EQ(ack_error(50), NO_ERROR);

  world_->crash(kBrokerA);
  run_for(3 * kSec);
  subscribe(kBrokerB, "t", "s", 8, 4, 100);  // Broker B takes the topic and replays it.
  run_for(1 * kSec);
  ASSERT_EQ(of(PulsarMessage::kSubscribeSuccess).size(), 2u);
  EXPECT_EQ(delivered(8), Payloads{"m1"}) << "m0 is held by t1's pending ack";
  ack_txn(kBrokerB, 8, m0, t2, 51);
  run_for(300 * kMs);
  EXPECT_EQ(ack_error(51), TXN_CONFLICT);

  end_txn(kBrokerB, 14, t1, true);
  run_for(500 * kMs);
  EXPECT_EQ(txn_error(14), NO_ERROR);
  close_consumer(kBrokerB, 8);
  run_for(100 * kMs);
  subscribe(kBrokerB, "t", "s", 9, 5, 100);
  run_for(500 * kMs);
  EXPECT_EQ(delivered(9), Payloads{"m1"}) << "t1's committed ack of m0 holds";
}

// ---- Races ----------------------------------------------------------------------------------

// The coordinator aborts a transaction on timeout while its producer is still sending
// (a stalled client, or a zombie): whatever the topic stored, no message of the aborted
// transaction may reach a committed reader, including sends that race the abort marker.
TEST_F(TxnTest, SendsRacingATimeoutAbortAreNeverDelivered) {
  take_coordinator(kBrokerA, 1);
  create_producer(kBrokerA, "t", 1, "p", 2);
  subscribe(kBrokerA, "t", "s", 7, 3, 1000);
  run_for(300 * kMs);
  const TxnId txn = open_txn(kBrokerA, 10, 1 * kSec);
  register_part(kBrokerA, 11, txn, "t");
  for (std::uint64_t s = 0; s < 500; ++s) {
    publish_txn(kBrokerA, 1, "p", s, txn);
    run_for(2 * kMs);
  }
  run_for(1 * kSec);
  end_txn(kBrokerA, 12, txn, true);
  run_for(300 * kMs);
  EXPECT_EQ(txn_error(12), TXN_NOT_OPEN) << "the timeout aborted it";
  EXPECT_FALSE(send_errors(1).empty()) << "sends after the abort are refused";
  publish(kBrokerA, 1, "p", 1000);
  run_for(500 * kMs);
  EXPECT_EQ(delivered(7), Payloads{"m1000"});
}

}  // namespace
}  // namespace streamlab::pulsar
