#pragma once

// The client tests' world: node n0 embeds a client::Client; n1, n2, ... are scripted fake
// brokers. What brokers receive and what the client reports are kept in logs the test
// owns, with kernel times.
//
// The fake broker's fault model: it is always up unless the test pauses it (World::pause)
// or tells it to misbehave through the Script: answer nothing at all (silent), store
// sends but hold their receipts, answer lookups or creates with errors, close producers
// and consumers, send a SendError. Its "storage" (entries per topic, deduplication's
// highest sequence id per producer name, acks per subscription) is shared by all fake
// brokers through the Script, as BookKeeper and the metadata store are shared by real
// ones, so a new owner sees what the old one stored.

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "broker/client/client.h"
#include "broker/pulsar/pulsar.pb.h"
#include "broker/pulsar/wire.h"
#include "sim/world.h"
#include "tests/sim/test_world.h"

namespace streamlab::client::test {

using sim::test_util::kMs;
using sim::test_util::kSec;
using sim::test_util::kUs;

// The one-way latency between any two nodes of the test topology.
inline constexpr std::int64_t kLatency = 200 * kUs;
// Times are exact up to NIC serialization (bytes / bandwidth: nanoseconds for these
// small messages), so timing checks allow this much.
inline constexpr std::int64_t kSlack = 10 * kUs;

// [SECTION] The script and the logs

struct BrokerEvent {
  std::int64_t time_ns;  // Kernel time.
  std::string broker;
  NodeId from;
  pulsar::PulsarMessage message;
};

struct StoredEntry {
  std::int64_t entry_id;
  std::string bytes;  // The EntryData.
};

inline constexpr std::uint64_t kLedger = 77;

struct Script {
  std::map<std::string, std::string> owners;  // Topic (a partition's name) -> broker name.
  std::map<std::string, std::uint32_t> partitions;
  std::set<std::string> silent;         // Brokers that answer nothing.
  std::set<std::string> hold_receipts;  // Brokers that store sends but keep the receipts.
  std::map<std::string, int> lookup_errors;  // Broker -> lookups to answer with an error.
  std::map<std::string, int> busy_creates;   // Broker -> creates to answer PRODUCER_BUSY.
  bool dedup = true;

  // Shared storage.
  std::map<std::string, std::vector<StoredEntry>> topics;
  std::map<std::pair<std::string, std::string>, std::int64_t> highest;  // (topic, name).
  std::map<std::pair<std::string, std::string>, std::set<std::int64_t>> acked;  // (topic, sub).

  std::vector<BrokerEvent> received;  // Every message every broker received, in order.

  std::string owner(const std::string& topic) const {
    const auto it = owners.find(topic);
    return it == owners.end() ? "n1" : it->second;
  }
  void store(const std::string& topic, const pulsar::EntryData& entry) {
    auto& entries = topics[topic];
    entries.push_back({static_cast<std::int64_t>(entries.size()), entry.SerializeAsString()});
  }
  // Received messages of one kind, optionally at one broker.
  std::vector<BrokerEvent> of(pulsar::PulsarMessage::BodyCase kind,
                              const std::string& broker = "") const {
    std::vector<BrokerEvent> out;
    for (const BrokerEvent& e : received) {
      if (e.message.body_case() == kind && (broker.empty() || e.broker == broker)) out.push_back(e);
    }
    return out;
  }
};

inline pulsar::EntryData entry_of(const std::string& producer, std::uint64_t first_seq,
                                  const std::vector<std::string>& payloads) {
  pulsar::EntryData entry;
  entry.set_producer_name(producer);
  entry.set_sequence_id(first_seq);
  entry.set_highest_sequence_id(first_seq + payloads.size() - 1);
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    pulsar::SingleMessage* m = entry.add_messages();
    m->set_sequence_id(first_seq + i);
    std::string key = "k";  // Appended, not "k" + ...: GCC 12 warns falsely (-Wrestrict).
    key += std::to_string(first_seq + i);
    m->set_key(key);
    m->set_payload(payloads[i]);
  }
  return entry;
}

inline pulsar::EntryData parse_entry(const std::string& bytes) {
  pulsar::EntryData entry;
  EXPECT_TRUE(entry.ParseFromString(bytes));
  return entry;
}

// [SECTION] The fake broker

class FakeBroker final : public Node {
 public:
  FakeBroker(Runtime& rt, const sim::Kernel& kernel, Script& script)
      : rt_(rt), kernel_(kernel), script_(script), name_(rt.node_name(rt.self())) {}

  void on_start() override {}
  void on_connection_broken(NodeId peer) override {}
  void on_message(NodeId from, std::span<const std::uint8_t> bytes) override {
    pulsar::PulsarMessage m;
    ASSERT_TRUE(pulsar::parse_message(bytes, &m));
    script_.received.push_back({kernel_.now(), name_, from, m});
    if (script_.silent.contains(name_)) return;
    using M = pulsar::PulsarMessage;
    switch (m.body_case()) {
      case M::kPartitions: on_partitions(from, m.partitions()); break;
      case M::kLookup: on_lookup(from, m.lookup()); break;
      case M::kCreateProducer: on_create(from, m.create_producer()); break;
      case M::kSend: on_send(from, m.send()); break;
      case M::kSubscribe: on_subscribe(from, m.subscribe()); break;
      case M::kFlow: on_flow(from, m.flow()); break;
      case M::kAck: on_ack(from, m.ack()); break;
      case M::kRedeliver: on_redeliver(from, m.redeliver()); break;
      case M::kTxnNew:
      case M::kTxnAddPart:
      case M::kTxnEnd: on_txn_request(from, m); break;
      case M::kCloseProducer: producers_.erase({from, m.close_producer().producer_id()}); break;
      case M::kCloseConsumer: consumers_.erase({from, m.close_consumer().consumer_id()}); break;
      case M::kPing: {
        pulsar::PulsarMessage pong;
        pong.mutable_pong();
        reply(from, pong);
        break;
      }
      default: break;
    }
  }

  // Test actions: the broker closes every producer / consumer it has on `topic`, as when
  // the topic moves.
  void close_producers(const std::string& topic) {
    for (auto it = producers_.begin(); it != producers_.end();) {
      if (it->second.topic != topic) {
        ++it;
        continue;
      }
      pulsar::PulsarMessage m;
      m.mutable_close_producer()->set_producer_id(it->first.second);
      reply(it->first.first, m);
      it = producers_.erase(it);
    }
  }
  void close_consumers(const std::string& topic) {
    for (auto it = consumers_.begin(); it != consumers_.end();) {
      if (it->second.topic != topic) {
        ++it;
        continue;
      }
      pulsar::PulsarMessage m;
      m.mutable_close_consumer()->set_consumer_id(it->first.second);
      reply(it->first.first, m);
      it = consumers_.erase(it);
    }
  }
  // A SendError for the first producer on `topic`, as after a storage failure.
  void send_error(const std::string& topic) {
    for (const auto& [key, p] : producers_) {
      if (p.topic != topic) continue;
      pulsar::PulsarMessage m;
      m.mutable_send_error()->set_producer_id(key.second);
      m.mutable_send_error()->set_error(pulsar::PERSISTENCE_ERROR);
      reply(key.first, m);
      return;
    }
  }
  // Sends the receipts held so far (hold_receipts).
  void release_receipts() {
    for (const auto& [to, m] : held_) reply(to, m);
    held_.clear();
  }
  std::size_t held() const { return held_.size(); }

 private:
  struct ProducerReg {
    std::string topic;
    std::string name;
  };
  struct ConsumerReg {
    std::string topic;
    std::string subscription;
    std::uint32_t permits = 0;
    std::size_t next = 0;  // The next entry index to read.
    std::deque<std::size_t> redeliver;
    std::map<std::size_t, std::uint32_t> redeliveries;
  };
  using Key = std::pair<NodeId, std::uint64_t>;  // (client node, its id).

  void reply(NodeId to, const pulsar::PulsarMessage& m) { pulsar::send_message(rt_, to, m, buffer_); }
  bool owns(const std::string& topic) const { return script_.owner(topic) == name_; }
  void error(NodeId to, std::uint64_t request_id, pulsar::ServerError e) {
    pulsar::PulsarMessage m;
    m.mutable_error()->set_request_id(request_id);
    m.mutable_error()->set_error(e);
    reply(to, m);
  }

  void on_partitions(NodeId from, const pulsar::PartitionsRequest& r) {
    pulsar::PulsarMessage m;
    m.mutable_partitions_response()->set_request_id(r.request_id());
    const auto it = script_.partitions.find(r.topic());
    m.mutable_partitions_response()->set_partitions(it == script_.partitions.end() ? 0 : it->second);
    reply(from, m);
  }
  void on_lookup(NodeId from, const pulsar::Lookup& r) {
    pulsar::PulsarMessage m;
    pulsar::LookupResponse* out = m.mutable_lookup_response();
    out->set_request_id(r.request_id());
    if (int& errors = script_.lookup_errors[name_]; errors > 0) {
      --errors;
      out->set_error(pulsar::SERVICE_NOT_READY);
    } else {
      out->set_broker(script_.owner(r.topic()));
      out->set_redirect(!owns(r.topic()));
    }
    reply(from, m);
  }
  void on_create(NodeId from, const pulsar::CreateProducer& r) {
    if (!owns(r.topic())) return error(from, r.request_id(), pulsar::TOPIC_NOT_OWNED);
    if (int& busy = script_.busy_creates[name_]; busy > 0) {
      --busy;
      return error(from, r.request_id(), pulsar::PRODUCER_BUSY);
    }
    producers_[{from, r.producer_id()}] = {r.topic(), r.producer_name()};
    pulsar::PulsarMessage m;
    m.mutable_producer_success()->set_request_id(r.request_id());
    m.mutable_producer_success()->set_producer_name(r.producer_name());
    const auto it = script_.highest.find({r.topic(), r.producer_name()});
    m.mutable_producer_success()->set_last_sequence_id(it == script_.highest.end() ? -1 : it->second);
    reply(from, m);
  }
  void on_send(NodeId from, const pulsar::Send& s) {
    const auto p = producers_.find({from, s.producer_id()});
    if (p == producers_.end()) return;
    const pulsar::EntryData entry = parse_entry(s.entry());
    EXPECT_EQ(entry.producer_name(), p->second.name);
    EXPECT_EQ(entry.sequence_id(), s.sequence_id());
    EXPECT_EQ(entry.highest_sequence_id(), s.highest_sequence_id());
    EXPECT_EQ(static_cast<std::uint32_t>(entry.messages_size()), s.num_messages());
    pulsar::PulsarMessage m;
    pulsar::SendReceipt* receipt = m.mutable_send_receipt();
    receipt->set_producer_id(s.producer_id());
    receipt->set_sequence_id(s.sequence_id());
    receipt->set_highest_sequence_id(s.highest_sequence_id());
    receipt->set_broker(name_);
    auto [highest, fresh] = script_.highest.try_emplace({p->second.topic, p->second.name}, -1);
    if (script_.dedup && static_cast<std::int64_t>(s.highest_sequence_id()) <= highest->second) {
      receipt->set_duplicate(true);
    } else {
      highest->second = static_cast<std::int64_t>(s.highest_sequence_id());
      script_.store(p->second.topic, entry);
      receipt->mutable_message_id()->set_ledger_id(kLedger);
      receipt->mutable_message_id()->set_entry_id(script_.topics[p->second.topic].back().entry_id);
      receipt->mutable_message_id()->set_batch_index(-1);
      dispatch_all();
    }
    if (script_.hold_receipts.contains(name_)) {
      held_.emplace_back(from, m);
    } else {
      reply(from, m);
    }
  }
  void on_subscribe(NodeId from, const pulsar::Subscribe& r) {
    if (!owns(r.topic())) return error(from, r.request_id(), pulsar::TOPIC_NOT_OWNED);
    ConsumerReg& c = consumers_[{from, r.consumer_id()}];
    c = ConsumerReg{};
    c.topic = r.topic();
    c.subscription = r.subscription();
    pulsar::PulsarMessage m;
    m.mutable_subscribe_success()->set_request_id(r.request_id());
    reply(from, m);
  }
  void on_flow(NodeId from, const pulsar::Flow& f) {
    const auto it = consumers_.find({from, f.consumer_id()});
    if (it == consumers_.end()) return;
    it->second.permits += f.permits();
    dispatch(it->first, it->second);
  }
  // The fake coordinator takes every request; a transactional ack is answered and, as the
  // fake keeps no transactions, counts at once.
  void on_txn_request(NodeId from, const pulsar::PulsarMessage& request) {
    pulsar::PulsarMessage m;
    pulsar::TxnResponse* r = m.mutable_txn_response();
    r->set_request_id(pulsar::coordinator_request_id(request));
    if (request.has_txn_new()) r->mutable_txn()->set_least(++txns_);
    reply(from, m);
  }
  void on_ack(NodeId from, const pulsar::Ack& a) {
    const auto it = consumers_.find({from, a.consumer_id()});
    if (it == consumers_.end()) return;
    if (a.has_txn()) {
      pulsar::PulsarMessage m;
      m.mutable_ack_response()->set_consumer_id(a.consumer_id());
      m.mutable_ack_response()->set_request_id(a.request_id());
      reply(from, m);
    }
    auto& acked = script_.acked[{it->second.topic, it->second.subscription}];
    for (const pulsar::MessageId& id : a.message_ids()) {
      if (a.type() == pulsar::INDIVIDUAL) {
        acked.insert(id.entry_id());
      } else {
        for (std::int64_t e = 0; e <= id.entry_id(); ++e) acked.insert(e);
      }
    }
  }
  void on_redeliver(NodeId from, const pulsar::Redeliver& r) {
    const auto it = consumers_.find({from, r.consumer_id()});
    if (it == consumers_.end()) return;
    for (const pulsar::MessageId& id : r.message_ids()) {
      const auto index = static_cast<std::size_t>(id.entry_id());
      it->second.redeliver.push_back(index);
      ++it->second.redeliveries[index];
    }
    dispatch(it->first, it->second);
  }
  void dispatch_all() {
    for (auto& [key, c] : consumers_) dispatch(key, c);
  }
  void dispatch(const Key& key, ConsumerReg& c) {
    const auto& entries = script_.topics[c.topic];
    const auto& acked = script_.acked[{c.topic, c.subscription}];
    while (c.permits > 0) {
      std::size_t index = 0;
      if (!c.redeliver.empty()) {
        index = c.redeliver.front();
        c.redeliver.pop_front();
      } else {
        while (c.next < entries.size() && acked.contains(static_cast<std::int64_t>(c.next))) ++c.next;
        if (c.next >= entries.size()) return;
        index = c.next++;
      }
      pulsar::PulsarMessage m;
      pulsar::Delivery* d = m.mutable_delivery();
      d->set_consumer_id(key.second);
      d->mutable_message_id()->set_ledger_id(kLedger);
      d->mutable_message_id()->set_entry_id(static_cast<std::int64_t>(index));
      d->mutable_message_id()->set_batch_index(-1);
      d->set_redelivery_count(c.redeliveries[index]);
      d->set_entry(entries[index].bytes);
      reply(key.first, m);
      --c.permits;
    }
  }

  Runtime& rt_;
  const sim::Kernel& kernel_;
  Script& script_;
  std::string name_;
  std::map<Key, ProducerReg> producers_;
  std::map<Key, ConsumerReg> consumers_;
  std::vector<std::pair<NodeId, pulsar::PulsarMessage>> held_;
  std::uint64_t txns_ = 0;
  std::vector<std::uint8_t> buffer_;
};

// [SECTION] The client node

struct ResultEvent {
  std::int64_t time_ns;
  SendResult result;
};

struct ReceivedMessage {
  std::int64_t time_ns;
  pulsar::MessageId id;
  std::string topic;
  std::string producer;
  std::uint64_t sequence_id;
  std::string key;
  std::string payload;
  std::uint32_t redelivery_count;
};

class ClientNode final : public Node {
 public:
  ClientNode(Runtime& rt, ClientConfig config) : client_(rt, std::move(config)) {}
  void on_start() override {}
  void on_message(NodeId from, std::span<const std::uint8_t> bytes) override {
    pulsar::PulsarMessage m;
    ASSERT_TRUE(pulsar::parse_message(bytes, &m));
    EXPECT_TRUE(client_.handle(from, m));
  }
  void on_connection_broken(NodeId peer) override { client_.on_connection_broken(peer); }
  Client& client() { return client_; }

 private:
  Client client_;
};

// [SECTION] The world

class ClientWorld {
 public:
  explicit ClientWorld(int brokers = 3, std::uint64_t seed = 1, sim::Jitter jitter = {}) {
    sim::Topology topology =
        sim::test_util::make_topology(std::vector<std::uint32_t>(1 + brokers, 0), {0});
    topology.latency.jitter = jitter;
    world_ = std::make_unique<sim::World>(std::move(topology), seed);
    for (int b = 1; b <= brokers; ++b) {
      world_->set_factory(b, [this](Runtime& rt) {
        return std::make_unique<FakeBroker>(rt, world_->kernel(), script_);
      });
    }
    config_.brokers = {"n1"};
    config_.operation_timeout_ns = 2 * kSec;
    config_.keepalive_ns = 5 * kSec;
  }

  ClientConfig& config() { return config_; }
  Script& script() { return script_; }

  void start() {
    world_->set_factory(0, [this](Runtime& rt) { return std::make_unique<ClientNode>(rt, config_); });
    world_->start();
    run_for(kMs);
  }

  sim::World& world() { return *world_; }
  std::int64_t now() const { return world_->kernel().now(); }
  void run_for(std::int64_t ns) { world_->run_until(now() + ns); }
  bool run_until(const std::function<bool()>& done, std::int64_t limit_ns) {
    const std::int64_t end = now() + limit_ns;
    while (!done() && now() < end) run_for(100 * kUs);
    return done();
  }

  Client& client() { return dynamic_cast<ClientNode*>(world_->actor(0))->client(); }
  FakeBroker& broker(const std::string& name) {
    return *dynamic_cast<FakeBroker*>(world_->actor(world_->node_id(name)));
  }
  NodeId id(const std::string& name) const { return world_->node_id(name); }

  // A producer whose results land in results().
  Producer& producer(ProducerConfig config) {
    config.on_result = [this](const SendResult& r) { results_.push_back({now(), r}); };
    return client().create_producer(std::move(config));
  }
  const std::vector<ResultEvent>& results() const { return results_; }

  // A consumer whose messages land in received(); with auto_receive every message is
  // followed by the next receive().
  Consumer& consumer(ConsumerConfig config, bool auto_receive = true) {
    config.on_message = [this, auto_receive](const Message& m) {
      received_.push_back({now(), m.id, std::string(m.topic), std::string(m.producer),
                           m.sequence_id, std::string(m.key), std::string(m.payload),
                           m.redelivery_count});
      if (auto_receive) consumer_->receive();
    };
    consumer_ = &client().subscribe(std::move(config));
    return *consumer_;
  }
  const std::vector<ReceivedMessage>& received() const { return received_; }

 private:
  std::unique_ptr<sim::World> world_;
  Script script_;
  ClientConfig config_;
  std::vector<ResultEvent> results_;
  std::vector<ReceivedMessage> received_;
  Consumer* consumer_ = nullptr;
};

inline ProducerConfig producer_config(const std::string& topic, const std::string& name = "p") {
  ProducerConfig config;
  config.topic = topic;
  config.name = name;
  return config;
}

inline ConsumerConfig consumer_config(const std::string& topic) {
  ConsumerConfig config;
  config.topic = topic;
  config.subscription = "s";
  return config;
}

// The Sends a broker received, with their entries.
struct SentEntry {
  std::int64_t time_ns;
  std::string broker;
  pulsar::Send send;
  pulsar::EntryData entry;
};

inline std::vector<SentEntry> sends(const Script& script, const std::string& broker = "") {
  std::vector<SentEntry> out;
  for (const BrokerEvent& e : script.of(pulsar::PulsarMessage::kSend, broker)) {
    out.push_back({e.time_ns, e.broker, e.message.send(), parse_entry(e.message.send().entry())});
  }
  return out;
}

}  // namespace streamlab::client::test
