// The consumer against scripted fake brokers: batch acks, cumulative acks, negative acks,
// ack timeout, flow permits, resubscribing after the topic moves.

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "tests/broker/client/client_world.h"

namespace streamlab::client::test {
namespace {

using M = pulsar::PulsarMessage;

constexpr std::int64_t kConnectNs = 5 * kMs;

std::vector<pulsar::Ack> acks(const Script& script, const std::string& broker = "") {
  std::vector<pulsar::Ack> out;
  for (const BrokerEvent& e : script.of(M::kAck, broker)) out.push_back(e.message.ack());
  return out;
}

TEST(ClientConsumer, ReceivesEveryMessageOfABatchInOrder) {
  ClientWorld w;
  w.script().store("t", entry_of("prod", 0, {"a", "b", "c"}));
  w.script().store("t", entry_of("prod", 3, {"d"}));
  w.start();
  Consumer& c = w.consumer(consumer_config("t"));
  c.receive();
  w.run_for(kConnectNs);
  ASSERT_EQ(w.received().size(), 4u);
  const std::vector<std::string> payloads = {"a", "b", "c", "d"};
  for (std::size_t i = 0; i < 4; ++i) {
    const ReceivedMessage& m = w.received()[i];
    EXPECT_EQ(m.payload, payloads[i]);
    EXPECT_EQ(m.sequence_id, i);
    EXPECT_EQ(m.producer, "prod");
    EXPECT_EQ(m.topic, "t");
    EXPECT_EQ(m.key, "k" + std::to_string(i));
    EXPECT_EQ(m.id.ledger_id(), kLedger);
    EXPECT_EQ(m.id.entry_id(), i < 3 ? 0 : 1);
    EXPECT_EQ(m.id.batch_index(), i < 3 ? static_cast<std::int32_t>(i) : 0);
    EXPECT_EQ(m.redelivery_count, 0u);
  }
  // Subscribe carried the configuration; permits were given at once.
  const auto subscribes = w.script().of(M::kSubscribe, "n1");
  ASSERT_EQ(subscribes.size(), 1u);
  EXPECT_EQ(subscribes[0].message.subscribe().subscription(), "s");
  EXPECT_EQ(subscribes[0].message.subscribe().initial_position(), pulsar::EARLIEST);
  const auto flows = w.script().of(M::kFlow, "n1");
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].message.flow().permits(), 1000u);
}

TEST(ClientConsumer, AcksABatchOnlyWhenEveryMessageIsAcked) {
  ClientWorld w;
  w.script().store("t", entry_of("prod", 0, {"a", "b", "c"}));
  w.start();
  Consumer& c = w.consumer(consumer_config("t"));
  c.receive();
  w.run_for(kConnectNs);
  ASSERT_EQ(w.received().size(), 3u);
  c.acknowledge(w.received()[0].id);
  c.acknowledge(w.received()[2].id);
  c.acknowledge(w.received()[2].id);  // Twice counts once.
  w.run_for(kMs);
  EXPECT_TRUE(acks(w.script()).empty());
  c.acknowledge(w.received()[1].id);
  w.run_for(kMs);
  const std::vector<pulsar::Ack> a = acks(w.script());
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].type(), pulsar::INDIVIDUAL);
  ASSERT_EQ(a[0].message_ids_size(), 1);
  EXPECT_EQ(a[0].message_ids(0).entry_id(), 0);
  EXPECT_EQ(a[0].message_ids(0).batch_index(), -1);
  EXPECT_EQ(a[0].message_ids(0).ledger_id(), kLedger);
}

// acknowledge_cumulative acks up to the entry if the id is its last message, else up to
// the entry before it.
TEST(ClientConsumer, CumulativeAckCoversWholeEntriesOnly) {
  ClientWorld w;
  w.script().store("t", entry_of("prod", 0, {"a", "b"}));
  w.script().store("t", entry_of("prod", 2, {"c", "d"}));
  w.start();
  Consumer& c = w.consumer(consumer_config("t"));
  c.receive();
  w.run_for(kConnectNs);
  ASSERT_EQ(w.received().size(), 4u);
  c.acknowledge_cumulative(w.received()[0].id);  // Entry 0, not its last: nothing before.
  w.run_for(kMs);
  EXPECT_TRUE(acks(w.script()).empty());
  c.acknowledge_cumulative(w.received()[2].id);  // Entry 1, not its last: up to entry 0.
  w.run_for(kMs);
  std::vector<pulsar::Ack> a = acks(w.script());
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].type(), pulsar::CUMULATIVE);
  EXPECT_EQ(a[0].message_ids(0).entry_id(), 0);
  c.acknowledge_cumulative(w.received()[3].id);  // Entry 1's last: up to entry 1.
  w.run_for(kMs);
  a = acks(w.script());
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[1].type(), pulsar::CUMULATIVE);
  EXPECT_EQ(a[1].message_ids(0).entry_id(), 1);
  EXPECT_EQ(a[1].message_ids(0).batch_index(), -1);
  // Covered entries are done: an individual ack of them sends nothing more.
  c.acknowledge(w.received()[1].id);
  w.run_for(kMs);
  EXPECT_EQ(acks(w.script()).size(), 2u);
}

TEST(ClientConsumer, NegativeAckRedeliversTheWholeEntryAfterTheDelay) {
  ClientWorld w;
  w.script().store("t", entry_of("prod", 0, {"a", "b"}));
  w.start();
  ConsumerConfig config = consumer_config("t");
  config.nack_redelivery_delay_ns = 500 * kMs;
  Consumer& c = w.consumer(config);
  c.receive();
  w.run_for(kConnectNs);
  ASSERT_EQ(w.received().size(), 2u);
  c.acknowledge(w.received()[0].id);
  const std::int64_t t0 = w.now();
  c.negative_acknowledge(w.received()[1].id);
  w.run_for(kSec);
  const auto redelivers = w.script().of(M::kRedeliver, "n1");
  ASSERT_EQ(redelivers.size(), 1u);
  EXPECT_NEAR(redelivers[0].time_ns, t0 + 500 * kMs + kLatency, kSlack);
  ASSERT_EQ(redelivers[0].message.redeliver().message_ids_size(), 1);
  EXPECT_EQ(redelivers[0].message.redeliver().message_ids(0).entry_id(), 0);
  EXPECT_EQ(redelivers[0].message.redeliver().message_ids(0).batch_index(), -1);
  // The broker sends the entry again; the message acked before is not shown again.
  ASSERT_EQ(w.received().size(), 3u);
  EXPECT_EQ(w.received()[2].payload, "b");
  EXPECT_EQ(w.received()[2].redelivery_count, 1u);
  c.acknowledge(w.received()[2].id);
  w.run_for(kMs);
  ASSERT_EQ(acks(w.script()).size(), 1u);
}

TEST(ClientConsumer, AckTimeoutRedeliversWhatWasNotAcked) {
  ClientWorld w;
  w.script().store("t", entry_of("prod", 0, {"a"}));
  w.script().store("t", entry_of("prod", 1, {"b"}));
  w.start();
  ConsumerConfig config = consumer_config("t");
  config.ack_timeout_ns = kSec;
  Consumer& c = w.consumer(config);
  c.receive();
  w.run_for(kConnectNs);
  ASSERT_EQ(w.received().size(), 2u);
  const std::int64_t handed = w.received()[0].time_ns;
  c.acknowledge(w.received()[0].id);
  w.run_for(2 * kSec);
  const auto redelivers = w.script().of(M::kRedeliver, "n1");
  ASSERT_GE(redelivers.size(), 1u);
  EXPECT_GE(redelivers[0].time_ns, handed + kSec);
  EXPECT_LE(redelivers[0].time_ns, handed + kSec + kSec / 4 + kLatency);
  ASSERT_EQ(redelivers[0].message.redeliver().message_ids_size(), 1);
  EXPECT_EQ(redelivers[0].message.redeliver().message_ids(0).entry_id(), 1);
  ASSERT_GE(w.received().size(), 3u);
  EXPECT_EQ(w.received()[2].payload, "b");
  EXPECT_EQ(w.received()[2].redelivery_count, 1u);
  c.acknowledge(w.received()[2].id);
  const std::size_t before = w.script().of(M::kRedeliver).size();
  w.run_for(3 * kSec);
  EXPECT_EQ(w.script().of(M::kRedeliver).size(), before);  // Acked: no more.
}

// Permits are per entry; half the receiver queue taken gives those permits back.
TEST(ClientConsumer, FlowPermitsAreRefilledAtHalfTheQueue) {
  ClientWorld w;
  for (std::uint64_t i = 0; i < 10; ++i) w.script().store("t", entry_of("prod", i, {"m"}));
  w.start();
  ConsumerConfig config = consumer_config("t");
  config.receiver_queue_size = 4;
  Consumer& c = w.consumer(config, /*auto_receive=*/false);
  w.run_for(kConnectNs);
  EXPECT_EQ(w.script().of(M::kDelivery).size(), 0u);  // Deliveries are not "received".
  auto flows = w.script().of(M::kFlow, "n1");
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].message.flow().permits(), 4u);
  EXPECT_TRUE(w.received().empty());  // Nothing without receive().
  c.receive();
  w.run_for(kMs);
  ASSERT_EQ(w.received().size(), 1u);
  EXPECT_EQ(w.script().of(M::kFlow, "n1").size(), 1u);
  c.receive();
  w.run_for(kMs);
  ASSERT_EQ(w.received().size(), 2u);
  flows = w.script().of(M::kFlow, "n1");
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(flows[1].message.flow().permits(), 2u);
  for (int i = 0; i < 8; ++i) c.receive();
  w.run_for(5 * kMs);
  EXPECT_EQ(w.received().size(), 10u);
  for (std::size_t i = 0; i < 10; ++i) EXPECT_EQ(w.received()[i].id.entry_id(), static_cast<std::int64_t>(i));
}

// The topic moves: the old owner closes the consumer; the client resubscribes at the new
// owner, which delivers what is unacked again; acks of messages the application already
// had go to the new owner.
TEST(ClientConsumer, ResubscribesAfterTheTopicMoves) {
  ClientWorld w;
  w.script().store("t", entry_of("prod", 0, {"a"}));
  w.script().store("t", entry_of("prod", 1, {"b"}));
  w.script().store("t", entry_of("prod", 2, {"c"}));
  w.start();
  ConsumerConfig config = consumer_config("t");
  Consumer& c = w.consumer(config, /*auto_receive=*/false);
  c.receive();
  w.run_for(kConnectNs);
  ASSERT_EQ(w.received().size(), 1u);  // b and c wait in the receive queue.
  w.script().owners["t"] = "n2";
  w.broker("n1").close_consumers("t");
  w.run_for(kMs);
  c.acknowledge(w.received()[0].id);  // While resubscribing: sent after SubscribeSuccess.
  ASSERT_TRUE(w.run_until([&] { return !w.script().of(M::kFlow, "n2").empty(); }, kSec));
  w.run_for(kMs);
  const std::vector<pulsar::Ack> a = acks(w.script(), "n2");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].message_ids(0).entry_id(), 0);
  // The ack reached n2 before its Flow, so entry 0 is not redelivered.
  c.receive();
  c.receive();
  w.run_for(kMs);
  ASSERT_EQ(w.received().size(), 3u);
  EXPECT_EQ(w.received()[1].payload, "b");
  EXPECT_EQ(w.received()[2].payload, "c");
  EXPECT_EQ(w.script().of(M::kSubscribe, "n2").size(), 1u);
}

TEST(ClientConsumer, PartitionedTopicSubscribesEveryPartition) {
  ClientWorld w;
  w.script().partitions["t"] = 3;
  for (std::uint32_t i = 0; i < 3; ++i) {
    const std::string topic = pulsar::partition_name("t", i);
    w.script().owners[topic] = i == 1 ? "n2" : "n1";
    w.script().store(topic, entry_of("prod", 0, {"p" + std::to_string(i)}));
  }
  w.start();
  Consumer& c = w.consumer(consumer_config("t"));
  c.receive();
  w.run_for(kConnectNs);
  ASSERT_EQ(w.received().size(), 3u);
  std::set<std::uint32_t> partitions;
  for (const ReceivedMessage& m : w.received()) {
    partitions.insert(m.id.partition());
    EXPECT_EQ(m.topic, pulsar::partition_name("t", m.id.partition()));
    EXPECT_EQ(m.payload, "p" + std::to_string(m.id.partition()));
    c.acknowledge(m.id);
  }
  EXPECT_EQ(partitions.size(), 3u);
  w.run_for(kMs);
  EXPECT_EQ(acks(w.script(), "n1").size(), 2u);
  EXPECT_EQ(acks(w.script(), "n2").size(), 1u);
}

TEST(ClientConsumer, CloseStopsDeliveries) {
  ClientWorld w;
  w.script().store("t", entry_of("prod", 0, {"a"}));
  w.start();
  Consumer& c = w.consumer(consumer_config("t"), /*auto_receive=*/false);
  w.run_for(kConnectNs);
  c.close();
  c.receive();
  w.run_for(kMs);
  EXPECT_TRUE(w.received().empty());
  EXPECT_EQ(w.script().of(M::kCloseConsumer, "n1").size(), 1u);
}

}  // namespace
}  // namespace streamlab::client::test
