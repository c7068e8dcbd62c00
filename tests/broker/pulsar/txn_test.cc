// Transactions (REFERENCE.md "Pulsar transactions (PIP-31)") at the broker, driven over
// the wire by the scripted client: finding the coordinator, visibility of committed and
// aborted messages and the max read position, pending acks, the coordinator's and a
// topic's failover, and owner epochs (zombie fencing).
//
// Payloads are "m<sequence id>", so a test states what a consumer got as a list of them.

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "broker/pulsar/wire.h"
#include "tests/broker/pulsar/broker_world.h"

namespace streamlab::pulsar {
namespace {

constexpr std::int64_t kLongTimeoutNs = 60 * kSec;
// What the helpers answer for a request nobody replied to.
constexpr ServerError kNoReply = static_cast<ServerError>(-1);

// The broker world with the brokers running transactions, and the transaction requests.
class TxnTest : public BrokerTest {
 protected:
  void SetUp() override { build_with_transactions(); }

  // Looks the coordinator up at `broker`, which takes it when nobody has it.
  void take_coordinator(NodeId broker, std::uint64_t request_id) {
    lookup(broker, kTxnCoordinator, request_id);
    run_for(500 * kMs);
  }
  void init_owner(NodeId to, std::uint64_t request_id, const std::string& owner) {
    PulsarMessage m;
    m.mutable_txn_init_owner()->set_request_id(request_id);
    m.mutable_txn_init_owner()->set_owner(owner);
    client().send(to, m);
  }
  void new_txn(NodeId to, std::uint64_t request_id, std::int64_t timeout_ns = kLongTimeoutNs,
               const std::string& owner = "", std::uint64_t epoch = 0) {
    PulsarMessage m;
    TxnNew* r = m.mutable_txn_new();
    r->set_request_id(request_id);
    r->set_owner(owner);
    r->set_epoch(epoch);
    r->set_timeout_ns(timeout_ns);
    client().send(to, m);
  }
  void add_part(NodeId to, std::uint64_t request_id, const TxnId& txn, const std::string& topic,
                const std::string& subscription = "", std::uint64_t epoch = 0) {
    PulsarMessage m;
    TxnAddPart* r = m.mutable_txn_add_part();
    r->set_request_id(request_id);
    *r->mutable_txn() = txn;
    r->set_epoch(epoch);
    r->set_topic(topic);
    r->set_subscription(subscription);
    client().send(to, m);
  }
  void end_txn(NodeId to, std::uint64_t request_id, const TxnId& txn, bool commit,
               std::uint64_t epoch = 0) {
    PulsarMessage m;
    TxnEnd* r = m.mutable_txn_end();
    r->set_request_id(request_id);
    *r->mutable_txn() = txn;
    r->set_epoch(epoch);
    r->set_commit(commit);
    client().send(to, m);
  }
  // A message of txn: both the Send and the stored entry name it, as the client does.
  void publish_txn(NodeId broker, std::uint64_t producer_id, const std::string& name,
                   std::uint64_t seq, const TxnId& txn) {
    EntryData entry;
    entry.set_producer_name(name);
    entry.set_sequence_id(seq);
    entry.set_highest_sequence_id(seq);
    *entry.mutable_txn() = txn;
    SingleMessage* msg = entry.add_messages();
    msg->set_sequence_id(seq);
    msg->set_payload("m" + std::to_string(seq));
    PulsarMessage m;
    Send* s = m.mutable_send();
    s->set_producer_id(producer_id);
    s->set_sequence_id(seq);
    s->set_highest_sequence_id(seq);
    s->set_num_messages(1);
    s->set_entry(entry.SerializeAsString());
    *s->mutable_txn() = txn;
    client().send(broker, m);
  }
  void ack_txn(NodeId broker, std::uint64_t consumer_id, const MessageId& id, const TxnId& txn,
               std::uint64_t request_id) {
    PulsarMessage m;
    Ack* a = m.mutable_ack();
    a->set_consumer_id(consumer_id);
    *a->add_message_ids() = id;
    *a->mutable_txn() = txn;
    a->set_request_id(request_id);
    client().send(broker, m);
  }
  void close_consumer(NodeId broker, std::uint64_t consumer_id) {
    PulsarMessage m;
    m.mutable_close_consumer()->set_consumer_id(consumer_id);
    client().send(broker, m);
  }

  // The latest TxnResponse to request_id.
  std::optional<TxnResponse> txn_response(std::uint64_t request_id) const {
    std::optional<TxnResponse> out;
    for (const Received& r : log_) {
      if (r.message.has_txn_response() && r.message.txn_response().request_id() == request_id) {
        out = r.message.txn_response();
      }
    }
    return out;
  }
  ServerError txn_error(std::uint64_t request_id) const {
    const std::optional<TxnResponse> r = txn_response(request_id);
    return r.has_value() ? r->error() : kNoReply;
  }
  ServerError ack_error(std::uint64_t request_id) const {
    ServerError out = kNoReply;
    for (const Received& r : log_) {
      if (r.message.has_ack_response() && r.message.ack_response().request_id() == request_id) {
        out = r.message.ack_response().error();
      }
    }
    return out;
  }
  // The errors of the SendErrors the producer got, in order.
  std::vector<ServerError> send_errors(std::uint64_t producer_id) const {
    std::vector<ServerError> out;
    for (const Received& r : of(PulsarMessage::kSendError)) {
      if (r.message.send_error().producer_id() == producer_id) {
        out.push_back(r.message.send_error().error());
      }
    }
    return out;
  }
  // The latest LookupResponse to request_id.
  std::optional<LookupResponse> lookup_response(std::uint64_t request_id) const {
    std::optional<LookupResponse> out;
    for (const Received& r : of(PulsarMessage::kLookupResponse)) {
      if (r.message.lookup_response().request_id() == request_id) {
        out = r.message.lookup_response();
      }
    }
    return out;
  }

  // Opens a transaction at the coordinator's broker (the test fails if it cannot).
  TxnId open_txn(NodeId coordinator, std::uint64_t request_id,
                 std::int64_t timeout_ns = kLongTimeoutNs) {
    new_txn(coordinator, request_id, timeout_ns);
    run_for(300 * kMs);
    const std::optional<TxnResponse> r = txn_response(request_id);
    EXPECT_TRUE(r.has_value()) << "no answer to TxnNew " << request_id;
    if (!r.has_value()) return TxnId{};
    EXPECT_EQ(r->error(), NO_ERROR);
    EXPECT_TRUE(r->has_txn());
    return r->txn();
  }
  // Registers the topic (and the subscription, for acks) with the transaction.
  void register_part(NodeId coordinator, std::uint64_t request_id, const TxnId& txn,
                     const std::string& topic, const std::string& subscription = "") {
    add_part(coordinator, request_id, txn, topic, subscription);
    run_for(300 * kMs);
    EXPECT_EQ(txn_error(request_id), NO_ERROR) << "TxnAddPart " << request_id;
  }

  // The payloads delivered to the consumer, in delivery order; "<control>" for an entry
  // with no message (a marker or a pending-ack record, which must never be delivered).
  std::vector<std::string> delivered(std::uint64_t consumer_id) const {
    std::vector<std::string> out;
    for (const Received& r : of(PulsarMessage::kDelivery)) {
      if (r.message.delivery().consumer_id() != consumer_id) continue;
      EntryData entry;
      EXPECT_TRUE(entry.ParseFromString(r.message.delivery().entry()));
      out.push_back(entry.messages_size() == 0 ? "<control>" : entry.messages(0).payload());
    }
    return out;
  }
  // The id of the latest delivery of `payload` to the consumer (the test fails if none).
  MessageId delivered_id(std::uint64_t consumer_id, const std::string& payload) const {
    std::optional<MessageId> out;
    for (const Received& r : of(PulsarMessage::kDelivery)) {
      if (r.message.delivery().consumer_id() != consumer_id) continue;
      EntryData entry;
      if (entry.ParseFromString(r.message.delivery().entry()) && entry.messages_size() > 0 &&
          entry.messages(0).payload() == payload) {
        out = r.message.delivery().message_id();
      }
    }
    EXPECT_TRUE(out.has_value()) << payload << " was not delivered to " << consumer_id;
    return out.value_or(MessageId{});
  }
  // A redelivery count of the latest delivery of `payload` to the consumer (-1: none).
  std::int64_t redelivery_count(std::uint64_t consumer_id, const std::string& payload) const {
    std::int64_t out = -1;
    for (const Received& r : of(PulsarMessage::kDelivery)) {
      EntryData entry;
      if (r.message.delivery().consumer_id() == consumer_id &&
          entry.ParseFromString(r.message.delivery().entry()) && entry.messages_size() > 0 &&
          entry.messages(0).payload() == payload) {
        out = r.message.delivery().redelivery_count();
      }
    }
    return out;
  }
};

using Payloads = std::vector<std::string>;

// ---- Finding the coordinator ---------------------------------------------------------------

TEST_F(TxnTest, TheCoordinatorIsLookedUpLikeATopicAndHandsOutTxnIds) {
  lookup(kBrokerA, kTxnCoordinator, 1);
  run_for(500 * kMs);
  lookup(kBrokerB, kTxnCoordinator, 2);
  run_for(300 * kMs);
  const std::optional<LookupResponse> taken = lookup_response(1);
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(taken->error(), NO_ERROR);
  EXPECT_EQ(taken->broker(), "n4");
  EXPECT_FALSE(taken->redirect());
  const std::optional<LookupResponse> elsewhere = lookup_response(2);
  ASSERT_TRUE(elsewhere.has_value());
  EXPECT_EQ(elsewhere->broker(), "n4");
  EXPECT_TRUE(elsewhere->redirect());

  new_txn(kBrokerA, 10);
  new_txn(kBrokerA, 11);
  new_txn(kBrokerB, 12);  // Not the coordinator's broker.
  run_for(300 * kMs);
  const std::optional<TxnResponse> first = txn_response(10);
  const std::optional<TxnResponse> second = txn_response(11);
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(first->error(), NO_ERROR);
  EXPECT_EQ(second->error(), NO_ERROR);
  ASSERT_TRUE(first->has_txn());
  ASSERT_TRUE(second->has_txn());
  EXPECT_NE(first->txn().least(), 0u);
  EXPECT_NE(first->txn().least(), second->txn().least());
  EXPECT_EQ(txn_error(12), NOT_COORDINATOR);
}

TEST_F(TxnTest, TxnNewWithoutATimeoutIsMalformed) {
  take_coordinator(kBrokerA, 1);
  new_txn(kBrokerA, 10, 0);
  run_for(300 * kMs);
  EXPECT_EQ(txn_error(10), MALFORMED_REQUEST);
}

// The default world: the brokers run without transactions.
class TxnOffTest : public BrokerTest {};

TEST_F(TxnOffTest, EveryTxnRequestIsRefusedWithTxnDisabled) {
  lookup(kBrokerA, kTxnCoordinator, 1);
  {
    PulsarMessage m;
    m.mutable_txn_new()->set_request_id(2);
    m.mutable_txn_new()->set_timeout_ns(kSec);
    client().send(kBrokerA, m);
  }
  create_producer(kBrokerA, "t", 1, "p", 3);
  subscribe(kBrokerA, "t", "s", 7, 4, 100);
  run_for(300 * kMs);
  publish(kBrokerA, 1, "p", 0);
  run_for(300 * kMs);
  ASSERT_EQ(of(PulsarMessage::kDelivery).size(), 1u);
  TxnId txn;
  txn.set_least(1);
  {
    PulsarMessage m;
    Send* s = m.mutable_send();
    s->set_producer_id(1);
    s->set_sequence_id(1);
    s->set_highest_sequence_id(1);
    s->set_num_messages(1);
    s->set_entry(EntryData{}.SerializeAsString());
    *s->mutable_txn() = txn;
    client().send(kBrokerA, m);
  }
  {
    PulsarMessage m;
    Ack* a = m.mutable_ack();
    a->set_consumer_id(7);
    *a->add_message_ids() = of(PulsarMessage::kDelivery)[0].message.delivery().message_id();
    *a->mutable_txn() = txn;
    a->set_request_id(5);
    client().send(kBrokerA, m);
  }
  run_for(300 * kMs);

  const auto lookups = of(PulsarMessage::kLookupResponse);
  ASSERT_EQ(lookups.size(), 1u);
  EXPECT_EQ(lookups[0].message.lookup_response().error(), TXN_DISABLED);
  EXPECT_TRUE(lookups[0].message.lookup_response().broker().empty());
  const auto responses = of(PulsarMessage::kTxnResponse);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].message.txn_response().request_id(), 2u);
  EXPECT_EQ(responses[0].message.txn_response().error(), TXN_DISABLED);
  const auto errors = of(PulsarMessage::kSendError);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message.send_error().error(), TXN_DISABLED);
  const auto acks = of(PulsarMessage::kAckResponse);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].message.ack_response().error(), TXN_DISABLED);
  EXPECT_EQ(static_cast<Broker*>(world_->actor(kBrokerA))->owned_topics(),
            std::vector<std::string>{"t"});
}


// ---- Visibility: commit, abort, the max read position --------------------------------------

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

// ---- Pending acks --------------------------------------------------------------------------

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

// ---- Failover ------------------------------------------------------------------------------

// The coordinator's broker dies: the other takes the coordinator on the next lookup,
// replays the transaction log, answers for what was committed, commits an open
// transaction on request, and times out one that was left open.
TEST_F(TxnTest, TheOtherBrokerTakesTheCoordinatorOverAndFinishesItsTxns) {
  take_coordinator(kBrokerA, 1);
  create_producer(kBrokerB, "t", 1, "p", 2);
  subscribe(kBrokerB, "t", "s", 7, 3, 100);
  run_for(300 * kMs);
  const TxnId t1 = open_txn(kBrokerA, 10);
  register_part(kBrokerA, 11, t1, "t");
  publish_txn(kBrokerB, 1, "p", 0, t1);
  run_for(300 * kMs);
  end_txn(kBrokerA, 12, t1, true);
  run_for(500 * kMs);
  ASSERT_EQ(txn_error(12), NO_ERROR);
  ASSERT_EQ(delivered(7), Payloads{"m0"});

  const TxnId left_open = open_txn(kBrokerA, 20, 8 * kSec);  // Times out at B.
  register_part(kBrokerA, 21, left_open, "t");
  publish_txn(kBrokerB, 1, "p", 1, left_open);
  const TxnId to_commit = open_txn(kBrokerA, 30);
  register_part(kBrokerA, 31, to_commit, "t");
  publish_txn(kBrokerB, 1, "p", 2, to_commit);
  publish(kBrokerB, 1, "p", 3);
  run_for(300 * kMs);
  ASSERT_EQ(of(PulsarMessage::kSendReceipt).size(), 4u);

  world_->crash(kBrokerA);
  run_for(3 * kSec);  // Its session expires, and the coordinator's owner key with it.
  lookup(kBrokerB, kTxnCoordinator, 40);
  run_for(1 * kSec);
  const std::optional<LookupResponse> taken = lookup_response(40);
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(taken->error(), NO_ERROR);
  EXPECT_EQ(taken->broker(), "n5");
  EXPECT_FALSE(taken->redirect());

  end_txn(kBrokerB, 41, t1, true);  // Committed before: the answer stands.
  end_txn(kBrokerB, 42, to_commit, true);
  run_for(500 * kMs);
  EXPECT_EQ(txn_error(41), NO_ERROR);
  EXPECT_EQ(txn_error(42), NO_ERROR);
  // m2 is committed but lies behind left_open's m1, which may still commit.
  EXPECT_EQ(delivered(7), Payloads{"m0"});

  run_for(5 * kSec);  // left_open's timeout passes at the new coordinator.
  EXPECT_EQ(delivered(7), (Payloads{"m0", "m2", "m3"}));
  end_txn(kBrokerB, 43, left_open, true);
  run_for(300 * kMs);
  EXPECT_EQ(txn_error(43), TXN_NOT_OPEN);
  new_txn(kBrokerB, 44);
  run_for(300 * kMs);
  const std::optional<TxnResponse> fresh = txn_response(44);
  ASSERT_TRUE(fresh.has_value());
  EXPECT_EQ(fresh->error(), NO_ERROR);
  EXPECT_GT(fresh->txn().least(), to_commit.least()) << "ids are not reused after a failover";
}

// The topic's owner dies before the commit: its next owner replays the log into the
// transaction buffer, so the messages stay invisible until the coordinator commits.
TEST_F(TxnTest, ANewTopicOwnerHoldsOpenTxnMessagesUntilTheCommit) {
  take_coordinator(kBrokerB, 1);
  create_producer(kBrokerA, "t", 1, "p", 2);
  subscribe(kBrokerA, "t", "s", 7, 3, 100);
  run_for(300 * kMs);
  publish(kBrokerA, 1, "p", 0);
  const TxnId txn = open_txn(kBrokerB, 10);
  register_part(kBrokerB, 11, txn, "t");
  publish_txn(kBrokerA, 1, "p", 1, txn);
  publish_txn(kBrokerA, 1, "p", 2, txn);
  publish(kBrokerA, 1, "p", 3);
  run_for(300 * kMs);
  ASSERT_EQ(of(PulsarMessage::kSendReceipt).size(), 4u);
  ASSERT_EQ(delivered(7), Payloads{"m0"});
  ack(kBrokerA, 7, delivered_id(7, "m0"));
  run_for(1 * kSec);  // The cursor persists.

  world_->crash(kBrokerA);
  run_for(3 * kSec);
  subscribe(kBrokerB, "t", "s", 8, 4, 100);
  run_for(1 * kSec);
  ASSERT_EQ(of(PulsarMessage::kSubscribeSuccess).size(), 2u);
  EXPECT_EQ(delivered(8), Payloads{});
  run_for(2 * kSec);
  EXPECT_EQ(delivered(8), Payloads{});

  end_txn(kBrokerB, 12, txn, true);
  run_for(500 * kMs);
  EXPECT_EQ(txn_error(12), NO_ERROR);
  EXPECT_EQ(delivered(8), (Payloads{"m1", "m2", "m3"}));
}

TEST_F(TxnTest, ANewTopicOwnerDropsTxnMessagesWhenTheTxnAborts) {
  take_coordinator(kBrokerB, 1);
  create_producer(kBrokerA, "t", 1, "p", 2);
  run_for(300 * kMs);
  const TxnId txn = open_txn(kBrokerB, 10);
  register_part(kBrokerB, 11, txn, "t");
  publish_txn(kBrokerA, 1, "p", 0, txn);
  publish(kBrokerA, 1, "p", 1);
  run_for(300 * kMs);
  ASSERT_EQ(of(PulsarMessage::kSendReceipt).size(), 2u);

  world_->crash(kBrokerA);
  run_for(3 * kSec);
  subscribe(kBrokerB, "t", "s", 8, 4, 100);
  run_for(1 * kSec);
  EXPECT_EQ(delivered(8), Payloads{});
  end_txn(kBrokerB, 12, txn, false);
  run_for(500 * kMs);
  EXPECT_EQ(txn_error(12), NO_ERROR);
  EXPECT_EQ(delivered(8), Payloads{"m1"});
  create_producer(kBrokerB, "t", 2, "p", 5);
  run_for(300 * kMs);
  publish_txn(kBrokerB, 2, "p", 2, txn);  // The replayed marker ends it at the new owner.
  run_for(300 * kMs);
  EXPECT_EQ(send_errors(2), std::vector<ServerError>{TXN_NOT_OPEN});
  EXPECT_EQ(delivered(8), Payloads{"m1"});
}

// ---- Owner epochs --------------------------------------------------------------------------

// Kafka's transactional.id fencing: a new instance of "app" takes a higher epoch; the
// old epoch is refused and its open transaction is aborted.
TEST_F(TxnTest, ANewOwnerEpochFencesTheEarlierInstanceAndAbortsItsTxn) {
  take_coordinator(kBrokerA, 1);
  create_producer(kBrokerA, "t", 1, "p", 2);
  subscribe(kBrokerA, "t", "s", 7, 3, 100);
  run_for(300 * kMs);
  init_owner(kBrokerA, 10, "app");
  run_for(300 * kMs);
  const std::optional<TxnResponse> first = txn_response(10);
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first->error(), NO_ERROR);
  const std::uint64_t e1 = first->epoch();
  new_txn(kBrokerA, 11, kLongTimeoutNs, "app", e1);
  run_for(300 * kMs);
  const std::optional<TxnResponse> opened = txn_response(11);
  ASSERT_TRUE(opened.has_value());
  ASSERT_EQ(opened->error(), NO_ERROR);
  const TxnId zombie = opened->txn();
  add_part(kBrokerA, 12, zombie, "t", "", e1);
  run_for(300 * kMs);
  ASSERT_EQ(txn_error(12), NO_ERROR);
  publish_txn(kBrokerA, 1, "p", 0, zombie);
  run_for(300 * kMs);

  init_owner(kBrokerA, 20, "app");
  run_for(500 * kMs);
  const std::optional<TxnResponse> second = txn_response(20);
  ASSERT_TRUE(second.has_value());
  ASSERT_EQ(second->error(), NO_ERROR);
  const std::uint64_t e2 = second->epoch();
  EXPECT_GT(e2, e1);

  new_txn(kBrokerA, 21, kLongTimeoutNs, "app", e1);
  end_txn(kBrokerA, 22, zombie, true, e1);
  end_txn(kBrokerA, 23, zombie, true, e2);
  new_txn(kBrokerA, 24, kLongTimeoutNs, "app", e2);
  publish_txn(kBrokerA, 1, "p", 1, zombie);
  publish(kBrokerA, 1, "p", 2);
  run_for(500 * kMs);
  EXPECT_EQ(txn_error(21), TXN_FENCED);
  EXPECT_EQ(txn_error(22), TXN_FENCED);
  EXPECT_EQ(txn_error(23), TXN_NOT_OPEN) << "the second init aborted it";
  EXPECT_EQ(txn_error(24), NO_ERROR);
  EXPECT_EQ(send_errors(1), std::vector<ServerError>{TXN_NOT_OPEN});
  EXPECT_EQ(delivered(7), Payloads{"m2"});
}

TEST_F(TxnTest, WithoutZombieFencingAStaleTxnEpochIsAccepted) {
  BrokerConfig unsafe;
  unsafe.txn_zombie_fencing = false;
  log_.clear();
  build_with_transactions(unsafe);
  take_coordinator(kBrokerA, 1);
  create_producer(kBrokerA, "t", 1, "p", 2);
  subscribe(kBrokerA, "t", "s", 7, 3, 100);
  run_for(300 * kMs);
  init_owner(kBrokerA, 10, "app");
  run_for(300 * kMs);
  const std::uint64_t e1 = txn_response(10).value_or(TxnResponse{}).epoch();
  new_txn(kBrokerA, 11, kLongTimeoutNs, "app", e1);
  run_for(300 * kMs);
  const TxnId zombie = txn_response(11).value_or(TxnResponse{}).txn();
  add_part(kBrokerA, 12, zombie, "t", "", e1);
  run_for(300 * kMs);
  publish_txn(kBrokerA, 1, "p", 0, zombie);
  run_for(300 * kMs);
  init_owner(kBrokerA, 20, "app");
  run_for(500 * kMs);
  EXPECT_EQ(txn_error(20), NO_ERROR);

  new_txn(kBrokerA, 21, kLongTimeoutNs, "app", e1);
  end_txn(kBrokerA, 22, zombie, true, e1);
  run_for(500 * kMs);
  EXPECT_EQ(txn_error(21), NO_ERROR) << "the stale epoch is accepted: that is the zombie";
  EXPECT_EQ(txn_error(22), NO_ERROR) << "the zombie's transaction commits";
  EXPECT_EQ(delivered(7), Payloads{"m0"});
}

// The epochs are in the coordinator's log: the next coordinator keeps fencing.
TEST_F(TxnTest, OwnerEpochsSurviveACoordinatorFailover) {
  take_coordinator(kBrokerA, 1);
  init_owner(kBrokerA, 10, "app");
  run_for(300 * kMs);
  init_owner(kBrokerA, 11, "app");
  run_for(300 * kMs);
  const std::uint64_t e2 = txn_response(11).value_or(TxnResponse{}).epoch();
  ASSERT_EQ(txn_error(11), NO_ERROR);

  world_->crash(kBrokerA);
  run_for(3 * kSec);
  take_coordinator(kBrokerB, 20);
  ASSERT_EQ(lookup_response(20).value_or(LookupResponse{}).broker(), "n5");
  new_txn(kBrokerB, 21, kLongTimeoutNs, "app", e2 - 1);
  new_txn(kBrokerB, 22, kLongTimeoutNs, "app", e2);
  init_owner(kBrokerB, 23, "app");
  run_for(500 * kMs);
  EXPECT_EQ(txn_error(21), TXN_FENCED);
  EXPECT_EQ(txn_error(22), NO_ERROR);
  EXPECT_EQ(txn_error(23), NO_ERROR);
  EXPECT_GT(txn_response(23).value_or(TxnResponse{}).epoch(), e2);
}

// ---- Races ---------------------------------------------------------------------------------

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

// ---- Bounds --------------------------------------------------------------------------------

// txn-swarm.safe seed 7164 in small: an owner paused past its session resumes with two
// markers to write. The store's SESSION_EXPIRED closes the topic while they are in flight
// (a closing topic waits for its appends), and the first marker's completion dispatches
// the subscription it made readable. Its reads go to the bookies through the ledger
// client, whose metadata client, between sessions, fails every request on the spot: a
// dispatcher that read again at once kept failing at one instant, so simulated time never
// reached the new session nor the second marker, and the simulator's queue grew without
// bound. A failed read waits for a backoff instead.
TEST_F(TxnTest, AReadThatFailsAtOnceIsRetriedAfterABackoffNotInPlace) {
  BrokerConfig config;
  config.entry_cache_bytes = 0;  // Every read goes to the bookies, as a new owner's do.
  log_.clear();
  build_with_transactions(config);
  take_coordinator(kBrokerB, 1);
  create_producer(kBrokerA, "t", 1, "p", 2);
  subscribe(kBrokerA, "t", "s", 7, 3, 100);
  run_for(300 * kMs);
  const TxnId first = open_txn(kBrokerB, 10);
  register_part(kBrokerB, 11, first, "t");
  const TxnId second = open_txn(kBrokerB, 12);
  register_part(kBrokerB, 13, second, "t");
  publish_txn(kBrokerA, 1, "p", 0, first);
  publish_txn(kBrokerA, 1, "p", 1, first);
  run_for(300 * kMs);
  ASSERT_EQ(of(PulsarMessage::kSendReceipt).size(), 2u);
  ASSERT_EQ(delivered(7), Payloads{});

  // The store's disk is slow, so the session it opens next takes 150 ms; the bookies'
  // links are slow, so the markers complete after the expiry and before the new session.
  world_->disk(kMeta).faults().slowdown_factor = 1000;
  const sim::FaultHandle clog = world_->network().clog({kBrokerA}, {1, 2, 3}, 10 * kMs);
  world_->pause(kBrokerA, 3 * kSec);
  for (const auto& [request_id, txn] : {std::pair{20, first}, std::pair{21, second}}) {
    PulsarMessage m;
    TxnMarkerRequest* r = m.mutable_txn_marker();
    r->set_request_id(request_id);
    *r->mutable_txn() = txn;
    r->set_topic("t");
    r->set_commit(true);
    client().send(kBrokerA, m);
  }

  // These 4 s take some 500 events; the loop ran any number of them without time moving.
  sim::Kernel& kernel = world_->kernel();
  const std::int64_t until = kernel.now() + 4 * kSec;
  const std::uint64_t cap = kernel.events_executed() + 100'000;
  while (kernel.next_time() <= until && kernel.events_executed() < cap) kernel.step();
  ASSERT_LT(kernel.events_executed(), cap) << "stuck at " << kernel.now() << " ns";
  world_->run_until(until);
  world_->network().remove(clog);
  world_->disk(kMeta).faults().slowdown_factor = 1;

  // The path above was taken: the expiry closed the topic, and both markers were stored.
  EXPECT_FALSE(of(PulsarMessage::kCloseConsumer).empty());
  std::vector<ServerError> markers;
  for (const Received& r : of(PulsarMessage::kTxnMarkerResponse)) {
    markers.push_back(r.message.txn_marker_response().error());
  }
  EXPECT_EQ(markers, (std::vector<ServerError>{NO_ERROR, NO_ERROR}));
  // Nothing was lost on the way: the topic's next load serves the committed messages.
  subscribe(kBrokerA, "t", "s", 8, 30, 100);
  run_for(2 * kSec);
  EXPECT_EQ(delivered(8), (Payloads{"m0", "m1"}));
}

}  // namespace
}  // namespace streamlab::pulsar
