#include "workloads/capacity/capacity_meter.h"

#include "base/assert.h"

namespace streamlab::workloads {

CapacityMeter::CapacityMeter(std::int64_t window_start_ns, std::int64_t window_end_ns,
                             std::uint32_t subscriptions)
    : start_ns_(window_start_ns), end_ns_(window_end_ns), subscriptions_(subscriptions) {
  SL_ASSERT_LT(window_start_ns, window_end_ns);
  measure_.window_ns = window_end_ns - window_start_ns;
}

CapacityMeter::ProducerTimes& CapacityMeter::producer(const std::string& name) {
  auto it = producers_.find(name);
  if (it == producers_.end()) it = producers_.emplace(name, ProducerTimes{}).first;
  return it->second;
}

void CapacityMeter::record(const QueueOp& op) {
  // The backlog at the window's start is taken at the first op inside it.
  if (!started_ && op.time_ns >= start_ns_) {
    started_ = true;
    measure_.backlog_start = published_total_ * subscriptions_ - consumed_total_;
  }
  if (op.time_ns >= end_ns_) return;
  const bool inside = in_window(op.time_ns);
  switch (op.kind) {
    case QueueOpKind::send: {
      ProducerTimes& p = producer(op.producer);
      if (op.type == OpType::invoke) {
        SL_ASSERT_MSG(op.seq == p.sent_ns.size(), "capacity: a producer's sends out of order");
        p.sent_ns.push_back(op.time_ns);
        if (inside) ++measure_.sends;
        break;
      }
      SL_ASSERT_LT(op.seq, p.sent_ns.size());
      const std::int64_t sent = p.sent_ns[op.seq];
      if (op.type != OpType::ok) {
        if (inside) ++measure_.failed;
        break;
      }
      ++published_total_;
      if (inside) ++measure_.published;
      if (in_window(sent)) {
        measure_.publish_latency.record(op.time_ns - sent);
        measure_.publish_latency_sum_ns += static_cast<double>(op.time_ns - sent);
      }
      break;
    }
    case QueueOpKind::poll: {
      ++consumed_total_;
      if (!inside) break;
      ++measure_.consumed;
      const auto it = producers_.find(op.producer);
      if (it != producers_.end() && op.seq < it->second.sent_ns.size()) {
        const std::int64_t latency = op.time_ns - it->second.sent_ns[op.seq];
        measure_.end_to_end_latency.record(latency);
        measure_.end_to_end_latency_sum_ns += static_cast<double>(latency);
      }
      break;
    }
    case QueueOpKind::ack:
    case QueueOpKind::commit:
    case QueueOpKind::abort:
      break;
  }
  measure_.backlog_end = published_total_ * subscriptions_ - consumed_total_;
}

}  // namespace streamlab::workloads
