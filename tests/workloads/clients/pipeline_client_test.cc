// The consume-transform-produce pipeline (workloads/txn_client.h) across a consumer
// reconnect: the broker redelivers every unacknowledged entry to the new subscription,
// including the batch whose first message the open transaction has already taken. That
// message must not be transformed a second time in the same transaction, or the commit
// makes one input into two outputs. The broker is the client tests' scripted fake
// (tests/broker/client/client_world.h), whose coordinator takes every transaction request.

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "tests/broker/client/client_world.h"
#include "workloads/history/pipeline_payload.h"
#include "workloads/clients/queue_client.h"

namespace streamlab::workloads {
namespace {

using client::test::FakeBroker;
using client::test::kMs;
using client::test::kSec;
using client::test::Script;

constexpr char kInput[] = "in";
constexpr char kOutput[] = "out";
constexpr char kUpstream[] = "up";  // The producer of the pre-stored inputs.
constexpr char kOutputName[] = "pipe-out";
// Long enough that the consumer is closed, and has resubscribed after the client's
// 100 ms reconnect backoff, while the first input is still being transformed: its ack has
// not been made yet, so the fake broker still counts the whole batch as unacked.
constexpr std::int64_t kProcessingNs = 500 * kMs;
// Longer than both inputs' processing: the transaction ends by max_wait, after the batch.
constexpr std::int64_t kMaxWaitNs = 2 * kSec;

// A queue workload message's payload: its number, u64 little-endian.
std::string numbered(std::uint64_t number) {
  std::string out(kQueuePayloadHeader, '\0');
  for (std::size_t b = 0; b < kQueuePayloadHeader; ++b) {
    out[b] = static_cast<char>(number >> (8 * b));
  }
  return out;
}

PipelineConfig pipeline() {
  PipelineConfig config;
  // No owner: the fake coordinator does not hand out epochs.
  config.input.topic = kInput;
  config.input.subscription = "pipeline";
  config.input.name = "pipe-in";
  config.output.topic = kOutput;
  config.output.name = kOutputName;
  config.messages_per_txn = 10;
  config.max_wait_ns = kMaxWaitNs;
  config.processing_ns = kProcessingNs;
  return config;
}

// n0 runs the queue client with one pipeline; n1 is the fake broker, whose storage holds
// the input before the run starts.
class PipelineWorld {
 public:
  PipelineWorld() {
    world_ = std::make_unique<sim::World>(sim::test_util::make_topology({0, 0}, {0}), 1);
    // One entry of two messages: redelivery is per entry, so the batch comes back whole,
    // the message already taken first.
    script_.store(kInput, client::test::entry_of(kUpstream, 0, {numbered(0), numbered(1)}));
    world_->set_factory(1, [this](Runtime& rt) {
      return std::make_unique<FakeBroker>(rt, world_->kernel(), script_);
    });
    QueueClientConfig config;
    config.client.brokers = {"n1"};
    config.pipelines.push_back(pipeline());
    world_->set_factory(0, [this, config](Runtime& rt) {
      return std::make_unique<QueueClient>(rt, config, history_);
    });
    world_->start();
  }

  void run_for(std::int64_t ns) { world_->run_until(world_->kernel().now() + ns); }
  FakeBroker& broker() { return *dynamic_cast<FakeBroker*>(world_->actor(1)); }
  const Script& script() const { return script_; }
  const QueueHistory& history() const { return history_; }

  // How often the pipeline was handed each input, by its number.
  std::map<std::uint64_t, int> polls() const {
    std::map<std::uint64_t, int> out;
    for (const QueueOp& op : history_.ops()) {
      if (op.kind == QueueOpKind::poll && op.producer == kUpstream) ++out[op.seq];
    }
    return out;
  }

  // The output messages the broker stored, counted by the input each names.
  std::map<std::uint64_t, int> outputs_per_input() const {
    std::map<std::uint64_t, int> out;
    const auto it = script_.topics.find(kOutput);
    if (it == script_.topics.end()) return out;
    for (const client::test::StoredEntry& stored : it->second) {
      const pulsar::EntryData entry = client::test::parse_entry(stored.bytes);
      for (const pulsar::SingleMessage& m : entry.messages()) {
        const std::optional<PipelineSource> source = decode_pipeline_source(m.payload());
        EXPECT_TRUE(source.has_value());
        if (!source) continue;
        EXPECT_EQ(source->producer, kUpstream);
        ++out[source->seq];
      }
    }
    return out;
  }

 private:
  std::unique_ptr<sim::World> world_;
  Script script_;
  QueueHistory history_{[this] { return world_->kernel().now(); }};
};

TEST(PipelineReconnect, AnInputRedeliveredIntoItsOpenTransactionIsTransformedOnce) {
  PipelineWorld w;
  // By now the transaction is open and the first input is being transformed.
  w.run_for(20 * kMs);
  ASSERT_EQ(w.polls(), (std::map<std::uint64_t, int>{{0, 1}}));
  // As when the topic moves: the consumer resubscribes and the batch is dispatched again.
  w.broker().close_consumers(kInput);
  w.run_for(kMaxWaitNs + kSec);

  // The precondition, so the test cannot pass vacuously: the taken input really came a
  // second time, inside the same transaction.
  ASSERT_EQ(w.polls(), (std::map<std::uint64_t, int>{{0, 2}, {1, 1}}));

  // Every output send went into one transaction, which committed.
  std::set<std::string> send_txns;
  std::map<std::string, int> output_sends;  // Invoked, per transaction.
  std::set<std::string> committed;
  for (const QueueOp& op : w.history().ops()) {
    if (op.kind == QueueOpKind::send && op.producer == kOutputName && op.type == OpType::invoke) {
      ++output_sends[op.txn];
    }
    if (op.kind == QueueOpKind::commit && op.type == OpType::ok) committed.insert(op.txn);
  }
  ASSERT_EQ(output_sends.size(), 1u);
  const auto& [txn, sends] = *output_sends.begin();
  EXPECT_TRUE(committed.contains(txn)) << "transaction " << txn;
  // One output per input: the redelivered copy was dropped, not transformed again.
  EXPECT_EQ(sends, 2);
  EXPECT_EQ(w.outputs_per_input(), (std::map<std::uint64_t, int>{{0, 1}, {1, 1}}));
}

}  // namespace
}  // namespace streamlab::workloads
