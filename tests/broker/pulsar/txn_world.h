#pragma once

// The broker world of the transaction tests (txn_*_test.cc; REFERENCE.md "Pulsar
// transactions (PIP-31)"): the brokers run transactions, and the fixture sends the
// transaction requests over the wire and reads their answers and the consumers'
// deliveries back. Shared by several test files, so nothing here lives in an anonymous
// namespace.
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

inline constexpr std::int64_t kLongTimeoutNs = 60 * kSec;
// What the helpers answer for a request nobody replied to.
inline constexpr ServerError kNoReply = static_cast<ServerError>(-1);

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

// What a consumer got, as payloads "m<sequence id>".
using Payloads = std::vector<std::string>;

}  // namespace streamlab::pulsar
