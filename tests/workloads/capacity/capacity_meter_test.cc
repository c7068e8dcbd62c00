#include "workloads/capacity/capacity_meter.h"

#include <gtest/gtest.h>

namespace streamlab::workloads {
namespace {

QueueOp op(std::int64_t t, QueueOpKind kind, OpType type, std::uint64_t seq) {
  QueueOp o;
  o.time_ns = t;
  o.kind = kind;
  o.type = type;
  o.producer = "p";
  o.seq = seq;
  return o;
}

TEST(CapacityMeter, CountsTheWindowAndMeasuresLatenciesFromEachSend) {
  CapacityMeter meter(1'000, 3'000, 1);
  meter.record(op(500, QueueOpKind::send, OpType::invoke, 0));    // Before the window.
  meter.record(op(900, QueueOpKind::send, OpType::ok, 0));
  meter.record(op(1'100, QueueOpKind::send, OpType::invoke, 1));
  meter.record(op(1'200, QueueOpKind::poll, OpType::ok, 0));      // e2e 700, counted.
  meter.record(op(1'400, QueueOpKind::send, OpType::ok, 1));      // publish 300.
  meter.record(op(1'500, QueueOpKind::send, OpType::invoke, 2));
  meter.record(op(1'900, QueueOpKind::send, OpType::info, 2));
  meter.record(op(2'000, QueueOpKind::poll, OpType::ok, 1));      // e2e 900.
  meter.record(op(3'100, QueueOpKind::send, OpType::invoke, 3));  // After it.
  const LoadMeasure& m = meter.result();
  EXPECT_EQ(m.sends, 2u);
  EXPECT_EQ(m.published, 1u);
  EXPECT_EQ(m.failed, 1u);
  EXPECT_EQ(m.consumed, 2u);
  EXPECT_EQ(m.publish_latency.count(), 1u);
  EXPECT_EQ(m.publish_latency.max(), 300);
  EXPECT_EQ(m.end_to_end_latency.max(), 900);
  EXPECT_EQ(m.backlog_start, 1);  // Message 0 published, not yet delivered.
  EXPECT_EQ(m.backlog_end, 0);
  EXPECT_DOUBLE_EQ(m.per_s(m.consumed), 1e6);
}

TEST(CapacityMeter, BacklogCountsEverySubscription) {
  CapacityMeter meter(0, 1'000, 2);
  meter.record(op(10, QueueOpKind::send, OpType::invoke, 0));
  meter.record(op(20, QueueOpKind::send, OpType::ok, 0));
  meter.record(op(30, QueueOpKind::poll, OpType::ok, 0));
  EXPECT_EQ(meter.result().backlog_end, 1);
}

}  // namespace
}  // namespace streamlab::workloads
