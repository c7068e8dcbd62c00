#pragma once

// The broker world of the broker-level tests: a metadata store, three bookies, two
// brokers and a scripted client that speaks the wire protocol directly and logs what it
// receives, with helpers that send raw PulsarMessages. Shared by several test files, so
// nothing here lives in an anonymous namespace.

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "broker/pulsar/broker.h"
#include "broker/pulsar/broker_config.h"
#include "broker/pulsar/wire.h"
#include "broker/storage/bookie.h"
#include "broker/storage/metadata_store.h"
#include "sim/world.h"
#include "tests/sim/test_world.h"

namespace streamlab::pulsar {

using sim::test_util::kMs;
using sim::test_util::kSec;

// Nodes: n0 metadata, n1..n3 bookies, n4 and n5 brokers, n6 the client.
inline constexpr std::uint32_t kMeta = 0;
inline constexpr std::uint32_t kBrokerA = 4;
inline constexpr std::uint32_t kBrokerB = 5;
inline constexpr std::uint32_t kClient = 6;

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
  // The same world with the brokers running transactions (the coordinator and the
  // topics' transaction buffers); config carries any other knobs.
  void build_with_transactions(BrokerConfig config = {}) {
    config.transactions = true;
    build(std::move(config));
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
                 std::uint64_t consumer_id, std::uint64_t request_id, std::uint32_t permits,
                 bool read_uncommitted = false) {
    PulsarMessage m;
    Subscribe* s = m.mutable_subscribe();
    s->set_request_id(request_id);
    s->set_consumer_id(consumer_id);
    s->set_topic(topic);
    s->set_subscription(sub);
    s->set_type(EXCLUSIVE);
    s->set_consumer_name("c");
    s->set_initial_position(EARLIEST);
    s->set_read_uncommitted(read_uncommitted);
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

}  // namespace streamlab::pulsar
