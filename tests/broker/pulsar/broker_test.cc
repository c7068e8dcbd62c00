// The broker under the simulator, driven by a scripted client that speaks the wire
// protocol directly: ownership and redirects, publishing and receipts, deduplication
// across a failover, fencing of a paused owner, subscriptions and cursors, bad input.

#include "broker/pulsar/broker.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "broker/storage/metadata_state.h"
#include "tests/broker/pulsar/broker_world.h"

namespace streamlab::pulsar {
namespace {

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

// Twelve entries published to topic "t" and acknowledged by its one subscription, on
// brokers with `config`; then `settle` of time for trimming. The ledgers the deliveries
// came from, and the topic's list and the metadata store's ledger keys at the end.
class LedgerLifecycleTest : public BrokerTest {
 protected:
  std::set<std::uint64_t> publish_and_consume(BrokerConfig config, std::int64_t settle) {
    config.dedup = false;  // Its cursor would hold the ledgers until a snapshot.
    log_.clear();
    build(config);
    create_producer(kBrokerA, "t", 1, "p", 1);
    subscribe(kBrokerA, "t", "s", 7, 2, 100);
    run_for(300 * kMs);
    for (std::uint64_t s = 0; s < 12; ++s) publish(kBrokerA, 1, "p", s);
    run_for(1 * kSec);
    const auto deliveries = of(PulsarMessage::kDelivery);
    EXPECT_EQ(deliveries.size(), 12u);
    std::set<std::uint64_t> ledgers;
    for (const Received& d : deliveries) {
      ledgers.insert(d.message.delivery().message_id().ledger_id());
      ack(kBrokerA, 7, d.message.delivery().message_id());
    }
    run_for(settle);
    return ledgers;
  }

  storage::MetadataState metadata() const {
    return storage::replay_metadata_log(world_->disk(kMeta).contents(storage::kMetadataLogFile))
        .state;
  }
  ManagedLedgerInfo listed() const {
    const storage::MetadataState meta = metadata();
    const auto it = meta.keys.find("/topics/t/ledgers");
    ManagedLedgerInfo info;
    EXPECT_TRUE(it != meta.keys.end() && info.ParseFromString(it->second.value));
    return info;
  }
  std::size_t stored(const std::set<std::uint64_t>& ledgers) const {
    const storage::MetadataState meta = metadata();
    std::size_t n = 0;
    for (const std::uint64_t id : ledgers) n += meta.keys.count(storage::ledger_key(id));
    return n;
  }
};

TEST_F(LedgerLifecycleTest, LedgersRollOverByCountAndConsumedOnesAreTrimmed) {
  BrokerConfig small;
  small.max_entries_per_ledger = 5;
  const std::set<std::uint64_t> ledgers = publish_and_consume(small, 3 * kSec);
  EXPECT_EQ(ledgers.size(), 3u);
  // The two full ledgers every cursor passed are deleted; the one being written stays.
  EXPECT_EQ(stored(ledgers), 1u);
}

TEST_F(LedgerLifecycleTest, LedgersRollOverBySizeAndTheListKeepsTheirSizes) {
  BrokerConfig small;
  small.max_ledger_bytes = 1;  // Every entry fills its ledger.
  small.retention_ns = -1;
  small.retention_bytes = -1;  // Kept forever: the list shows them all.
  const std::set<std::uint64_t> ledgers = publish_and_consume(small, 3 * kSec);
  EXPECT_EQ(ledgers.size(), 12u);
  EXPECT_EQ(stored(ledgers), 12u);
  const ManagedLedgerInfo info = listed();
  ASSERT_GE(info.ledgers_size(), 13);  // The twelve and the one being written.
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(info.ledgers(i).entries(), 1);
    EXPECT_GT(info.ledgers(i).size(), 0u);
    EXPECT_GT(info.ledgers(i).closed_at_ns(), 0);
  }
}

TEST_F(LedgerLifecycleTest, RetentionTimeKeepsConsumedLedgersUntilTheyAreOldEnough) {
  BrokerConfig config;
  config.max_entries_per_ledger = 5;
  config.retention_bytes = -1;
  config.retention_ns = 10 * kSec;
  std::set<std::uint64_t> ledgers = publish_and_consume(config, 3 * kSec);
  EXPECT_EQ(stored(ledgers), 3u) << "younger than the retention";
  config.retention_ns = 500 * kMs;
  ledgers = publish_and_consume(config, 3 * kSec);
  EXPECT_EQ(stored(ledgers), 1u) << "both closed ledgers are past the retention";
}

// The size limit deletes the oldest consumed ledgers only while the topic without them
// would still be over it: with room for all but the first, the first alone goes.
TEST_F(LedgerLifecycleTest, RetentionSizeDeletesTheOldestWhileTheTopicIsOverIt) {
  BrokerConfig config;
  config.max_entries_per_ledger = 5;
  config.retention_ns = -1;
  config.retention_bytes = -1;
  std::set<std::uint64_t> ledgers = publish_and_consume(config, 3 * kSec);
  ASSERT_EQ(stored(ledgers), 3u);
  const ManagedLedgerInfo info = listed();
  ASSERT_EQ(info.ledgers_size(), 3);
  const std::uint64_t first = info.ledgers(0).size();
  const std::uint64_t second = info.ledgers(1).size();
  ASSERT_GT(first, 0u);
  ASSERT_GT(second, 0u);
  // The current ledger's two entries count too: each is a few bytes over a fifth of
  // `second`, so room for three fifths more keeps the second ledger and not the first.
  config.retention_bytes = static_cast<std::int64_t>(second + second / 5 * 3);
  ledgers = publish_and_consume(config, 3 * kSec);
  EXPECT_EQ(stored(ledgers), 2u) << "first " << first << " B, second " << second << " B";
  config.retention_bytes = static_cast<std::int64_t>(second / 5 * 2 - 1);
  ledgers = publish_and_consume(config, 3 * kSec);
  EXPECT_EQ(stored(ledgers), 1u);
}

}  // namespace
}  // namespace streamlab::pulsar
