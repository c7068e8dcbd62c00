// Finding and keeping a topic's owner: lookups and redirects, retries after errors and
// timeouts, keepalive against a paused broker, and determinism of the whole client.

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "tests/broker/client/client_world.h"

namespace streamlab::client::test {
namespace {

using M = pulsar::PulsarMessage;

TEST(ClientLookup, RedirectLeadsToTheOwner) {
  ClientWorld w;
  w.script().owners["t"] = "n2";
  w.start();
  ProducerConfig config = producer_config("t");
  config.batching_max_publish_delay_ns = 0;
  Producer& p = w.producer(config);
  p.send("k", "v", 1);
  ASSERT_TRUE(w.run_until([&] { return w.results().size() == 1; }, kSec));
  const SendResult& r = w.results()[0].result;
  EXPECT_EQ(r.error, SendError::ok);
  EXPECT_EQ(r.broker, "n2");
  EXPECT_EQ(r.message_id.entry_id(), 0);
  // Partitions and lookup at the service broker, which redirects; the owner is asked
  // and answers for itself; the producer is created there only.
  EXPECT_EQ(w.script().of(M::kPartitions, "n1").size(), 1u);
  EXPECT_EQ(w.script().of(M::kLookup, "n1").size(), 1u);
  EXPECT_EQ(w.script().of(M::kLookup, "n2").size(), 1u);
  EXPECT_EQ(w.script().of(M::kCreateProducer, "n1").size(), 0u);
  ASSERT_EQ(w.script().of(M::kCreateProducer, "n2").size(), 1u);
  EXPECT_EQ(w.script().of(M::kCreateProducer, "n2")[0].message.create_producer().topic(), "t");
  EXPECT_EQ(w.script().of(M::kSend, "n2").size(), 1u);
  // Five round trips: partitions, lookup, lookup at the owner, create, send.
  EXPECT_NEAR(w.results()[0].time_ns, kMs + 10 * kLatency, kSlack);
}

TEST(ClientLookup, RetriesAfterServiceNotReadyWithBackoff) {
  ClientWorld w;
  w.script().lookup_errors["n1"] = 2;
  w.start();
  ProducerConfig config = producer_config("t");
  config.batching_max_publish_delay_ns = 0;
  Producer& p = w.producer(config);
  p.send("", "v", 1);
  ASSERT_TRUE(w.run_until([&] { return w.results().size() == 1; }, kSec));
  EXPECT_EQ(w.results()[0].result.error, SendError::ok);
  const auto lookups = w.script().of(M::kLookup, "n1");
  ASSERT_EQ(lookups.size(), 3u);
  EXPECT_NEAR(lookups[1].time_ns - lookups[0].time_ns, 100 * kMs + 2 * kLatency, kSlack);
  EXPECT_NEAR(lookups[2].time_ns - lookups[1].time_ns, 200 * kMs + 2 * kLatency, kSlack);
}

TEST(ClientLookup, TimeoutMovesToTheNextServiceBroker) {
  ClientWorld w;
  w.script().silent.insert("n1");
  w.config().brokers = {"n1", "n2"};
  w.config().operation_timeout_ns = kSec;
  w.script().owners["t"] = "n3";
  w.start();
  ProducerConfig config = producer_config("t");
  config.batching_max_publish_delay_ns = 0;
  Producer& p = w.producer(config);
  p.send("", "v", 1);
  ASSERT_TRUE(w.run_until([&] { return w.results().size() == 1; }, 3 * kSec));
  EXPECT_EQ(w.results()[0].result.broker, "n3");
  // The partitions request to n1 timed out; after the backoff n2 was asked.
  ASSERT_EQ(w.script().of(M::kPartitions, "n2").size(), 1u);
  EXPECT_NEAR(w.script().of(M::kPartitions, "n2")[0].time_ns, kMs + kSec + 100 * kMs + kLatency,
              kSlack);
}

// Keepalive: a broker paused (a stop-the-world GC) keeps its connection up but answers
// nothing; after two keepalives of silence the client counts the connection as broken,
// finds the new owner and resends there before the old one wakes up.
TEST(ClientLookup, KeepaliveDetectsAPausedBrokerAndMovesOn) {
  ClientWorld w;
  w.config().brokers = {"n1", "n2"};
  w.config().keepalive_ns = kSec;
  w.config().operation_timeout_ns = kSec;
  w.start();
  ProducerConfig config = producer_config("t");
  config.batching_max_publish_delay_ns = 0;
  Producer& p = w.producer(config);
  w.run_for(10 * kMs);
  p.send("", "before", 0);
  w.run_for(10 * kMs);
  ASSERT_EQ(w.results().size(), 1u);
  // Pings are answered while the broker is up.
  w.run_for(3 * kSec);
  EXPECT_GE(w.script().of(M::kPing, "n1").size(), 2u);
  EXPECT_TRUE(w.script().of(M::kLookup, "n2").empty());

  const std::int64_t paused_at = w.now();
  w.world().pause(w.id("n1"), 60 * kSec);
  w.script().owners["t"] = "n2";
  p.send("", "during", 1);
  ASSERT_TRUE(w.run_until([&] { return w.results().size() == 2; }, 10 * kSec));
  const ResultEvent& r = w.results()[1];
  EXPECT_EQ(r.result.error, SendError::ok);
  EXPECT_EQ(r.result.broker, "n2");
  EXPECT_EQ(r.result.sequence_id, 1u);
  // Detected within three keepalives, then a lookup at n1 timed out (1 s) and n2 was
  // asked after the backoff.
  EXPECT_LT(r.time_ns - paused_at, 3 * kSec + kSec + 500 * kMs);
  EXPECT_TRUE(w.world().paused(w.id("n1")));
  const auto resent = sends(w.script(), "n2");
  ASSERT_EQ(resent.size(), 1u);
  EXPECT_EQ(resent[0].send.sequence_id(), 1u);

  // When n1 wakes, its late replies are for an abandoned connection and change nothing.
  w.run_for(70 * kSec);
  EXPECT_EQ(w.results().size(), 2u);
  p.send("", "after", 2);
  w.run_for(10 * kMs);
  ASSERT_EQ(w.results().size(), 3u);
  EXPECT_EQ(w.results()[2].result.broker, "n2");
}

// A crashed broker breaks its connections: the client hears of it, looks the topic up at
// the next service broker and resends there; deduplication recognises what the crashed
// broker had stored before it could answer.
TEST(ClientLookup, BrokenConnectionMovesToTheNewOwner) {
  ClientWorld w;
  w.config().brokers = {"n1", "n2"};
  w.script().hold_receipts.insert("n1");
  w.start();
  ProducerConfig config = producer_config("t");
  config.batching_max_publish_delay_ns = 0;
  Producer& p = w.producer(config);
  w.run_for(10 * kMs);
  p.send("", "a", 0);
  p.send("", "b", 1);
  w.run_for(kMs);
  ASSERT_EQ(w.script().topics["t"].size(), 2u);
  const std::int64_t crashed_at = w.now();
  w.world().crash(w.id("n1"));
  w.script().owners["t"] = "n2";
  ASSERT_TRUE(w.run_until([&] { return w.results().size() == 2; }, kSec));
  for (const ResultEvent& r : w.results()) {
    EXPECT_EQ(r.result.error, SendError::ok);
    EXPECT_EQ(r.result.broker, "n2");
    EXPECT_TRUE(r.result.duplicate);
  }
  // Break detection (50 ms), the first backoff (100 ms), then round trips to n2 only.
  EXPECT_LT(w.results()[1].time_ns - crashed_at, 200 * kMs);
  EXPECT_EQ(w.script().of(M::kLookup, "n2").size(), 1u);
  EXPECT_EQ(w.script().topics["t"].size(), 2u);
}

// One run of a busy scenario: jittery network, batching, a partitioned topic, a consumer,
// ownership moving and a broker pausing. Its history as text.
std::string run_scenario(std::uint64_t seed) {
  sim::Jitter jitter;
  jitter.kind = sim::Jitter::Kind::exponential;
  jitter.mean_ns = 300 * kUs;
  ClientWorld w(3, seed, jitter);
  w.config().brokers = {"n1", "n2"};
  w.config().keepalive_ns = kSec;
  w.config().operation_timeout_ns = kSec;
  w.script().partitions["t"] = 3;
  for (std::uint32_t i = 0; i < 3; ++i) {
    w.script().owners[pulsar::partition_name("t", i)] = "n" + std::to_string(1 + i);
  }
  w.start();
  ProducerConfig config = producer_config("t");
  config.batching_max_publish_delay_ns = 2 * kMs;
  config.batching_max_messages = 5;
  Producer& p = w.producer(config);
  ConsumerConfig cc = consumer_config("t");
  cc.receiver_queue_size = 6;
  Consumer& c = w.consumer(cc);
  c.receive();
  std::uint64_t token = 0;
  const auto burst = [&](int n) {
    for (int i = 0; i < n; ++i, ++token) p.send("key" + std::to_string(token % 7), "v", token);
  };
  burst(20);
  w.run_for(50 * kMs);
  w.script().owners[pulsar::partition_name("t", 0)] = "n2";
  w.broker("n1").close_producers(pulsar::partition_name("t", 0));
  w.broker("n1").close_consumers(pulsar::partition_name("t", 0));
  burst(20);
  w.run_for(kSec);
  w.world().pause(w.id("n3"), 10 * kSec);
  w.script().owners[pulsar::partition_name("t", 2)] = "n1";
  burst(20);
  w.run_for(15 * kSec);

  std::ostringstream out;
  for (const ResultEvent& r : w.results()) {
    out << r.time_ns << " send " << r.result.token << " " << to_string(r.result.error) << " "
        << r.result.message_id.partition() << ":" << r.result.message_id.entry_id() << ":"
        << r.result.message_id.batch_index() << " " << r.result.broker << "\n";
  }
  for (const ReceivedMessage& m : w.received()) {
    out << m.time_ns << " recv " << m.topic << " " << m.id.entry_id() << ":" << m.id.batch_index()
        << " " << m.sequence_id << " " << m.redelivery_count << "\n";
  }
  out << "trace " << w.world().kernel().trace_hash() << "\n";
  return out.str();
}

TEST(ClientLookup, SameSeedSameHistory) {
  const std::string first = run_scenario(42);
  EXPECT_EQ(first, run_scenario(42));
  EXPECT_NE(first, run_scenario(43));
  // The scenario completes: every send got a result.
  std::istringstream lines(first);
  std::string line;
  int sends = 0;
  int ok = 0;
  while (std::getline(lines, line)) {
    if (line.find(" send ") == std::string::npos) continue;
    ++sends;
    if (line.find(" ok ") != std::string::npos) ++ok;
  }
  EXPECT_EQ(sends, 60);
  EXPECT_EQ(ok, 60);
}

}  // namespace
}  // namespace streamlab::client::test
