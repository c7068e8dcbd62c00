#include "workloads/cluster/client_tally.h"

#include <algorithm>

#include "base/assert.h"

namespace streamlab::cluster {

using workloads::OpType;
using workloads::QueueOp;
using workloads::QueueOpKind;

void ClientTally::add(const QueueOp& op) {
  switch (op.kind) {
    case QueueOpKind::send:
      add_send(op);
      return;
    case QueueOpKind::poll:
      ++deliveries_;
      delivered_.emplace(op.producer, op.seq);
      if (first_delivery_ns_ < 0) first_delivery_ns_ = op.time_ns;
      last_delivery_ns_ = op.time_ns;
      return;
    case QueueOpKind::ack:
      ++acks_;
      return;
    case QueueOpKind::commit:
    case QueueOpKind::abort:
      return;  // Real-mode clients do not run transactions.
  }
}

void ClientTally::add_send(const QueueOp& op) {
  const MessageKey key{op.producer, op.seq};
  if (op.type == OpType::invoke) {
    ++sends_invoked_;
    if (first_send_ns_ < 0) first_send_ns_ = op.time_ns;
    const bool fresh = in_flight_.emplace(key, op.time_ns).second;
    SL_ASSERT_MSG(fresh, "the queue workload numbered two messages alike");
    return;
  }
  // A second completion of one send would be the client library's fault, for the checker
  // to judge; here it counts, without a latency.
  const auto it = in_flight_.find(key);
  const std::int64_t invoked_ns = it == in_flight_.end() ? -1 : it->second;
  if (it != in_flight_.end()) in_flight_.erase(it);
  last_send_completion_ns_ = std::max(last_send_completion_ns_, op.time_ns);
  switch (op.type) {
    case OpType::ok:
      ++sends_ok_;
      if (invoked_ns >= 0) {
        publish_latency_.record(std::max<std::int64_t>(0, op.time_ns - invoked_ns));
      }
      last_ok_broker_ = op.broker;
      return;
    case OpType::fail:
      ++sends_failed_;
      return;
    case OpType::info:
      ++sends_unknown_;
      return;
    case OpType::invoke:
      break;
  }
  SL_ASSERT_MSG(false, "unreachable");
}

}  // namespace streamlab::cluster
