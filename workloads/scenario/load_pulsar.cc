// The scenario loader's part for the broker system: `system { pulsar { ... } }` and the
// queue workload's producers and consumers (workloads/queue_client.h). Every distinct
// client node of the producers and consumers becomes one queue client.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>

#include "workloads/scenario/load_sections.h"

namespace streamlab::workloads {

namespace {

// Pulsar's managedLedgerDefaultEnsembleSize and ...WriteQuorum (the ack quorum's default,
// 2, is BookKeeper's too).
constexpr std::uint32_t kPulsarEnsemble = 2;
constexpr std::uint32_t kPulsarWriteQuorum = 2;
// Pulsar's maxMessageSize: the broker rejects larger messages.
constexpr std::int64_t kMaxMessageBytes = 5 << 20;
constexpr char kQueueClientRole[] = "queue-client";

// The storage section with Pulsar's quorum defaults where it leaves them unset (Pulsar
// sets ensemble and write quorum independently, so "ensemble: 3" alone gives 3/2/2);
// load_bookkeeper applies BookKeeper's rules to the rest, and its ack quorum default,
// min(2, write quorum), is Pulsar's too. A filled-in value has no line of its own, so a
// problem with it is reported at the storage block, as BookKeeper's own defaults are.
scenario::BookKeeperSystem with_pulsar_quorums(const scenario::BookKeeperSystem& in) {
  scenario::BookKeeperSystem storage = in;
  if (storage.ensemble() == 0) storage.set_ensemble(kPulsarEnsemble);
  if (storage.write_quorum() == 0) {
    storage.set_write_quorum(std::min(kPulsarWriteQuorum, storage.ensemble()));
  }
  return storage;
}

void load_broker_knobs(const scenario::PulsarSystem& in, const Place& place, LoadContext& ctx,
                       pulsar::BrokerConfig* b) {
  b->dedup = !in.has_dedup() || in.dedup();
  if (in.dedup_snapshot_interval() != 0) b->dedup_snapshot_interval = in.dedup_snapshot_interval();
  if (in.max_entries_per_ledger() != 0) b->max_entries_per_ledger = in.max_entries_per_ledger();
  if (b->max_entries_per_ledger == std::numeric_limits<std::uint32_t>::max()) {
    ctx.error(place.at("max_entries_per_ledger"),
              "max_entries_per_ledger must be in [1, 4294967294]");
  }
  if (in.max_unacked_ranges_to_persist() != 0) {
    b->max_unacked_ranges_to_persist = in.max_unacked_ranges_to_persist();
  }
  b->max_ledger_age_ns = ctx.duration(in.max_ledger_age(), place.at("max_ledger_age"),
                                      "max_ledger_age", b->max_ledger_age_ns);
  if (b->max_ledger_age_ns <= 0) {
    ctx.error(place.at("max_ledger_age"), "max_ledger_age must be > 0");
  }
  b->max_ledger_bytes = static_cast<std::uint64_t>(
      ctx.bytes(in.max_ledger_size(), place.at("max_ledger_size"), "max_ledger_size",
                static_cast<std::int64_t>(b->max_ledger_bytes)));
  if (b->max_ledger_bytes == 0) {
    ctx.error(place.at("max_ledger_size"), "max_ledger_size must be > 0");
  }
  // "-1": no limit of that kind, Pulsar's spelling.
  b->retention_ns = in.retention() == "-1" ? -1
                                           : ctx.duration(in.retention(), place.at("retention"),
                                                          "retention", b->retention_ns);
  b->retention_bytes =
      in.retention_size() == "-1"
          ? -1
          : ctx.bytes(in.retention_size(), place.at("retention_size"), "retention_size",
                      b->retention_bytes);
  if ((b->retention_ns == 0) != (b->retention_bytes == 0)) {
    // Reported at the limit that was set: the one the other's 0 would make meaningless.
    const bool time_set = b->retention_ns != 0;
    const char* set = time_set ? "retention" : "retention_size";
    const char* other = time_set ? "retention_size" : "retention";
    ctx.error(place.at(set), std::string(set) + ": with " + other +
                                 " 0, consumed ledgers go at once whatever this says; set " +
                                 other + " too (\"-1\": no limit of that kind)");
  }
  b->keepalive_ns =
      ctx.duration(in.keepalive(), place.at("keepalive"), "keepalive", b->keepalive_ns);
  if (b->keepalive_ns <= 0) ctx.error(place.at("keepalive"), "keepalive must be > 0");
  b->transactions = in.transactions();
  b->txn_log_committing = !in.has_txn_log_committing() || in.txn_log_committing();
  b->txn_zombie_fencing = !in.has_txn_zombie_fencing() || in.txn_zombie_fencing();
  if (!in.transactions() && (in.has_txn_log_committing() || in.has_txn_zombie_fencing())) {
    ctx.error(place.at(in.has_txn_log_committing() ? "txn_log_committing" : "txn_zombie_fencing"),
              "transaction settings need 'transactions: true'");
  }
}

void load_topics(const scenario::PulsarSystem& in, const Place& place, LoadContext& ctx,
                 PulsarSystemConfig* p) {
  for (int i = 0; i < in.topic_size(); ++i) {
    const scenario::TopicDef& t = in.topic(i);
    const Place tp = place.nested("topic", t, i);
    if (t.name().empty()) {
      ctx.error(tp.line, "topic: missing 'name'");
      continue;
    }
    if (!p->topics.emplace(t.name(), t.partitions()).second) {
      ctx.error(tp.at("name"), "name: topic \"" + t.name() + "\" is declared twice");
      continue;
    }
    if (t.partitions() > 0) p->broker.partitioned_topics[t.name()] = t.partitions();
  }
}

// What loading the queue workload keeps across producers and consumers.
struct QueueWorkloadState {
  std::map<std::uint32_t, std::size_t> client_index;  // Node id -> index in queue_clients.
  std::set<std::string> producer_names;
  std::map<std::string, int> subscription_lines;  // Where each subscription's type was set.
};

// The queue client of a producer's or consumer's node, made on first use; nullptr after
// an error. The pointer is valid until the next call (queue_clients may grow).
QueueClientSpec* client_node(const std::string& name, const char* kind, const Place& place,
                             LoadContext& ctx, ScenarioConfig* out, QueueWorkloadState& state) {
  if (name.empty()) {
    ctx.error(place.line, std::string(kind) + ": missing 'node'");
    return nullptr;
  }
  const auto it = ctx.node_ids.find(name);
  if (it != ctx.node_ids.end()) {
    const auto found = state.client_index.find(it->second);
    if (found != state.client_index.end()) return &out->queue_clients[found->second];
  }
  QueueClientSpec spec;
  if (!claim_node(name, "node", kQueueClientRole, place.at("node"), ctx, out, &spec.node)) {
    return nullptr;
  }
  spec.config.client = out->pulsar.client;
  state.client_index.emplace(spec.node, out->queue_clients.size());
  out->queue_clients.push_back(std::move(spec));
  return &out->queue_clients.back();
}

// A producer's name is its messages' identity: no two may share one.
void claim_producer_name(const std::string& name, const char* field, const Place& place,
                         LoadContext& ctx, QueueWorkloadState& state) {
  if (state.producer_names.insert(name).second) return;
  ctx.error(place.at(field), std::string(field) + ": two producers are named \"" + name +
                                 "\"; a producer's name is its messages' identity");
}

// When a workload entry runs: from `start` (default 0) to `stop` (default the end).
void load_window(const std::string& start, const std::string& stop, const Place& place,
                 LoadContext& ctx, std::int64_t duration_ns, std::int64_t* start_ns,
                 std::int64_t* stop_ns) {
  *start_ns = ctx.duration(start, place.at("start"), "start", 0);
  *stop_ns = ctx.duration(stop, place.at("stop"), "stop", duration_ns);
  if (*start_ns > *stop_ns) ctx.error(place.at("stop"), "stop is before start");
}

// A producer's or consumer's topic must be one the pulsar system declares.
bool check_topic(const std::string& topic, const char* kind, const Place& place, LoadContext& ctx,
                 const PulsarSystemConfig& pulsar) {
  if (topic.empty()) {
    ctx.error(place.line, std::string(kind) + ": missing 'topic'");
    return false;
  }
  if (pulsar.topics.contains(topic)) return true;
  std::string known;
  for (const auto& [name, partitions] : pulsar.topics) {
    known += (known.empty() ? "\"" : ", \"") + name + "\"";
  }
  ctx.error(place.at("topic"), "topic: no topic named \"" + topic +
                                   "\" in system { pulsar { topic { ... } } }; known: " +
                                   (known.empty() ? "none" : known));
  return false;
}

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(' ');
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(' ') - first + 1);
}

// "1KB" (every message that size) or "uniform(100B,2KB)".
void load_size(const std::string& text, int line, LoadContext& ctx, QueueProducerConfig* cfg) {
  if (text.empty()) return;
  std::string low = text;
  std::string high = text;
  if (text.starts_with("uniform(")) {
    const auto comma = text.find(',');
    if (!text.ends_with(")") || comma == std::string::npos) {
      ctx.error(line, "size: uniform needs two sizes, as in \"uniform(100B,2KB)\", got \"" +
                          text + "\"");
      return;
    }
    low = trimmed(text.substr(8, comma - 8));
    high = trimmed(text.substr(comma + 1, text.size() - comma - 2));
    if (low.empty() || high.empty()) {
      ctx.error(line, "size: uniform needs two sizes, as in \"uniform(100B,2KB)\"");
      return;
    }
  }
  const std::int64_t min = ctx.bytes(low, line, "size", 1024);
  const std::int64_t max = ctx.bytes(high, line, "size", 1024);
  if (min > max) {
    ctx.error(line, "size: uniform low (" + low + ") is above high (" + high + ")");
  }
  if (std::min(min, max) < static_cast<std::int64_t>(kQueuePayloadHeader) ||
      std::max(min, max) > kMaxMessageBytes) {
    ctx.error(line, "size: message sizes must be in [8B, 5MiB] (8 bytes hold the message's "
                    "number; 5MiB is Pulsar's maxMessageSize)");
    return;
  }
  cfg->size_min = static_cast<std::size_t>(min);
  cfg->size_max = static_cast<std::size_t>(max);
}

ProducerArrival to_arrival(scenario::Arrival arrival) {
  switch (arrival) {
    case scenario::POISSON: return ProducerArrival::poisson;
    case scenario::RAMP: return ProducerArrival::ramp;
    case scenario::BURST: return ProducerArrival::burst;
    default: return ProducerArrival::constant;
  }
}

// The settings of one arrival kind: RAMP needs ramp_from and ramp_over, BURST burst_on
// and burst_off; each is an error with any other kind, where it would mean nothing.
void load_arrival(const scenario::Producer& p, const Place& pp, LoadContext& ctx,
                  QueueProducerConfig* cfg) {
  const bool ramp = p.arrival() == scenario::RAMP;
  const bool burst = p.arrival() == scenario::BURST;
  cfg->arrival = to_arrival(p.arrival());
  const auto need = [&](const std::string& value, const char* field, bool wanted,
                        const char* kind, const char* example) {
    if (wanted && value.empty()) {
      ctx.error(pp.at("arrival"), std::string("arrival: ") + kind + " needs '" + field +
                                      "', e.g. " + field + ": \"" + example + "\"");
    } else if (!wanted && !value.empty()) {
      ctx.error(pp.at(field), std::string(field) + ": only with arrival: " + kind);
    }
  };
  need(p.ramp_from(), "ramp_from", ramp, "RAMP", "100/s");
  need(p.ramp_over(), "ramp_over", ramp, "RAMP", "10s");
  need(p.burst_on(), "burst_on", burst, "BURST", "1s");
  need(p.burst_off(), "burst_off", burst, "BURST", "2s");
  cfg->ramp_from_per_s = ctx.rate(p.ramp_from(), pp.at("ramp_from"), "ramp_from", 0);
  cfg->ramp_over_ns = ctx.duration(p.ramp_over(), pp.at("ramp_over"), "ramp_over", 0);
  cfg->burst_on_ns = ctx.duration(p.burst_on(), pp.at("burst_on"), "burst_on", 0);
  cfg->burst_off_ns = ctx.duration(p.burst_off(), pp.at("burst_off"), "burst_off", 0);
  const auto positive = [&](const std::string& value, std::int64_t ns, const char* field) {
    if (!value.empty() && ns <= 0) ctx.error(pp.at(field), std::string(field) + " must be > 0");
  };
  positive(p.ramp_over(), cfg->ramp_over_ns, "ramp_over");
  positive(p.burst_on(), cfg->burst_on_ns, "burst_on");
  positive(p.burst_off(), cfg->burst_off_ns, "burst_off");
}

void load_keys(const scenario::Producer& p, const Place& pp, LoadContext& ctx,
               QueueProducerConfig* cfg) {
  cfg->keys = p.keys() == scenario::UNIFORM ? KeyDistribution::uniform
              : p.keys() == scenario::ZIPF  ? KeyDistribution::zipf
                                            : KeyDistribution::none;
  if (p.key_count() != 0) cfg->key_count = p.key_count();
  if (p.zipf_exponent() != 0) cfg->zipf_exponent = p.zipf_exponent();
  if (!(cfg->zipf_exponent > 0) || !std::isfinite(cfg->zipf_exponent)) {
    ctx.error(pp.at("zipf_exponent"), "zipf_exponent must be > 0");
  }
}

// The client library's producer settings (batching, pending queue, timeouts, resends).
void load_producer_client(const scenario::Producer& p, const Place& pp, LoadContext& ctx,
                          client::ProducerConfig* c) {
  c->batching_max_publish_delay_ns =
      ctx.duration(p.batching_max_delay(), pp.at("batching_max_delay"), "batching_max_delay",
                   c->batching_max_publish_delay_ns);
  if (p.batching_max_messages() != 0) c->batching_max_messages = p.batching_max_messages();
  const std::int64_t bytes = ctx.bytes(p.batching_max_bytes(), pp.at("batching_max_bytes"),
                                       "batching_max_bytes", c->batching_max_bytes);
  if (bytes <= 0 || bytes > std::numeric_limits<std::uint32_t>::max()) {
    ctx.error(pp.at("batching_max_bytes"), "batching_max_bytes must be in [1B, 4GiB)");
  } else {
    c->batching_max_bytes = static_cast<std::uint32_t>(bytes);
  }
  if (p.max_pending() != 0) c->max_pending_messages = p.max_pending();
  c->send_timeout_ns = ctx.duration(p.send_timeout(), pp.at("send_timeout"), "send_timeout",
                                    c->send_timeout_ns);
  if (c->send_timeout_ns <= 0) ctx.error(pp.at("send_timeout"), "send_timeout must be > 0");
  c->resend = !p.has_resend() || p.resend();
  c->idempotent = !p.has_idempotent() || p.idempotent();
}

void load_producer(const scenario::Producer& p, const Place& pp, LoadContext& ctx,
                   ScenarioConfig* out, QueueWorkloadState& state) {
  QueueClientSpec* spec = client_node(p.node(), "producer", pp, ctx, out, state);
  check_topic(p.topic(), "producer", pp, ctx, out->pulsar);
  if (spec == nullptr) return;
  QueueProducerConfig cfg;
  cfg.topic = p.topic();
  cfg.producer.topic = p.topic();
  cfg.producer.name = !p.name().empty()
                          ? p.name()
                          : p.node() + "-p" + std::to_string(spec->config.producers.size());
  claim_producer_name(cfg.producer.name, "name", pp, ctx, state);
  if (p.rate().empty()) ctx.error(pp.line, "producer: missing 'rate', e.g. \"2000/s\"");
  cfg.rate_per_s = ctx.rate(p.rate(), pp.at("rate"), "rate", 1);
  load_arrival(p, pp, ctx, &cfg);
  load_size(p.size(), pp.at("size"), ctx, &cfg);
  load_keys(p, pp, ctx, &cfg);
  load_producer_client(p, pp, ctx, &cfg.producer);
  load_window(p.start(), p.stop(), pp, ctx, out->duration_ns, &cfg.start_ns, &cfg.stop_ns);
  cfg.max_messages = p.max_messages();
  spec->config.producers.push_back(std::move(cfg));
}

pulsar::SubscriptionType to_pulsar(scenario::SubscriptionType type) {
  switch (type) {
    case scenario::SHARED: return pulsar::SHARED;
    case scenario::FAILOVER: return pulsar::FAILOVER;
    case scenario::KEY_SHARED: return pulsar::KEY_SHARED;
    default: return pulsar::EXCLUSIVE;
  }
}

// Every consumer of a subscription must agree on its type: the checker judges ordering by
// it (and Pulsar refuses a consumer whose type differs from the subscription's).
void record_subscription(const scenario::Consumer& c, const std::string& subscription,
                         const Place& cp, LoadContext& ctx, PulsarSystemConfig* pulsar,
                         QueueWorkloadState& state) {
  const pulsar::SubscriptionType type = to_pulsar(c.type());
  const auto [it, added] = pulsar->subscriptions.emplace(subscription, type);
  if (added) {
    state.subscription_lines[subscription] = cp.at("type");
  } else if (it->second != type) {
    ctx.error(cp.at("type"), "type: subscription \"" + subscription + "\" is " +
                                 pulsar::SubscriptionType_Name(type) + " here but " +
                                 pulsar::SubscriptionType_Name(it->second) + " at " +
                                 ctx.origin(state.subscription_lines[subscription]));
  }
}

// How a consumer acknowledges: cumulatively or not, negative acks, slow acks, timeouts.
void load_consumer_acks(const scenario::Consumer& c, const Place& cp, LoadContext& ctx,
                        QueueConsumerConfig* cfg) {
  client::ConsumerConfig& cc = cfg->consumer;
  cfg->cumulative = c.cumulative();
  // Pulsar: cumulative acknowledgement is not supported for Shared and Key_Shared
  // subscriptions (it would ack messages other consumers hold).
  if (c.cumulative() && c.type() != scenario::EXCLUSIVE && c.type() != scenario::FAILOVER) {
    ctx.error(cp.at("cumulative"), "cumulative: only with type EXCLUSIVE or FAILOVER, not " +
                                       scenario::SubscriptionType_Name(c.type()));
  }
  cc.ack_timeout_ns = ctx.duration(c.ack_timeout(), cp.at("ack_timeout"), "ack_timeout", 0);
  cc.nack_redelivery_delay_ns =
      ctx.duration(c.nack_delay(), cp.at("nack_delay"), "nack_delay", 1'000'000'000);
  const auto probability = [&](double value, const char* field) {
    if (!(value >= 0 && value <= 1)) {
      ctx.error(cp.at(field), std::string(field) + " must be in [0, 1]");
    }
    return value;
  };
  cfg->nack_probability = probability(c.nack_probability(), "nack_probability");
  cfg->slow_probability = probability(c.slow_probability(), "slow_probability");
  cfg->slow_ns = ctx.duration(c.slow_time(), cp.at("slow_time"), "slow_time", 0);
  if (cfg->slow_probability > 0 && c.slow_time().empty()) {
    ctx.error(cp.at("slow_probability"),
              "slow_probability: needs 'slow_time', how long a slow message is held");
  } else if (cfg->slow_probability > 0 && cfg->slow_ns <= 0) {
    ctx.error(cp.at("slow_time"), "slow_time must be > 0");
  }
}

void load_consumer(const scenario::Consumer& c, const Place& cp, LoadContext& ctx,
                   ScenarioConfig* out, QueueWorkloadState& state) {
  QueueClientSpec* spec = client_node(c.node(), "consumer", cp, ctx, out, state);
  check_topic(c.topic(), "consumer", cp, ctx, out->pulsar);
  if (spec == nullptr) return;
  QueueConsumerConfig cfg;
  client::ConsumerConfig& cc = cfg.consumer;
  cc.topic = c.topic();
  cc.subscription = c.subscription().empty() ? "sub" : c.subscription();
  cc.type = to_pulsar(c.type());
  cc.name = !c.name().empty() ? c.name()
                              : c.node() + "-c" + std::to_string(spec->config.consumers.size());
  record_subscription(c, cc.subscription, cp, ctx, &out->pulsar, state);
  cc.initial_position = c.latest() ? pulsar::LATEST : pulsar::EARLIEST;
  cc.read_uncommitted = c.read_uncommitted();
  if (c.read_uncommitted() && !out->pulsar.broker.transactions) {
    ctx.error(cp.at("read_uncommitted"), "read_uncommitted: needs 'transactions: true'");
  }
  if (c.receiver_queue() != 0) cc.receiver_queue_size = c.receiver_queue();
  cfg.processing_ns =
      ctx.duration(c.processing_time(), cp.at("processing_time"), "processing_time", 0);
  load_consumer_acks(c, cp, ctx, &cfg);
  load_window(c.start(), c.stop(), cp, ctx, out->duration_ns, &cfg.start_ns, &cfg.stop_ns);
  spec->config.consumers.push_back(std::move(cfg));
}

// Transactional producers and pipelines need the brokers to run transactions.
bool needs_transactions(const char* kind, const Place& place, LoadContext& ctx,
                        const ScenarioConfig& out) {
  if (out.pulsar.broker.transactions) return true;
  ctx.error(place.line, std::string(kind) +
                            ": needs system { pulsar { transactions: true } }");
  return false;
}

void load_txn_producer(const scenario::TxnProducer& t, const Place& tp, LoadContext& ctx,
                       ScenarioConfig* out, QueueWorkloadState& state) {
  QueueClientSpec* spec = client_node(t.node(), "txn_producer", tp, ctx, out, state);
  if (t.topic_size() == 0) ctx.error(tp.line, "txn_producer: missing 'topic'");
  for (int i = 0; i < t.topic_size(); ++i) {
    if (!t.topic(i).empty()) check_topic(t.topic(i), "txn_producer", tp, ctx, out->pulsar);
  }
  if (!needs_transactions("txn_producer", tp, ctx, *out) || spec == nullptr) return;
  TxnProducerConfig cfg;
  cfg.name = !t.name().empty()
                 ? t.name()
                 : t.node() + "-t" + std::to_string(spec->config.txn_producers.size());
  claim_producer_name(cfg.name, "name", tp, ctx, state);
  cfg.owner = t.owner().empty() ? cfg.name : t.owner();
  cfg.topics = {t.topic().begin(), t.topic().end()};
  if (t.rate().empty()) ctx.error(tp.line, "txn_producer: missing 'rate', e.g. \"20/s\"");
  cfg.rate_per_s = ctx.rate(t.rate(), tp.at("rate"), "rate", 1);
  if (t.messages_per_txn() != 0) cfg.messages_per_txn = t.messages_per_txn();
  if (!(t.abort_probability() >= 0 && t.abort_probability() <= 1)) {
    ctx.error(tp.at("abort_probability"), "abort_probability must be in [0, 1]");
  }
  cfg.abort_probability = t.abort_probability();
  cfg.txn_timeout_ns =
      ctx.duration(t.txn_timeout(), tp.at("txn_timeout"), "txn_timeout", cfg.txn_timeout_ns);
  if (cfg.txn_timeout_ns <= 0) ctx.error(tp.at("txn_timeout"), "txn_timeout must be > 0");
  const std::int64_t size = ctx.bytes(t.size(), tp.at("size"), "size", 64);
  if (size < static_cast<std::int64_t>(kQueuePayloadHeader) || size > kMaxMessageBytes) {
    ctx.error(tp.at("size"), "size: must be in [8B, 5MiB]");
  } else {
    cfg.size = static_cast<std::size_t>(size);
  }
  client::ProducerConfig& pc = cfg.producer;
  pc.batching_max_publish_delay_ns =
      ctx.duration(t.batching_max_delay(), tp.at("batching_max_delay"), "batching_max_delay",
                   pc.batching_max_publish_delay_ns);
  pc.send_timeout_ns =
      ctx.duration(t.send_timeout(), tp.at("send_timeout"), "send_timeout", pc.send_timeout_ns);
  if (pc.send_timeout_ns <= 0) ctx.error(tp.at("send_timeout"), "send_timeout must be > 0");
  load_window(t.start(), t.stop(), tp, ctx, out->duration_ns, &cfg.start_ns, &cfg.stop_ns);
  cfg.max_txns = t.max_txns();
  spec->config.txn_producers.push_back(std::move(cfg));
}

void load_pipeline(const scenario::Pipeline& p, const Place& pp, LoadContext& ctx,
                   ScenarioConfig* out, QueueWorkloadState& state) {
  QueueClientSpec* spec = client_node(p.node(), "pipeline", pp, ctx, out, state);
  const auto topic = [&](const std::string& name, const char* field) {
    if (name.empty()) {
      ctx.error(pp.line, std::string("pipeline: missing '") + field + "'");
    } else if (!out->pulsar.topics.contains(name)) {
      ctx.error(pp.at(field), std::string(field) + ": no topic named \"" + name +
                                  "\" in system { pulsar { topic { ... } } }");
    }
  };
  topic(p.input(), "input");
  topic(p.output(), "output");
  if (!needs_transactions("pipeline", pp, ctx, *out) || spec == nullptr) return;
  PipelineConfig cfg;
  const std::string base = p.node() + "-pipeline" + std::to_string(spec->config.pipelines.size());
  cfg.owner = p.owner();
  cfg.input.topic = p.input();
  cfg.input.subscription = p.subscription().empty() ? "pipeline" : p.subscription();
  cfg.input.type = to_pulsar(p.type());
  cfg.input.name = p.consumer_name().empty() ? base : p.consumer_name();
  if (p.receiver_queue() != 0) cfg.input.receiver_queue_size = p.receiver_queue();
  cfg.input.read_uncommitted = p.read_uncommitted();
  const pulsar::SubscriptionType type = cfg.input.type;
  const auto [it, added] = out->pulsar.subscriptions.emplace(cfg.input.subscription, type);
  if (!added && it->second != type) {
    ctx.error(pp.at("type"), "type: subscription "" + cfg.input.subscription + "" is " +
                                 pulsar::SubscriptionType_Name(type) + " here but " +
                                 pulsar::SubscriptionType_Name(it->second) + " elsewhere");
  }
  cfg.output.topic = p.output();
  cfg.output.name = p.output_name().empty() ? base : p.output_name();
  claim_producer_name(cfg.output.name, "output_name", pp, ctx, state);
  if (p.messages_per_txn() != 0) cfg.messages_per_txn = p.messages_per_txn();
  cfg.max_wait_ns = ctx.duration(p.max_wait(), pp.at("max_wait"), "max_wait", cfg.max_wait_ns);
  if (cfg.max_wait_ns <= 0) ctx.error(pp.at("max_wait"), "max_wait must be > 0");
  cfg.processing_ns =
      ctx.duration(p.processing_time(), pp.at("processing_time"), "processing_time", 0);
  cfg.txn_timeout_ns =
      ctx.duration(p.txn_timeout(), pp.at("txn_timeout"), "txn_timeout", cfg.txn_timeout_ns);
  if (cfg.txn_timeout_ns <= 0) ctx.error(pp.at("txn_timeout"), "txn_timeout must be > 0");
  load_window(p.start(), p.stop(), pp, ctx, out->duration_ns, &cfg.start_ns, &cfg.stop_ns);
  spec->config.pipelines.push_back(std::move(cfg));
}

}  // namespace

void load_pulsar(const scenario::PulsarSystem& in, const Place& place, LoadContext& ctx,
                 ScenarioConfig* out) {
  if (!in.has_storage()) {
    ctx.error(place.line, "pulsar: missing 'storage { metadata: ... bookies: [...] }'");
  } else {
    const scenario::BookKeeperSystem storage = with_pulsar_quorums(in.storage());
    Place sp = place.nested("storage", in.storage());
    sp.message = &storage;  // Same fields, so the same lines.
    load_bookkeeper(storage, sp, ctx, out);
  }
  out->system = SystemKind::pulsar;
  PulsarSystemConfig& p = out->pulsar;
  if (in.brokers_size() == 0) {
    ctx.error(place.line, "pulsar: missing 'brokers' (the nodes that run brokers)");
  }
  for (int i = 0; i < in.brokers_size(); ++i) {
    std::uint32_t id = 0;
    if (!claim_node(in.brokers(i), "brokers", "broker", place.at("brokers", i), ctx, out, &id)) {
      continue;
    }
    p.brokers.push_back(id);
    p.client.brokers.push_back(in.brokers(i));
  }
  // Brokers use the storage layer's clients with its settings.
  const LedgerWriterConfig& storage = out->bookkeeper.writer_defaults;
  p.broker.metadata = storage.metadata;
  p.broker.ledger = storage.ledger;
  p.broker.ledger_options = storage.options;
  load_broker_knobs(in, place, ctx, &p.broker);
  p.client.keepalive_ns = p.broker.keepalive_ns;
  p.client.spread_lookups = in.has_spread_lookups() && in.spread_lookups();
  p.client.operation_timeout_ns =
      ctx.duration(in.operation_timeout(), place.at("operation_timeout"), "operation_timeout",
                   p.client.operation_timeout_ns);
  if (p.client.operation_timeout_ns <= 0) {
    ctx.error(place.at("operation_timeout"), "operation_timeout must be > 0");
  }
  load_topics(in, place, ctx, &p);
}

void load_queue_clients(const scenario::Workload& in, const Place& place, LoadContext& ctx,
                        ScenarioConfig* out) {
  if (out->system != SystemKind::pulsar) {
    if (in.producer_size() > 0) {
      ctx.error(place.at("producer", 0), "producer: needs system { pulsar { ... } }");
    }
    if (in.consumer_size() > 0) {
      ctx.error(place.at("consumer", 0), "consumer: needs system { pulsar { ... } }");
    }
    if (in.txn_producer_size() > 0) {
      ctx.error(place.at("txn_producer", 0), "txn_producer: needs system { pulsar { ... } }");
    }
    if (in.pipeline_size() > 0) {
      ctx.error(place.at("pipeline", 0), "pipeline: needs system { pulsar { ... } }");
    }
    return;
  }
  QueueWorkloadState state;
  for (int i = 0; i < in.producer_size(); ++i) {
    load_producer(in.producer(i), place.nested("producer", in.producer(i), i), ctx, out, state);
  }
  for (int i = 0; i < in.consumer_size(); ++i) {
    load_consumer(in.consumer(i), place.nested("consumer", in.consumer(i), i), ctx, out, state);
  }
  for (int i = 0; i < in.txn_producer_size(); ++i) {
    load_txn_producer(in.txn_producer(i), place.nested("txn_producer", in.txn_producer(i), i),
                      ctx, out, state);
  }
  for (int i = 0; i < in.pipeline_size(); ++i) {
    load_pipeline(in.pipeline(i), place.nested("pipeline", in.pipeline(i), i), ctx, out, state);
  }
}

}  // namespace streamlab::workloads
