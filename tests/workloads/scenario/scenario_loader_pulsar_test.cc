// The scenario loader on the Pulsar system (test::kPulsar): its defaults (Pulsar's, not
// BookKeeper's) and knobs, producers' and consumers' settings and the errors in them
// (topics, sizes, arrivals, subscriptions, odds), the nodes each role may run on, and the
// queue workload and checker that belong to it.

#include "workloads/scenario/scenario_loader.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tests/workloads/scenario/scenario_texts.h"

namespace streamlab::workloads {
namespace {

using test::error_of;
using test::expect_errors;
using test::kBookKeeper;
using test::kPulsar;
using test::replace;

TEST(ScenarioLoader, PulsarScenarioLoadsWithPulsarDefaults) {
  const auto r = parse_scenario(kPulsar, "s.textproto");
  ASSERT_TRUE(r.ok()) << r.error();
  const ScenarioConfig& c = r.value();
  EXPECT_EQ(c.system, SystemKind::pulsar);
  EXPECT_EQ(c.topology.nodes[0].role, "metadata-store");
  EXPECT_EQ(c.topology.nodes[1].role, "bookie");
  EXPECT_EQ(c.topology.nodes[2].role, "broker");
  EXPECT_EQ(c.topology.nodes[3].role, "queue-client");
  EXPECT_EQ(c.topology.nodes[6].role, "queue-client");
  EXPECT_TRUE(c.topology.nodes[7].role.empty());  // bk3 runs nothing.
  const PulsarSystemConfig& p = c.pulsar;
  EXPECT_EQ(p.brokers, (std::vector<std::uint32_t>{2, 5}));
  EXPECT_EQ(p.client.brokers, (std::vector<std::string>{"br1", "br2"}));
  EXPECT_EQ(p.client.keepalive_ns, 30'000'000'000);
  EXPECT_EQ(p.client.operation_timeout_ns, 30'000'000'000);
  const pulsar::BrokerConfig& b = p.broker;
  EXPECT_EQ(b.ledger_options.quorums.ensemble, 2u);  // Pulsar's 2/2/2, not BookKeeper's 3/3/2.
  EXPECT_EQ(b.ledger_options.quorums.write_quorum, 2u);
  EXPECT_EQ(b.ledger_options.quorums.ack_quorum, 2u);
  EXPECT_EQ(b.ledger_options.placement.policy, storage::PlacementPolicy::zone_aware);
  EXPECT_EQ(b.metadata.store, "meta");
  EXPECT_EQ(b.metadata.session_timeout_ns, 5'000'000'000);
  ASSERT_EQ(b.ledger.bookies.size(), 2u);
  EXPECT_EQ(b.ledger.bookies[1].name, "bk2");
  EXPECT_EQ(b.ledger.bookies[1].zone, "b");
  EXPECT_TRUE(b.ledger.recovery_fencing);
  EXPECT_TRUE(b.dedup);
  EXPECT_EQ(b.dedup_snapshot_interval, 1000u);
  EXPECT_EQ(b.max_entries_per_ledger, 50'000u);
  EXPECT_EQ(b.max_ledger_age_ns, 4LL * 3600 * 1'000'000'000);
  EXPECT_EQ(b.max_ledger_bytes, 2048ULL << 20);
  EXPECT_EQ(b.retention_ns, 0);
  EXPECT_EQ(b.retention_bytes, 0);
  EXPECT_EQ(b.max_unacked_ranges_to_persist, 1000u);
  EXPECT_EQ(b.keepalive_ns, 30'000'000'000);
  EXPECT_EQ(b.partitioned_topics, (std::map<std::string, std::uint32_t>{{"orders", 2}}));
  EXPECT_EQ(p.topics, (std::map<std::string, std::uint32_t>{{"events", 0}, {"orders", 2}}));
  EXPECT_EQ(p.subscriptions,
            (std::map<std::string, pulsar::SubscriptionType>{{"sub", pulsar::SHARED}}));
  EXPECT_TRUE(c.bookkeeper.bookie.journal_sync_data);

  ASSERT_EQ(c.queue_clients.size(), 2u);
  const QueueClientSpec& pc = c.queue_clients[0];
  EXPECT_EQ(pc.node, 3u);
  EXPECT_EQ(pc.config.client.brokers, p.client.brokers);
  ASSERT_EQ(pc.config.producers.size(), 1u);
  EXPECT_TRUE(pc.config.consumers.empty());
  const QueueProducerConfig& w = pc.config.producers[0];
  EXPECT_EQ(w.topic, "orders");
  EXPECT_DOUBLE_EQ(w.rate_per_s, 100);
  EXPECT_EQ(w.arrival, ProducerArrival::constant);
  EXPECT_EQ(w.size_min, 1024u);
  EXPECT_EQ(w.size_max, 1024u);
  EXPECT_EQ(w.keys, KeyDistribution::none);
  EXPECT_EQ(w.key_count, 100u);
  EXPECT_DOUBLE_EQ(w.zipf_exponent, 1.0);
  EXPECT_EQ(w.start_ns, 0);
  EXPECT_EQ(w.stop_ns, c.duration_ns);
  EXPECT_EQ(w.max_messages, 0u);
  EXPECT_EQ(w.producer.topic, "orders");
  EXPECT_EQ(w.producer.name, "c1-p0");
  EXPECT_EQ(w.producer.batching_max_publish_delay_ns, 1'000'000);
  EXPECT_EQ(w.producer.batching_max_messages, 1000u);
  EXPECT_EQ(w.producer.batching_max_bytes, 128u * 1024);
  EXPECT_EQ(w.producer.max_pending_messages, 1000u);
  EXPECT_EQ(w.producer.send_timeout_ns, 30'000'000'000);
  EXPECT_TRUE(w.producer.resend);
  EXPECT_TRUE(w.producer.idempotent);

  const QueueClientSpec& cc = c.queue_clients[1];
  EXPECT_EQ(cc.node, 6u);
  ASSERT_EQ(cc.config.consumers.size(), 1u);
  const QueueConsumerConfig& r0 = cc.config.consumers[0];
  EXPECT_EQ(r0.consumer.topic, "orders");
  EXPECT_EQ(r0.consumer.subscription, "sub");
  EXPECT_EQ(r0.consumer.type, pulsar::SHARED);
  EXPECT_EQ(r0.consumer.name, "c2-c0");
  EXPECT_EQ(r0.consumer.initial_position, pulsar::EARLIEST);
  EXPECT_EQ(r0.consumer.receiver_queue_size, 1000u);
  EXPECT_EQ(r0.consumer.ack_timeout_ns, 0);
  EXPECT_EQ(r0.consumer.nack_redelivery_delay_ns, 1'000'000'000);
  EXPECT_EQ(r0.processing_ns, 0);
  EXPECT_FALSE(r0.cumulative);
  EXPECT_EQ(r0.nack_probability, 0);
  EXPECT_EQ(r0.slow_probability, 0);
  EXPECT_EQ(r0.start_ns, 0);
  EXPECT_EQ(r0.stop_ns, c.duration_ns);
  ASSERT_EQ(c.expectations.size(), 1u);
  EXPECT_EQ(c.expectations[0].origin, "s.textproto:19");
}

TEST(ScenarioLoader, PulsarKnobsOverrideTheDefaults) {
  std::string text = replace(
      kPulsar, "bookies: [\"bk1\", \"bk2\"] }",
      "bookies: [\"bk1\", \"bk2\", \"bk3\"] ensemble: 3 ack_quorum: 1 recovery_fencing: false "
      "journal_sync_data: false }\n"
      "    dedup: false dedup_snapshot_interval: 50 max_entries_per_ledger: 10\n"
      "    max_ledger_age: \"30s\" retention: \"1m\" retention_size: \"-1\"\n"
      "    max_ledger_size: \"64MiB\" max_unacked_ranges_to_persist: 7\n"
      "    keepalive: \"5s\" operation_timeout: \"2s\"");
  text =
      replace(text, "producer { node: \"c1\" topic: \"orders\" rate: \"100/s\" }",
              "producer { node: \"c1\" topic: \"orders\" rate: \"2000/s\" name: \"orders-writer\" "
              "arrival: RAMP ramp_from: \"10/s\" ramp_over: \"2s\" size: \"uniform(100B, 2KB)\" "
              "keys: ZIPF key_count: 7 zipf_exponent: 1.5 batching_max_delay: \"0s\" "
              "batching_max_messages: 10 batching_max_bytes: \"64KiB\" max_pending: 20 "
              "send_timeout: \"3s\" resend: false idempotent: false start: \"1s\" stop: \"8s\" "
              "max_messages: 500 }\n"
              "  producer { node: \"c1\" topic: \"events\" rate: \"5/s\" arrival: BURST "
              "burst_on: \"1s\" burst_off: \"2s\" size: \"8B\" keys: UNIFORM }\n"
              "  consumer { node: \"c1\" topic: \"events\" subscription: \"audit\" "
              "type: FAILOVER name: \"auditor\" processing_time: \"2ms\" receiver_queue: 5 "
              "ack_timeout: \"10s\" cumulative: true nack_probability: 0.1 nack_delay: \"50ms\" "
              "slow_probability: 0.25 slow_time: \"3s\" latest: true start: \"2s\" stop: \"9s\" }");
  const auto r = parse_scenario(text, "s.textproto");
  ASSERT_TRUE(r.ok()) << r.error();
  const ScenarioConfig& c = r.value();
  const pulsar::BrokerConfig& b = c.pulsar.broker;
  EXPECT_EQ(b.ledger_options.quorums.ensemble, 3u);
  EXPECT_EQ(b.ledger_options.quorums.write_quorum, 2u);  // Pulsar's, set apart from the ensemble.
  EXPECT_EQ(b.ledger_options.quorums.ack_quorum, 1u);
  EXPECT_FALSE(b.ledger.recovery_fencing);
  EXPECT_FALSE(c.bookkeeper.bookie.journal_sync_data);
  EXPECT_FALSE(b.dedup);
  EXPECT_EQ(b.dedup_snapshot_interval, 50u);
  EXPECT_EQ(b.max_entries_per_ledger, 10u);
  EXPECT_EQ(b.max_ledger_age_ns, 30'000'000'000);
  EXPECT_EQ(b.retention_ns, 60'000'000'000);
  EXPECT_EQ(b.retention_bytes, -1);
  EXPECT_EQ(b.max_ledger_bytes, 64ULL << 20);
  EXPECT_EQ(b.max_unacked_ranges_to_persist, 7u);
  EXPECT_EQ(b.keepalive_ns, 5'000'000'000);
  EXPECT_EQ(c.pulsar.client.keepalive_ns, 5'000'000'000);
  EXPECT_EQ(c.pulsar.client.operation_timeout_ns, 2'000'000'000);
  EXPECT_EQ(c.pulsar.subscriptions, (std::map<std::string, pulsar::SubscriptionType>{
                                        {"audit", pulsar::FAILOVER}, {"sub", pulsar::SHARED}}));

  ASSERT_EQ(c.queue_clients.size(), 2u);  // c1 hosts two producers and a consumer.
  const QueueClientConfig& q = c.queue_clients[0].config;
  EXPECT_EQ(c.queue_clients[0].node, 3u);
  EXPECT_EQ(q.client.keepalive_ns, 5'000'000'000);
  EXPECT_EQ(q.client.operation_timeout_ns, 2'000'000'000);
  ASSERT_EQ(q.producers.size(), 2u);
  ASSERT_EQ(q.consumers.size(), 1u);
  const QueueProducerConfig& w = q.producers[0];
  EXPECT_EQ(w.producer.name, "orders-writer");
  EXPECT_DOUBLE_EQ(w.rate_per_s, 2000);
  EXPECT_EQ(w.arrival, ProducerArrival::ramp);
  EXPECT_DOUBLE_EQ(w.ramp_from_per_s, 10);
  EXPECT_EQ(w.ramp_over_ns, 2'000'000'000);
  EXPECT_EQ(w.size_min, 100u);
  EXPECT_EQ(w.size_max, 2000u);
  EXPECT_EQ(w.keys, KeyDistribution::zipf);
  EXPECT_EQ(w.key_count, 7u);
  EXPECT_DOUBLE_EQ(w.zipf_exponent, 1.5);
  EXPECT_EQ(w.producer.batching_max_publish_delay_ns, 0);
  EXPECT_EQ(w.producer.batching_max_messages, 10u);
  EXPECT_EQ(w.producer.batching_max_bytes, 64u * 1024);
  EXPECT_EQ(w.producer.max_pending_messages, 20u);
  EXPECT_EQ(w.producer.send_timeout_ns, 3'000'000'000);
  EXPECT_FALSE(w.producer.resend);
  EXPECT_FALSE(w.producer.idempotent);
  EXPECT_EQ(w.start_ns, 1'000'000'000);
  EXPECT_EQ(w.stop_ns, 8'000'000'000);
  EXPECT_EQ(w.max_messages, 500u);
  const QueueProducerConfig& burst = q.producers[1];
  EXPECT_EQ(burst.producer.name, "c1-p1");  // Its index within the node.
  EXPECT_EQ(burst.arrival, ProducerArrival::burst);
  EXPECT_EQ(burst.burst_on_ns, 1'000'000'000);
  EXPECT_EQ(burst.burst_off_ns, 2'000'000'000);
  EXPECT_EQ(burst.size_min, 8u);
  EXPECT_EQ(burst.size_max, 8u);
  EXPECT_EQ(burst.keys, KeyDistribution::uniform);
  const QueueConsumerConfig& r0 = q.consumers[0];
  EXPECT_EQ(r0.consumer.topic, "events");
  EXPECT_EQ(r0.consumer.subscription, "audit");
  EXPECT_EQ(r0.consumer.type, pulsar::FAILOVER);
  EXPECT_EQ(r0.consumer.name, "auditor");
  EXPECT_EQ(r0.consumer.initial_position, pulsar::LATEST);
  EXPECT_EQ(r0.consumer.receiver_queue_size, 5u);
  EXPECT_EQ(r0.consumer.ack_timeout_ns, 10'000'000'000);
  EXPECT_EQ(r0.consumer.nack_redelivery_delay_ns, 50'000'000);
  EXPECT_EQ(r0.processing_ns, 2'000'000);
  EXPECT_TRUE(r0.cumulative);
  EXPECT_DOUBLE_EQ(r0.nack_probability, 0.1);
  EXPECT_DOUBLE_EQ(r0.slow_probability, 0.25);
  EXPECT_EQ(r0.slow_ns, 3'000'000'000);
  EXPECT_EQ(r0.start_ns, 2'000'000'000);
  EXPECT_EQ(r0.stop_ns, 9'000'000'000);
  EXPECT_EQ(c.queue_clients[1].config.consumers[0].consumer.name, "c2-c0");
}

TEST(ScenarioLoader, PulsarProducerOnAnUndeclaredTopicIsRejected) {
  const std::string ghost = replace(kPulsar, "topic: \"orders\" rate", "topic: \"ghost\" rate");
  expect_errors({
      {ghost, "s.textproto:16: topic: no topic named \"ghost\""},
      {ghost, "known: \"events\", \"orders\""},
      {replace(kPulsar, "topic: \"orders\" rate", "rate"),
       "s.textproto:16: producer: missing 'topic'"},
      {replace(kPulsar, "topic: \"orders\" type", "topic: \"x\" type"),
       "s.textproto:17: topic: no topic named \"x\""},
  });
}

TEST(ScenarioLoader, PulsarBadSizeRangeIsRejected) {
  const std::string producer = "rate: \"100/s\" }";
  const auto with_size = [&](const std::string& size) {
    return replace(kPulsar, producer, "rate: \"100/s\" size: \"" + size + "\" }");
  };
  expect_errors({
      {with_size("uniform(2KB,100B)"),
       "s.textproto:16: size: uniform low (2KB) is above high (100B)"},
      {with_size("4B"), "s.textproto:16: size: message sizes must be in [8B, 5MiB]"},
      {with_size("uniform(1KB,6MiB)"), "s.textproto:16: size: message sizes must be in [8B, 5MiB]"},
      {with_size("uniform(1KB)"), "s.textproto:16: size: uniform needs two sizes"},
      {with_size("1 kilobyte"), "s.textproto:16: size: "},
  });
}

TEST(ScenarioLoader, PulsarCumulativeAcksNeedAnOrderedSubscription) {
  const std::string e = error_of(replace(kPulsar, "type: SHARED", "type: SHARED cumulative: true"));
  EXPECT_NE(e.find("s.textproto:17: cumulative: only with type EXCLUSIVE or FAILOVER, not SHARED"),
            std::string::npos)
      << e;
  EXPECT_TRUE(
      parse_scenario(replace(kPulsar, "type: SHARED", "cumulative: true"), "s.textproto").ok());
}

TEST(ScenarioLoader, PulsarConflictingSubscriptionTypesAreRejected) {
  const std::string e = error_of(
      replace(kPulsar, "type: SHARED }",
              "type: SHARED }\n  consumer { node: \"c1\" topic: \"events\" type: FAILOVER }"));
  EXPECT_NE(e.find("s.textproto:18: type: subscription \"sub\" is FAILOVER here but SHARED at "
                   "s.textproto:17"),
            std::string::npos)
      << e;
  // Consumers of one subscription that agree share it.
  const auto r = parse_scenario(
      replace(kPulsar, "type: SHARED }",
              "type: SHARED }\n  consumer { node: \"c2\" topic: \"orders\" type: SHARED }"),
      "s.textproto");
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r.value().queue_clients.size(), 2u);
  ASSERT_EQ(r.value().queue_clients[1].config.consumers.size(), 2u);
  EXPECT_EQ(r.value().queue_clients[1].config.consumers[1].consumer.name, "c2-c1");
}

// Pulsar deletes a consumed ledger once it is past either limit, so a limit of 0 beside
// a set one would make the set one meaningless: "-1" is how a limit is switched off.
TEST(ScenarioLoader, PulsarRetentionNeedsBothLimitsOrNeither) {
  const std::string brokers = "brokers: [\"br1\", \"br2\"]";
  const auto with = [&](const std::string& knobs) {
    return replace(kPulsar, brokers, brokers + " " + knobs);
  };
  expect_errors({
      {with("retention: \"1h\""),
       "s.textproto:10: retention: with retention_size 0, consumed ledgers go at once whatever "
       "this says; set retention_size too (\"-1\": no limit of that kind)"},
      {with("retention_size: \"1GiB\""), "s.textproto:10: retention_size: with retention 0"},
      {with("retention: \"1h\" retention_size: \"-2\""), "s.textproto:10: retention_size: "},
      {with("retention: \"-1h\" retention_size: \"1GB\""), "s.textproto:10: retention: "},
      {with("max_ledger_size: \"0B\""), "s.textproto:10: max_ledger_size must be > 0"},
  });
  const auto r = parse_scenario(with("retention: \"-1\" retention_size: \"10GiB\""), "s.textproto");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.value().pulsar.broker.retention_ns, -1);
  EXPECT_EQ(r.value().pulsar.broker.retention_bytes, 10LL << 30);
}

TEST(ScenarioLoader, PulsarNodeUsedTwiceIsRejected) {
  const std::string brokers = "[\"br1\", \"br2\"]";
  expect_errors({
      {replace(kPulsar, brokers, "[\"br1\", \"bk1\"]"),
       "s.textproto:10: brokers: node \"bk1\" already runs bookie"},
      {replace(kPulsar, brokers, "[\"br1\", \"br1\"]"),
       "s.textproto:10: brokers: node \"br1\" already runs broker"},
      {replace(kPulsar, "node: \"c2\"", "node: \"br2\""),
       "s.textproto:17: node: node \"br2\" already runs broker"},
      {replace(kPulsar, "node: \"c1\"", "node: \"ghost\""),
       "s.textproto:16: node: no node named \"ghost\" in the topology"},
      {replace(kPulsar, "rate: \"100/s\" }",
               "rate: \"100/s\" }\n  producer { node: \"c2\" topic: \"orders\" rate: \"1/s\" "
               "name: \"c1-p0\" }"),
       "s.textproto:17: name: two producers are named \"c1-p0\""},
  });
}

TEST(ScenarioLoader, PulsarNeedsBrokersAndStorage) {
  expect_errors({
      {replace(kPulsar, "brokers: [\"br1\", \"br2\"]", ""),
       "s.textproto:8: pulsar: missing 'brokers'"},
      {replace(kPulsar, "storage { metadata: \"meta\" bookies: [\"bk1\", \"bk2\"] }", ""),
       "s.textproto:8: pulsar: missing 'storage"},
      {replace(kPulsar, "\"br2\"]", "\"nobody\"]"),
       "s.textproto:10: brokers: no node named \"nobody\""},
  });
}

TEST(ScenarioLoader, PulsarAckQuorumAboveWriteQuorumIsRejected) {
  const std::string e = error_of(replace(kPulsar, "\"bk2\"] }", "\"bk2\"]\n      ack_quorum: 3 }"));
  EXPECT_NE(e.find("s.textproto:10: ack_quorum: "), std::string::npos) << e;
  EXPECT_NE(e.find("ack quorum (3) must be <= write quorum (2)"), std::string::npos) << e;
  // Pulsar's default ensemble (2) is checked against the bookies, at the storage block.
  const std::string d = error_of(replace(kPulsar, ", \"bk2\"] }", "] placement: RANDOM }"));
  EXPECT_NE(d.find("s.textproto:9: ensemble: 2 bookies per ledger but only 1"), std::string::npos)
      << d;
  // A smaller ensemble brings the defaulted quorums down with it.
  const auto r = parse_scenario(
      replace(kPulsar, "\"bk2\"] }", "\"bk2\"] ensemble: 1 enforce_placement: false }"),
      "s.textproto");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.value().pulsar.broker.ledger_options.quorums.write_quorum, 1u);
  EXPECT_EQ(r.value().pulsar.broker.ledger_options.quorums.ack_quorum, 1u);
}

TEST(ScenarioLoader, ADurationOverrideIsTheRunsLengthForWhatEndsWithIt) {
  const auto r = parse_scenario(kPulsar, "s.textproto", ScenarioOverrides{"1h"});
  ASSERT_TRUE(r.ok()) << r.error();
  const ScenarioConfig& c = r.value();
  EXPECT_EQ(c.duration_ns, 3'600'000'000'000);
  EXPECT_EQ(c.run_flags, " --duration 1h");
  for (const QueueClientSpec& q : c.queue_clients) {
    for (const QueueProducerConfig& p : q.config.producers) EXPECT_EQ(p.stop_ns, c.duration_ns);
    for (const QueueConsumerConfig& k : q.config.consumers) EXPECT_EQ(k.stop_ns, c.duration_ns);
  }
  EXPECT_EQ(parse_scenario(kPulsar, "s.textproto").value().run_flags, "");
  const auto bad = parse_scenario(kPulsar, "s.textproto", ScenarioOverrides{"never"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("--duration: \"never\" is not a duration > 0"), std::string::npos)
      << bad.error();
}

TEST(ScenarioLoader, PulsarDuplicateTopicIsRejected) {
  const std::string e = error_of(replace(kPulsar, "name: \"events\"", "name: \"orders\""));
  EXPECT_NE(e.find("s.textproto:12: name: topic \"orders\" is declared twice"), std::string::npos)
      << e;
}

TEST(ScenarioLoader, PulsarArrivalSettingsBelongToTheirKind) {
  const std::string producer = "rate: \"100/s\" }";
  const auto with = [&](const std::string& extra) {
    return replace(kPulsar, producer, "rate: \"100/s\" " + extra + " }");
  };
  expect_errors({
      {with("arrival: RAMP ramp_over: \"1s\""), "s.textproto:16: arrival: RAMP needs 'ramp_from'"},
      {with("arrival: BURST burst_on: \"1s\" burst_off: \"0s\""),
       "s.textproto:16: burst_off must be > 0"},
      {with("burst_on: \"1s\""), "s.textproto:16: burst_on: only with arrival: BURST"},
      {replace(kPulsar, "\"100/s\"", "\"0/s\""), "s.textproto:16: rate: rate \"0/s\" must be > 0"},
      {with("start: \"5s\" stop: \"2s\""), "s.textproto:16: stop is before start"},
  });
}

TEST(ScenarioLoader, PulsarConsumerOddsAreChecked) {
  expect_errors({
      {replace(kPulsar, "type: SHARED", "type: SHARED nack_probability: 1.5"),
       "s.textproto:17: nack_probability must be in [0, 1]"},
      {replace(kPulsar, "type: SHARED", "type: SHARED slow_probability: 0.5"),
       "s.textproto:17: slow_probability: needs 'slow_time'"},
  });
}

TEST(ScenarioLoader, PulsarQueueWorkloadNeedsThePulsarSystem) {
  const std::string writer = "ledger_writer { node: \"w1\" rate: \"100/s\" }";
  expect_errors({
      {replace(kBookKeeper, writer, "producer { node: \"w1\" topic: \"t\" rate: \"1/s\" }"),
       "s.textproto:14: producer: needs system { pulsar { ... } }"},
      {replace(kBookKeeper, writer, "consumer { node: \"w1\" topic: \"t\" }"),
       "s.textproto:14: consumer: needs system { pulsar { ... } }"},
      // And the storage layer's own workload is not the broker system's.
      {replace(kPulsar, "consumer { node: \"c2\" topic: \"orders\" type: SHARED }",
               "ledger_writer { node: \"c2\" rate: \"1/s\" }"),
       "s.textproto:17: ledger_writer: needs system { bookkeeper { ... } }"},
  });
}

TEST(ScenarioLoader, PulsarIsJudgedByTheQueueChecker) {
  const auto r = parse_scenario(kPulsar + "checker: \"queue\"\n", "s.textproto");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.value().checker, "queue");
  const std::string e = error_of(kPulsar + "checker: \"ledger\"\n");
  EXPECT_NE(e.find("s.textproto:20: checker: unknown checker \"ledger\"; this system has: queue"),
            std::string::npos)
      << e;
  for (const char* anomaly :
       {"lost-write", "duplicate", "duplicate-delivery", "unseen", "poll-skip", "nonmonotonic-poll",
        "nonmonotonic-send", "inconsistent-offsets", "unexpected", "split-brain"}) {
    EXPECT_TRUE(parse_scenario(
                    replace(kPulsar, "\"duplicate-delivery\"", "\"" + std::string(anomaly) + "\""),
                    "s.textproto")
                    .ok())
        << anomaly;
  }
  const std::string n = error_of(replace(kPulsar, "\"duplicate-delivery\"", "\"not-recovered\""));
  EXPECT_NE(n.find("s.textproto:19: anomaly: unknown name \"not-recovered\""), std::string::npos)
      << n;
  // The queue checker's anomalies are not the ledger checker's.
  const std::string l = error_of(replace(kBookKeeper, "\"split-brain\"", "\"poll-skip\""));
  EXPECT_NE(l.find("s.textproto:15: anomaly: unknown name \"poll-skip\""), std::string::npos) << l;
}

}  // namespace
}  // namespace streamlab::workloads
