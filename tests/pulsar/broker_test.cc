// The broker under the simulator, driven by a scripted client that speaks the wire
// protocol directly: ownership and redirects, publishing and receipts, deduplication
// across a failover, fencing of a paused owner, subscriptions and cursors, bad input.

#include "broker/pulsar/broker.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "broker/pulsar/wire.h"
#include "broker/storage/bookie.h"
#include "broker/storage/metadata_state.h"
#include "broker/storage/metadata_store.h"
#include "sim/world.h"
#include "tests/sim/test_world.h"

namespace streamlab::pulsar {
namespace {

using sim::test_util::kMs;
using sim::test_util::kSec;

// Nodes: n0 metadata, n1..n3 bookies, n4 and n5 brokers, n6 the client.
constexpr std::uint32_t kMeta = 0;
constexpr std::uint32_t kBrokerA = 4;
constexpr std::uint32_t kBrokerB = 5;
constexpr std::uint32_t kClient = 6;

struct Received {
  std::int64_t time_ns;
  NodeId from;
  PulsarMessage message;
};

class ScriptedClient final : public Node {
 public:
  ScriptedClient(Runtime& rt, const sim::Kernel& kernel, std::vector<Received>& log)
      : rt_(rt), kernel_(kernel), log_(log) {}
  void on_start() override {}
  void on_message(NodeId from, std::span<const std::uint8_t> bytes) override {
    PulsarMessage m;
    ASSERT_TRUE(parse_message(bytes, &m));
    log_.push_back({kernel_.now(), from, m});
  }
  void on_connection_broken(NodeId) override { ++broken; }

  int broken = 0;

  void send(NodeId to, const PulsarMessage& m) { send_message(rt_, to, m, buffer_); }
  void raw(NodeId to, std::vector<std::uint8_t> bytes) { rt_.send(to, bytes); }

 private:
  Runtime& rt_;
  const sim::Kernel& kernel_;
  std::vector<Received>& log_;
  std::vector<std::uint8_t> buffer_;
};

class BrokerTest : public ::testing::Test {
 protected:
  void SetUp() override { build(BrokerConfig{}); }

  void build(BrokerConfig config) {
    sim::Topology topology =
        sim::test_util::make_topology({0, 0, 1, 2, 0, 1, 2}, {0, 0, 0});
    world_ = std::make_unique<sim::World>(std::move(topology), 7);
    config.metadata.store = "n0";
    config.metadata.session_timeout_ns = 2 * kSec;
    for (int b = 1; b <= 3; ++b) {
      config.ledger.bookies.push_back({"n" + std::to_string(b), "z" + std::to_string(b - 1)});
    }
    config.ledger_options.quorums = storage::Quorums{3, 3, 2};
    config.ledger_options.placement.policy = storage::PlacementPolicy::random;
    config.ledger.add_timeout_ns = 20 * kSec;
    config_ = config;
    world_->set_factory(kMeta, [](Runtime& rt) {
      return std::make_unique<storage::MetadataStore>(rt, storage::MetadataStoreConfig{});
    });
    for (std::uint32_t b = 1; b <= 3; ++b) {
      world_->set_factory(b, [](Runtime& rt) {
        return std::make_unique<storage::Bookie>(rt, storage::BookieConfig{});
      });
    }
    for (const std::uint32_t b : {kBrokerA, kBrokerB}) {
      world_->set_factory(b, [this](Runtime& rt) { return std::make_unique<Broker>(rt, config_); });
    }
    world_->set_factory(kClient, [this](Runtime& rt) {
      return std::make_unique<ScriptedClient>(rt, world_->kernel(), log_);
    });
    world_->start();
    run_for(500 * kMs);  // Sessions open.
  }

  void run_for(std::int64_t ns) { world_->run_until(world_->kernel().now() + ns); }
  ScriptedClient& client() { return *static_cast<ScriptedClient*>(world_->actor(kClient)); }

  void lookup(NodeId broker, const std::string& topic, std::uint64_t request_id) {
    PulsarMessage m;
    m.mutable_lookup()->set_request_id(request_id);
    m.mutable_lookup()->set_topic(topic);
    client().send(broker, m);
  }
  void create_producer(NodeId broker, const std::string& topic, std::uint64_t producer_id,
                       const std::string& name, std::uint64_t request_id) {
    PulsarMessage m;
    CreateProducer* p = m.mutable_create_producer();
    p->set_request_id(request_id);
    p->set_producer_id(producer_id);
    p->set_topic(topic);
    p->set_producer_name(name);
    client().send(broker, m);
  }
  void publish(NodeId broker, std::uint64_t producer_id, const std::string& name,
               std::uint64_t seq) {
    EntryData entry;
    entry.set_producer_name(name);
    entry.set_sequence_id(seq);
    entry.set_highest_sequence_id(seq);
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
    client().send(broker, m);
  }
  void subscribe(NodeId broker, const std::string& topic, const std::string& sub,
                 std::uint64_t consumer_id, std::uint64_t request_id, std::uint32_t permits) {
    PulsarMessage m;
    Subscribe* s = m.mutable_subscribe();
    s->set_request_id(request_id);
    s->set_consumer_id(consumer_id);
    s->set_topic(topic);
    s->set_subscription(sub);
    s->set_type(EXCLUSIVE);
    s->set_consumer_name("c");
    s->set_initial_position(EARLIEST);
    client().send(broker, m);
    // Permits count once the consumer exists, as a real client sends them on success.
    world_->run_until(world_->kernel().now() + 300 * kMs);
    PulsarMessage f;
    f.mutable_flow()->set_consumer_id(consumer_id);
    f.mutable_flow()->set_permits(permits);
    client().send(broker, f);
  }
  void ack(NodeId broker, std::uint64_t consumer_id, const MessageId& id) {
    PulsarMessage m;
    m.mutable_ack()->set_consumer_id(consumer_id);
    *m.mutable_ack()->add_message_ids() = id;
    client().send(broker, m);
  }

  std::vector<Received> of(PulsarMessage::BodyCase kind) const {
    std::vector<Received> out;
    for (const Received& r : log_) {
      if (r.message.body_case() == kind) out.push_back(r);
    }
    return out;
  }

  BrokerConfig config_;
  std::unique_ptr<sim::World> world_;
  std::vector<Received> log_;
};

TEST_F(BrokerTest, LookupTakesAnUnownedTopicAndOthersRedirectToTheOwner) {
  lookup(kBrokerA, "t", 1);
  run_for(200 * kMs);
  lookup(kBrokerB, "t", 2);
  run_for(200 * kMs);
  const auto replies = of(PulsarMessage::kLookupResponse);
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].message.lookup_response().broker(), "n4");
  EXPECT_FALSE(replies[0].message.lookup_response().redirect());
  EXPECT_EQ(replies[1].message.lookup_response().broker(), "n4");
  EXPECT_TRUE(replies[1].message.lookup_response().redirect());
  EXPECT_EQ(static_cast<Broker*>(world_->actor(kBrokerA))->owned_topics(),
            std::vector<std::string>{"t"});
}

TEST_F(BrokerTest, ReceiptsComeInOrderAndConsumersGetEveryEntry) {
  create_producer(kBrokerA, "t", 1, "p", 1);
  run_for(300 * kMs);
  ASSERT_EQ(of(PulsarMessage::kProducerSuccess).size(), 1u);
  EXPECT_EQ(of(PulsarMessage::kProducerSuccess)[0].message.producer_success().last_sequence_id(), -1);
  for (std::uint64_t s = 0; s < 20; ++s) publish(kBrokerA, 1, "p", s);
  run_for(300 * kMs);
  const auto receipts = of(PulsarMessage::kSendReceipt);
  ASSERT_EQ(receipts.size(), 20u);
  for (std::size_t i = 0; i < receipts.size(); ++i) {
    EXPECT_EQ(receipts[i].message.send_receipt().sequence_id(), i);
    EXPECT_EQ(receipts[i].message.send_receipt().message_id().entry_id(), static_cast<std::int64_t>(i));
    EXPECT_EQ(receipts[i].message.send_receipt().broker(), "n4");
  }
  subscribe(kBrokerA, "t", "s", 7, 2, 100);
  run_for(300 * kMs);
  ASSERT_EQ(of(PulsarMessage::kSubscribeSuccess).size(), 1u);
  const auto deliveries = of(PulsarMessage::kDelivery);
  ASSERT_EQ(deliveries.size(), 20u);
  for (std::size_t i = 0; i < deliveries.size(); ++i) {
    EntryData entry;
    ASSERT_TRUE(entry.ParseFromString(deliveries[i].message.delivery().entry()));
    EXPECT_EQ(entry.sequence_id(), i);
  }
}

TEST_F(BrokerTest, DeduplicationAnswersAStoredResendWithoutStoringIt) {
  create_producer(kBrokerA, "t", 1, "p", 1);
  run_for(300 * kMs);
  for (std::uint64_t s = 0; s < 5; ++s) publish(kBrokerA, 1, "p", s);
  run_for(300 * kMs);
  publish(kBrokerA, 1, "p", 3);
  run_for(300 * kMs);
  const auto receipts = of(PulsarMessage::kSendReceipt);
  ASSERT_EQ(receipts.size(), 6u);
  EXPECT_TRUE(receipts[5].message.send_receipt().duplicate());
  EXPECT_EQ(receipts[5].message.send_receipt().sequence_id(), 3u);
}

TEST_F(BrokerTest, TheNextOwnerReplaysDeduplicationAfterTheOwnerCrashes) {
  create_producer(kBrokerA, "t", 1, "p", 1);
  run_for(300 * kMs);
  for (std::uint64_t s = 0; s < 5; ++s) publish(kBrokerA, 1, "p", s);
  run_for(300 * kMs);
  world_->crash(kBrokerA);
  run_for(3 * kSec);  // The session expires and the owner key goes.
  create_producer(kBrokerB, "t", 2, "p", 2);
  run_for(1 * kSec);
  const auto created = of(PulsarMessage::kProducerSuccess);
  ASSERT_EQ(created.size(), 2u);
  EXPECT_EQ(created[1].message.producer_success().last_sequence_id(), 4);
  publish(kBrokerB, 2, "p", 4);
  publish(kBrokerB, 2, "p", 5);
  run_for(500 * kMs);
  const auto receipts = of(PulsarMessage::kSendReceipt);
  ASSERT_EQ(receipts.size(), 7u);
  EXPECT_TRUE(receipts[5].message.send_receipt().duplicate());
  EXPECT_FALSE(receipts[6].message.send_receipt().duplicate());
  EXPECT_EQ(receipts[6].message.send_receipt().broker(), "n5");
}

TEST_F(BrokerTest, APausedOwnerIsFencedWhenItResumes) {
  create_producer(kBrokerA, "t", 1, "p", 1);
  run_for(300 * kMs);
  publish(kBrokerA, 1, "p", 0);
  run_for(300 * kMs);
  world_->pause(kBrokerA, 6 * kSec);
  run_for(3 * kSec);
  lookup(kBrokerB, "t", 5);  // The key is gone: broker B takes the topic and fences A's ledger.
  run_for(1 * kSec);
  publish(kBrokerA, 1, "p", 1);  // Queued at the paused broker.
  run_for(4 * kSec);
  const auto lookups = of(PulsarMessage::kLookupResponse);
  ASSERT_EQ(lookups.size(), 1u);
  EXPECT_EQ(lookups[0].message.lookup_response().broker(), "n5");
  EXPECT_EQ(of(PulsarMessage::kSendReceipt).size(), 1u) << "the zombie acknowledged a write";
  const auto errors = of(PulsarMessage::kSendError);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message.send_error().error(), TOPIC_FENCED);
  EXPECT_EQ(of(PulsarMessage::kCloseProducer).size(), 1u);
}

TEST_F(BrokerTest, WithoutFencingAPausedOwnerStillAcknowledges) {
  BrokerConfig unsafe;
  unsafe.ledger.recovery_fencing = false;
  log_.clear();
  build(unsafe);
  create_producer(kBrokerA, "t", 1, "p", 1);
  run_for(300 * kMs);
  publish(kBrokerA, 1, "p", 0);
  run_for(300 * kMs);
  world_->pause(kBrokerA, 6 * kSec);
  run_for(3 * kSec);
  lookup(kBrokerB, "t", 5);
  run_for(1 * kSec);
  publish(kBrokerA, 1, "p", 1);
  run_for(4 * kSec);
  const auto receipts = of(PulsarMessage::kSendReceipt);
  ASSERT_EQ(receipts.size(), 2u) << "the zombie should acknowledge: that is the split brain";
  EXPECT_EQ(receipts[1].message.send_receipt().broker(), "n4");
}

TEST_F(BrokerTest, IndividualAcksSurviveAFailoverAndOnlyUnackedEntriesComeBack) {
  create_producer(kBrokerA, "t", 1, "p", 1);
  subscribe(kBrokerA, "t", "s", 7, 2, 100);
  run_for(300 * kMs);
  for (std::uint64_t s = 0; s < 10; ++s) publish(kBrokerA, 1, "p", s);
  run_for(500 * kMs);
  const auto first = of(PulsarMessage::kDelivery);
  ASSERT_EQ(first.size(), 10u);
  for (const Received& d : first) {
    EntryData entry;
    ASSERT_TRUE(entry.ParseFromString(d.message.delivery().entry()));
    if (entry.sequence_id() % 2 == 0) ack(kBrokerA, 7, d.message.delivery().message_id());
  }
  run_for(1 * kSec);  // The cursor persists its state.
  world_->crash(kBrokerA);
  run_for(3 * kSec);
  log_.clear();
  subscribe(kBrokerB, "t", "s", 8, 3, 100);
  run_for(1 * kSec);
  const auto again = of(PulsarMessage::kDelivery);
  ASSERT_EQ(again.size(), 5u);
  for (const Received& d : again) {
    EntryData entry;
    ASSERT_TRUE(entry.ParseFromString(d.message.delivery().entry()));
    EXPECT_EQ(entry.sequence_id() % 2, 1u);
  }
}

// The client gave its first attempt up (its close was lost with the connection): the
// same consumer name from the same client takes the exclusive subscription over instead
// of meeting CONSUMER_BUSY forever, and gets what the first attempt had not acked.
TEST_F(BrokerTest, AClientSubscribingAgainUnderItsNameReplacesItsEarlierAttempt) {
  create_producer(kBrokerA, "t", 1, "p", 1);
  run_for(300 * kMs);
  for (std::uint64_t s = 0; s < 3; ++s) publish(kBrokerA, 1, "p", s);
  run_for(300 * kMs);
  subscribe(kBrokerA, "t", "s", 7, 2, 100);
  run_for(300 * kMs);
  ASSERT_EQ(of(PulsarMessage::kDelivery).size(), 3u);
  subscribe(kBrokerA, "t", "s", 8, 3, 100);
  run_for(300 * kMs);
  EXPECT_TRUE(of(PulsarMessage::kError).empty());
  ASSERT_EQ(of(PulsarMessage::kSubscribeSuccess).size(), 2u);
  const auto deliveries = of(PulsarMessage::kDelivery);
  ASSERT_EQ(deliveries.size(), 6u);
  for (std::size_t i = 3; i < deliveries.size(); ++i) {
    EXPECT_EQ(deliveries[i].message.delivery().consumer_id(), 8u);
  }
}

// A broker that finds its connection to a client broken drops the client's consumers;
// the client must hear of it even when its own connection looks fine, or an idle
// consumer would wait for deliveries forever.
TEST_F(BrokerTest, ABrokenConnectionToAClientIsBrokenBothWays) {
  subscribe(kBrokerA, "t", "s", 7, 1, 100);
  run_for(300 * kMs);
  ASSERT_EQ(of(PulsarMessage::kSubscribeSuccess).size(), 1u);
  const int broken_before = client().broken;
  // Only broker -> client is cut; the broker meets it with its next ping.
  const sim::FaultHandle cut = world_->network().partition({kBrokerA}, {kClient}, true);
  run_for(config_.keepalive_ns + 100 * kMs);
  world_->network().remove(cut);
  run_for(kSec);
  EXPECT_EQ(client().broken, broken_before + 1);
}

TEST_F(BrokerTest, AMalformedMessageGetsAnErrorAndTheBrokerServesOn) {
  client().raw(kBrokerA, {0x82, 0x04, 0xff, 0xff, 0xff});  // A PulsarMessage tag, then junk.
  client().raw(kBrokerA, {0x0a, 0x05, 0x01});               // A truncated StorageMessage.
  run_for(300 * kMs);
  const auto errors = of(PulsarMessage::kError);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].message.error().error(), MALFORMED_REQUEST);
  EXPECT_EQ(static_cast<Broker*>(world_->actor(kBrokerA))->malformed_messages(), 2u);
  EXPECT_GE(client().broken, 1) << "the broker closes a connection that carried garbage";
  lookup(kBrokerA, "t", 1);
  run_for(200 * kMs);
  EXPECT_EQ(of(PulsarMessage::kLookupResponse).size(), 1u);
}

TEST_F(BrokerTest, LedgersRollOverAndConsumedOnesAreTrimmed) {
  BrokerConfig small;
  small.max_entries_per_ledger = 5;
  small.dedup = false;  // Its cursor would hold the ledgers until a snapshot.
  log_.clear();
  build(small);
  create_producer(kBrokerA, "t", 1, "p", 1);
  subscribe(kBrokerA, "t", "s", 7, 2, 100);
  run_for(300 * kMs);
  for (std::uint64_t s = 0; s < 12; ++s) publish(kBrokerA, 1, "p", s);
  run_for(1 * kSec);
  const auto deliveries = of(PulsarMessage::kDelivery);
  ASSERT_EQ(deliveries.size(), 12u);
  std::set<std::uint64_t> ledgers;
  for (const Received& d : deliveries) {
    ledgers.insert(d.message.delivery().message_id().ledger_id());
    ack(kBrokerA, 7, d.message.delivery().message_id());
  }
  EXPECT_EQ(ledgers.size(), 3u);
  run_for(3 * kSec);
  // The two full ledgers every cursor passed are deleted; the one being written stays.
  const storage::ReplayedLog meta =
      storage::replay_metadata_log(world_->disk(kMeta).view(storage::kMetadataLogFile));
  std::size_t remaining = 0;
  for (const std::uint64_t id : ledgers) remaining += meta.state.keys.count(storage::ledger_key(id));
  EXPECT_EQ(remaining, 1u);
}

}  // namespace
}  // namespace streamlab::pulsar
