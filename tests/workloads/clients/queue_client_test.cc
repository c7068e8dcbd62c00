// The queue workload's producer pacing and backpressure: with block_if_queue_full it
// waits while the client library's pending queue is full instead of recording failed
// sends; with catch_up_late_ticks a late tick does not lower the rate. The broker is the
// client tests' scripted fake (tests/broker/client/client_world.h), told to hold its receipts
// when the queue must fill up.

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "tests/broker/client/client_world.h"
#include "workloads/clients/queue_client.h"

namespace streamlab::workloads {
namespace {

using client::test::FakeBroker;
using client::test::kMs;
using client::test::Script;

constexpr std::uint32_t kMaxPending = 10;
constexpr std::uint64_t kMessages = 50;

// One producer of 64-byte messages at 1,000 messages/s.
QueueProducerConfig producer_at_1000_per_s() {
  QueueProducerConfig producer;
  producer.topic = "t";
  producer.rate_per_s = 1000;
  producer.size_min = producer.size_max = 64;
  producer.producer.name = "p";
  return producer;
}

QueueProducerConfig bounded_producer(bool block) {
  QueueProducerConfig producer = producer_at_1000_per_s();
  producer.max_messages = kMessages;
  producer.block_if_queue_full = block;
  producer.producer.max_pending_messages = kMaxPending;
  return producer;
}

// n0 runs the queue client with `producer`; n1 is the fake broker.
class QueueClientWorld {
 public:
  QueueClientWorld(const QueueProducerConfig& producer, bool hold_receipts) {
    world_ = std::make_unique<sim::World>(sim::test_util::make_topology({0, 0}, {0}), 1);
    if (hold_receipts) script_.hold_receipts.insert("n1");
    world_->set_factory(1, [this](Runtime& rt) {
      return std::make_unique<FakeBroker>(rt, world_->kernel(), script_);
    });
    QueueClientConfig config;
    config.client.brokers = {"n1"};
    config.producers.push_back(producer);
    world_->set_factory(0, [this, config](Runtime& rt) {
      return std::make_unique<QueueClient>(rt, config, history_);
    });
    world_->start();
  }

  void run_for(std::int64_t ns) { world_->run_until(world_->kernel().now() + ns); }
  sim::World& world() { return *world_; }
  FakeBroker& broker() { return *dynamic_cast<FakeBroker*>(world_->actor(1)); }
  Script& script() { return script_; }

  std::vector<std::uint64_t> numbers(OpType type) const {
    std::vector<std::uint64_t> out;
    for (const QueueOp& op : history_.ops()) {
      if (op.kind == QueueOpKind::send && op.type == type) out.push_back(op.seq);
    }
    return out;
  }

 private:
  std::unique_ptr<sim::World> world_;
  Script script_;
  QueueHistory history_{[this] { return world_->kernel().now(); }};
};

std::vector<std::uint64_t> first_numbers(std::uint64_t n) {
  std::vector<std::uint64_t> out;
  for (std::uint64_t i = 0; i < n; ++i) out.push_back(i);
  return out;
}

TEST(QueueClientBackpressure, BlocksWhileThePendingQueueIsFullThenSendsEveryMessage) {
  QueueClientWorld w(bounded_producer(/*block=*/true), /*hold_receipts=*/true);
  w.run_for(200 * kMs);
  // 200 ticks came, but only the queue's worth of messages went out, and none failed.
  EXPECT_EQ(w.numbers(OpType::invoke), first_numbers(kMaxPending));
  EXPECT_TRUE(w.numbers(OpType::fail).empty());
  EXPECT_TRUE(w.numbers(OpType::ok).empty());

  w.script().hold_receipts.clear();
  w.broker().release_receipts();
  w.run_for(500 * kMs);
  // The run still stops after max_messages, numbered without gaps.
  EXPECT_EQ(w.numbers(OpType::invoke), first_numbers(kMessages));
  EXPECT_EQ(w.numbers(OpType::ok), first_numbers(kMessages));
  EXPECT_TRUE(w.numbers(OpType::fail).empty());
}

TEST(QueueClientBackpressure, WithoutBlockingAFullQueueFailsSends) {
  QueueClientWorld w(bounded_producer(/*block=*/false), /*hold_receipts=*/true);
  w.run_for(200 * kMs);
  // Every tick used a number up to max_messages; all but the queue's worth failed.
  EXPECT_EQ(w.numbers(OpType::invoke), first_numbers(kMessages));
  EXPECT_EQ(w.numbers(OpType::fail).size(), kMessages - kMaxPending);
}

// The client is paused 50 ms (its timers fire late, as a real process's do when the OS
// wakes it late): without catching up, those 50 ticks are lost for good.
TEST(QueueClientPacing, CatchingUpKeepsTheRateThroughLateTicks) {
  for (const bool catch_up : {false, true}) {
    QueueProducerConfig producer = producer_at_1000_per_s();
    producer.catch_up_late_ticks = catch_up;
    QueueClientWorld w(producer, /*hold_receipts=*/false);
    w.run_for(100 * kMs);
    w.world().pause(0, 50 * kMs);
    w.run_for(200 * kMs);
    const std::size_t sent = w.numbers(OpType::invoke).size();
    if (catch_up) {
      EXPECT_NEAR(static_cast<double>(sent), 300, 3);
    } else {
      EXPECT_NEAR(static_cast<double>(sent), 250, 3);
    }
  }
}

}  // namespace
}  // namespace streamlab::workloads
