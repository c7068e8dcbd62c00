// The producer against scripted fake brokers: batching, the pending queue bound, resends
// after the topic moves, non-idempotent names, send timeout, partition routing.

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/broker/client/client_world.h"

namespace streamlab::client::test {
namespace {

using M = pulsar::PulsarMessage;

// Runs long enough for a lookup and CreateProducer to complete (a few round trips).
constexpr std::int64_t kConnectNs = 5 * kMs;

std::vector<std::uint64_t> tokens_of(const std::vector<ResultEvent>& results) {
  std::vector<std::uint64_t> out;
  for (const ResultEvent& r : results) out.push_back(r.result.token);
  return out;
}

std::vector<std::string> payloads_of(const pulsar::EntryData& entry) {
  std::vector<std::string> out;
  for (const pulsar::SingleMessage& m : entry.messages()) out.push_back(m.payload());
  return out;
}

TEST(ClientProducer, BatchesByDelay) {
  ClientWorld w;
  w.start();
  ProducerConfig config = producer_config("t");
  config.batching_max_publish_delay_ns = 10 * kMs;
  Producer& p = w.producer(config);
  w.run_for(kConnectNs);
  const std::int64_t t0 = w.now();
  p.send("a", "m0", 0);
  w.run_for(kMs);
  p.send("b", "m1", 1);
  w.run_for(kMs);
  p.send("c", "m2", 2);
  EXPECT_EQ(p.pending(), 3u);
  w.run_for(20 * kMs);

  // One entry, flushed when the first message's delay ran out.
  const std::vector<SentEntry> s = sends(w.script());
  ASSERT_EQ(s.size(), 1u);
  EXPECT_NEAR(s[0].time_ns, t0 + 10 * kMs + kLatency, kSlack);
  EXPECT_EQ(payloads_of(s[0].entry), (std::vector<std::string>{"m0", "m1", "m2"}));
  EXPECT_EQ(s[0].send.sequence_id(), 0u);
  EXPECT_EQ(s[0].send.highest_sequence_id(), 2u);
  EXPECT_EQ(s[0].entry.producer_name(), "p");
  EXPECT_EQ(s[0].entry.messages(1).key(), "b");

  ASSERT_EQ(w.results().size(), 3u);
  EXPECT_EQ(tokens_of(w.results()), (std::vector<std::uint64_t>{0, 1, 2}));
  for (std::uint32_t i = 0; i < 3; ++i) {
    const SendResult& r = w.results()[i].result;
    EXPECT_EQ(r.error, SendError::ok);
    EXPECT_EQ(r.sequence_id, i);
    EXPECT_EQ(r.message_id.ledger_id(), kLedger);
    EXPECT_EQ(r.message_id.entry_id(), 0);
    EXPECT_EQ(r.message_id.batch_index(), static_cast<std::int32_t>(i));
    EXPECT_EQ(r.broker, "n1");
    EXPECT_FALSE(r.duplicate);
    EXPECT_NEAR(w.results()[i].time_ns, t0 + 10 * kMs + 2 * kLatency, kSlack);
  }
  EXPECT_EQ(p.pending(), 0u);
}

// The linger tradeoff: a lone message waits the whole batching delay; without batching
// it takes one round trip.
TEST(ClientProducer, LoneMessageWaitsForTheBatchingDelay) {
  for (const std::int64_t delay : {std::int64_t{0}, 5 * kMs, 20 * kMs}) {
    ClientWorld w;
    w.start();
    ProducerConfig config = producer_config("t");
    config.batching_max_publish_delay_ns = delay;
    Producer& p = w.producer(config);
    w.run_for(kConnectNs);
    const std::int64_t t0 = w.now();
    p.send("", "alone", 7);
    w.run_for(50 * kMs);
    ASSERT_EQ(w.results().size(), 1u) << delay;
    EXPECT_EQ(w.results()[0].result.error, SendError::ok);
    EXPECT_NEAR(w.results()[0].time_ns - t0, delay + 2 * kLatency, kSlack) << delay;
  }
}

TEST(ClientProducer, BatchesByCountAndBytes) {
  ClientWorld w;
  w.start();
  ProducerConfig config = producer_config("t");
  config.batching_max_publish_delay_ns = 50 * kMs;
  config.batching_max_messages = 4;
  config.batching_max_bytes = 1000;
  Producer& p = w.producer(config);
  w.run_for(kConnectNs);
  const std::int64_t t0 = w.now();
  for (std::uint64_t i = 0; i < 10; ++i) p.send("", "m" + std::to_string(i), i);
  w.run_for(10 * kMs);
  // Two full batches went at once; the last two wait for the delay.
  std::vector<SentEntry> s = sends(w.script());
  ASSERT_EQ(s.size(), 2u);
  EXPECT_NEAR(s[0].time_ns, t0 + kLatency, kSlack);
  EXPECT_EQ(s[0].entry.messages_size(), 4);
  EXPECT_EQ(s[1].entry.messages_size(), 4);
  EXPECT_EQ(s[1].send.sequence_id(), 4u);
  w.run_for(50 * kMs);
  s = sends(w.script());
  ASSERT_EQ(s.size(), 3u);
  EXPECT_NEAR(s[2].time_ns, t0 + 50 * kMs + kLatency, kSlack);
  EXPECT_EQ(payloads_of(s[2].entry), (std::vector<std::string>{"m8", "m9"}));
  EXPECT_EQ(w.results().size(), 10u);

  // Bytes: three 400-byte payloads do not fit 1000 bytes together.
  const std::string big(400, 'x');
  for (std::uint64_t i = 10; i < 13; ++i) p.send("", big, i);
  w.run_for(60 * kMs);
  s = sends(w.script());
  ASSERT_EQ(s.size(), 5u);
  EXPECT_EQ(s[3].entry.messages_size(), 2);
  EXPECT_EQ(s[4].entry.messages_size(), 1);
  EXPECT_EQ(w.results().size(), 13u);
}

TEST(ClientProducer, QueueFullFailsAtOnce) {
  ClientWorld w;
  w.script().hold_receipts.insert("n1");
  w.start();
  ProducerConfig config = producer_config("t");
  config.batching_max_publish_delay_ns = 0;
  config.max_pending_messages = 5;
  Producer& p = w.producer(config);
  w.run_for(kConnectNs);
  const std::int64_t t0 = w.now();
  for (std::uint64_t i = 0; i < 7; ++i) p.send("", "m", i);
  EXPECT_EQ(p.pending(), 5u);
  EXPECT_TRUE(w.results().empty());  // Never inside the call.
  w.run_for(kMs);
  ASSERT_EQ(w.results().size(), 2u);
  for (const ResultEvent& r : w.results()) {
    EXPECT_EQ(r.result.error, SendError::queue_full);
    EXPECT_EQ(r.time_ns, t0);
  }
  EXPECT_EQ(tokens_of(w.results()), (std::vector<std::uint64_t>{5, 6}));
  EXPECT_EQ(sends(w.script()).size(), 5u);
  // Room again once receipts come.
  w.broker("n1").release_receipts();
  w.run_for(kMs);
  EXPECT_EQ(p.pending(), 0u);
  EXPECT_EQ(w.results().size(), 7u);
}

// The topic moves: the old owner closes the producer; the client looks it up again and
// resends every pending batch to the new owner with the same name and sequence ids, and
// the (shared) deduplication recognises the ones the old owner stored.
TEST(ClientProducer, ResendsSameSequenceIdsToTheNewOwner) {
  ClientWorld w;
  w.script().hold_receipts.insert("n1");
  w.start();
  ProducerConfig config = producer_config("t");
  config.batching_max_publish_delay_ns = 5 * kMs;
  config.batching_max_messages = 3;
  Producer& p = w.producer(config);
  w.run_for(kConnectNs);
  for (std::uint64_t i = 0; i < 6; ++i) p.send("", "m" + std::to_string(i), i);
  w.run_for(kMs);
  ASSERT_EQ(sends(w.script(), "n1").size(), 2u);
  ASSERT_EQ(w.script().topics["t"].size(), 2u);  // Stored, receipts held.

  w.script().owners["t"] = "n2";
  w.broker("n1").close_producers("t");
  ASSERT_TRUE(w.run_until([&] { return w.results().size() == 6; }, kSec));

  const std::vector<SentEntry> resent = sends(w.script(), "n2");
  ASSERT_EQ(resent.size(), 2u);
  EXPECT_EQ(resent[0].send.sequence_id(), 0u);
  EXPECT_EQ(resent[0].send.highest_sequence_id(), 2u);
  EXPECT_EQ(resent[1].send.sequence_id(), 3u);
  EXPECT_EQ(resent[1].send.highest_sequence_id(), 5u);
  EXPECT_EQ(resent[0].entry.producer_name(), "p");
  EXPECT_EQ(payloads_of(resent[1].entry), (std::vector<std::string>{"m3", "m4", "m5"}));
  // The lookup went to the service broker, which redirected to the new owner.
  EXPECT_EQ(w.script().of(M::kCreateProducer, "n2").size(), 1u);
  for (std::size_t i = 0; i < 6; ++i) {
    const SendResult& r = w.results()[i].result;
    EXPECT_EQ(r.token, i);
    EXPECT_EQ(r.sequence_id, i);
    EXPECT_EQ(r.error, SendError::ok);
    EXPECT_EQ(r.broker, "n2");
    EXPECT_TRUE(r.duplicate);
  }
  EXPECT_EQ(w.script().topics["t"].size(), 2u);  // No second copy.
  // The old owner's late receipts complete nothing twice.
  w.broker("n1").release_receipts();
  w.run_for(10 * kMs);
  EXPECT_EQ(w.results().size(), 6u);
}

// The unsafe knob: a fresh name per connection defeats deduplication, so the resends
// are stored a second time.
TEST(ClientProducer, NonIdempotentProducerTakesAFreshName) {
  ClientWorld w;
  w.script().hold_receipts.insert("n1");
  w.start();
  ProducerConfig config = producer_config("t");
  config.batching_max_publish_delay_ns = 0;
  config.idempotent = false;
  Producer& p = w.producer(config);
  w.run_for(kConnectNs);
  p.send("", "a", 0);
  p.send("", "b", 1);
  w.run_for(kMs);
  w.script().owners["t"] = "n2";
  w.broker("n1").close_producers("t");
  ASSERT_TRUE(w.run_until([&] { return w.results().size() == 2; }, kSec));
  const std::vector<SentEntry> resent = sends(w.script(), "n2");
  ASSERT_EQ(resent.size(), 2u);
  EXPECT_EQ(resent[0].entry.producer_name(), "p~1");
  EXPECT_EQ(resent[0].send.sequence_id(), 0u);
  EXPECT_EQ(resent[1].send.sequence_id(), 1u);
  const auto creates = w.script().of(M::kCreateProducer, "n2");
  ASSERT_EQ(creates.size(), 1u);
  EXPECT_EQ(creates[0].message.create_producer().producer_name(), "p~1");
  for (const ResultEvent& r : w.results()) EXPECT_FALSE(r.result.duplicate);
  EXPECT_EQ(w.script().topics["t"].size(), 4u);  // Duplicates stored.
}

TEST(ClientProducer, ResendOffFailsWhatWasSent) {
  ClientWorld w;
  w.script().hold_receipts.insert("n1");
  w.start();
  ProducerConfig config = producer_config("t");
  config.batching_max_publish_delay_ns = 0;
  config.resend = false;
  Producer& p = w.producer(config);
  w.run_for(kConnectNs);
  p.send("", "a", 0);
  p.send("", "b", 1);
  w.run_for(kMs);
  w.script().owners["t"] = "n2";
  w.broker("n1").close_producers("t");
  w.run_for(kMs);
  ASSERT_EQ(w.results().size(), 2u);
  for (const ResultEvent& r : w.results()) EXPECT_EQ(r.result.error, SendError::failed);
  p.send("", "c", 2);  // Queued until the new connection, then sent once.
  ASSERT_TRUE(w.run_until([&] { return w.results().size() == 3; }, kSec));
  EXPECT_EQ(w.results()[2].result.error, SendError::ok);
  EXPECT_EQ(w.results()[2].result.sequence_id, 2u);
  ASSERT_EQ(sends(w.script(), "n2").size(), 1u);
}

TEST(ClientProducer, SendTimeoutFailsWhatWasNotAcknowledged) {
  ClientWorld w;
  w.script().hold_receipts.insert("n1");
  w.start();
  ProducerConfig config = producer_config("t");
  config.batching_max_publish_delay_ns = 0;
  config.send_timeout_ns = kSec;
  Producer& p = w.producer(config);
  w.run_for(kConnectNs);
  const std::int64_t t0 = w.now();
  p.send("", "a", 0);
  w.run_for(100 * kMs);
  p.send("", "b", 1);
  w.run_for(2 * kSec);
  ASSERT_EQ(w.results().size(), 2u);
  EXPECT_EQ(w.results()[0].result.error, SendError::timeout);
  EXPECT_EQ(w.results()[0].time_ns, t0 + kSec);
  EXPECT_EQ(w.results()[1].result.error, SendError::timeout);
  EXPECT_EQ(w.results()[1].time_ns, t0 + 100 * kMs + kSec);
  EXPECT_EQ(p.pending(), 0u);
  // A late receipt for a timed-out message completes nothing.
  w.broker("n1").release_receipts();
  w.run_for(kMs);
  EXPECT_EQ(w.results().size(), 2u);
}

TEST(ClientProducer, ContinuesAfterTheLastSequenceIdTheTopicHolds) {
  ClientWorld w;
  w.script().highest[{"t", "p"}] = 41;
  w.start();
  ProducerConfig config = producer_config("t");
  config.batching_max_publish_delay_ns = 0;
  Producer& p = w.producer(config);
  p.send("", "early", 0);  // Before the producer is connected.
  w.run_for(kConnectNs);
  p.send("", "later", 1);
  w.run_for(kMs);
  ASSERT_EQ(w.results().size(), 2u);
  EXPECT_EQ(w.results()[0].result.sequence_id, 42u);
  EXPECT_EQ(w.results()[1].result.sequence_id, 43u);
  EXPECT_FALSE(w.results()[0].result.duplicate);
}

TEST(ClientProducer, SendErrorReconnectsAndResends) {
  ClientWorld w;
  w.script().hold_receipts.insert("n1");
  w.start();
  ProducerConfig config = producer_config("t");
  config.batching_max_publish_delay_ns = 0;
  Producer& p = w.producer(config);
  w.run_for(kConnectNs);
  p.send("", "a", 0);
  w.run_for(kMs);
  w.script().hold_receipts.clear();
  w.broker("n1").send_error("t");
  ASSERT_TRUE(w.run_until([&] { return w.results().size() == 1; }, kSec));
  EXPECT_EQ(w.results()[0].result.error, SendError::ok);
  EXPECT_TRUE(w.results()[0].result.duplicate);
  // The client closed its producer before creating a new one on the same broker.
  EXPECT_EQ(w.script().of(M::kCloseProducer, "n1").size(), 1u);
  EXPECT_EQ(w.script().of(M::kCreateProducer, "n1").size(), 2u);
}

TEST(ClientProducer, ProducerBusyRetriesTheSameBroker) {
  ClientWorld w;
  w.script().busy_creates["n1"] = 2;
  w.start();
  ProducerConfig config = producer_config("t");
  config.batching_max_publish_delay_ns = 0;
  Producer& p = w.producer(config);
  p.send("", "a", 0);
  ASSERT_TRUE(w.run_until([&] { return w.results().size() == 1; }, 2 * kSec));
  EXPECT_EQ(w.results()[0].result.error, SendError::ok);
  EXPECT_EQ(w.script().of(M::kCreateProducer, "n1").size(), 3u);
  EXPECT_EQ(w.script().of(M::kLookup, "n1").size(), 1u);  // No new lookup.
  // Backoff: 100 ms, then 200 ms.
  const auto creates = w.script().of(M::kCreateProducer, "n1");
  EXPECT_NEAR(creates[1].time_ns - creates[0].time_ns, 100 * kMs + 2 * kLatency, kSlack);
  EXPECT_NEAR(creates[2].time_ns - creates[1].time_ns, 200 * kMs + 2 * kLatency, kSlack);
}

TEST(ClientProducer, CloseFailsWhatIsPending) {
  ClientWorld w;
  w.script().hold_receipts.insert("n1");
  w.start();
  ProducerConfig config = producer_config("t");
  config.batching_max_publish_delay_ns = 5 * kMs;
  Producer& p = w.producer(config);
  w.run_for(kConnectNs);
  p.send("", "a", 0);
  p.send("", "b", 1);
  p.close();
  p.send("", "c", 2);
  EXPECT_EQ(p.pending(), 0u);
  w.run_for(10 * kMs);
  ASSERT_EQ(w.results().size(), 3u);
  for (const ResultEvent& r : w.results()) EXPECT_EQ(r.result.error, SendError::closed);
  EXPECT_EQ(w.script().of(M::kCloseProducer, "n1").size(), 1u);
  EXPECT_TRUE(sends(w.script()).empty());
}

// A partitioned topic: each key always lands on the same partition; keyless messages
// fill one partition's batch, then move to the next.
TEST(ClientProducer, PartitionRoutingByKeyIsStable) {
  ClientWorld w;
  w.script().partitions["t"] = 4;
  for (std::uint32_t i = 0; i < 4; ++i) {
    w.script().owners[pulsar::partition_name("t", i)] = i % 2 == 0 ? "n1" : "n2";
  }
  w.start();
  ProducerConfig config = producer_config("t");
  config.batching_max_publish_delay_ns = 0;
  Producer& p = w.producer(config);
  for (std::uint64_t round = 0; round < 2; ++round) {
    for (std::uint64_t k = 0; k < 20; ++k) p.send("key" + std::to_string(k), "v", round * 100 + k);
  }
  ASSERT_TRUE(w.run_until([&] { return w.results().size() == 40; }, kSec));
  std::map<std::uint64_t, std::uint32_t> partition_of;  // key -> partition.
  std::set<std::uint32_t> used;
  for (const ResultEvent& r : w.results()) {
    ASSERT_EQ(r.result.error, SendError::ok);
    const std::uint64_t key = r.result.token % 100;
    const std::uint32_t partition = r.result.message_id.partition();
    used.insert(partition);
    const auto [it, fresh] = partition_of.emplace(key, partition);
    EXPECT_EQ(it->second, partition) << "key" << key;
    EXPECT_EQ(r.result.broker, partition % 2 == 0 ? "n1" : "n2");
  }
  EXPECT_GE(used.size(), 3u);
  // Each partition has its own sequence ids from 0, and the broker saw the partition's
  // topic name.
  for (const SentEntry& s : sends(w.script())) {
    const std::string& key = s.entry.messages(0).key();
    const std::uint32_t partition = partition_of.at(std::stoull(key.substr(3)));
    EXPECT_EQ(s.broker, partition % 2 == 0 ? "n1" : "n2");
  }
  for (const auto& [topic, entries] : w.script().topics) {
    EXPECT_TRUE(topic.starts_with("t-partition-")) << topic;
    EXPECT_EQ(parse_entry(entries[0].bytes).sequence_id(), 0u);
  }

  // Keyless, batched: six messages fill one partition's batch of three, then the next.
  ProducerConfig batched = producer_config("t", "q");
  batched.batching_max_publish_delay_ns = 5 * kMs;
  batched.batching_max_messages = 3;
  Producer& q = w.producer(batched);
  w.run_for(kConnectNs);
  for (std::uint64_t i = 0; i < 6; ++i) q.send("", "x", 1000 + i);
  ASSERT_TRUE(w.run_until([&] { return w.results().size() == 46; }, kSec));
  std::vector<std::uint32_t> partitions;
  for (std::size_t i = 40; i < 46; ++i) partitions.push_back(w.results()[i].result.message_id.partition());
  EXPECT_EQ(partitions[0], partitions[1]);
  EXPECT_EQ(partitions[1], partitions[2]);
  EXPECT_EQ(partitions[3], partitions[4]);
  EXPECT_EQ(partitions[4], partitions[5]);
  EXPECT_NE(partitions[0], partitions[3]);
}

}  // namespace
}  // namespace streamlab::client::test
