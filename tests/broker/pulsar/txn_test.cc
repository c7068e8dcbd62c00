// Transactions (REFERENCE.md "Pulsar transactions (PIP-31)") at the broker, driven over
// the wire by the scripted client (txn_world.h): finding the coordinator, every request
// refused while transactions are off, and the bounds a run found missing. Visibility and
// pending acks are in txn_visibility_test.cc, failover in txn_failover_test.cc, owner
// epochs (zombie fencing) in txn_owner_epoch_test.cc.

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "broker/pulsar/wire.h"
#include "tests/broker/pulsar/txn_world.h"

namespace streamlab::pulsar {
namespace {

// ---- Finding the coordinator ----------------------------------------------------------------

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

// ---- Bounds ---------------------------------------------------------------------------------

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
