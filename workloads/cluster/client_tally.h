#pragma once

// What a client process of a local cluster has done so far, tallied from its history ops
// as they are written out: `streamlab produce` and `streamlab consume` print it as
// progress, stop on it and summarise it, without keeping the history in memory.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "workloads/checkers/latency_histogram.h"
#include "workloads/history/queue_history.h"

namespace streamlab::cluster {

class ClientTally {
 public:
  // Ops must come in the order they were recorded.
  void add(const workloads::QueueOp& op);

  std::uint64_t sends_invoked() const { return sends_invoked_; }
  std::uint64_t sends_ok() const { return sends_ok_; }
  std::uint64_t sends_failed() const { return sends_failed_; }
  std::uint64_t sends_unknown() const { return sends_unknown_; }  // info: maybe stored.
  std::uint64_t sends_completed() const { return sends_ok_ + sends_failed_ + sends_unknown_; }
  // Invoke to ok, nanoseconds.
  const workloads::LatencyHistogram& publish_latency() const { return publish_latency_; }
  std::int64_t first_send_ns() const { return first_send_ns_; }  // -1: none yet.
  std::int64_t last_send_completion_ns() const { return last_send_completion_ns_; }
  const std::string& last_ok_broker() const { return last_ok_broker_; }

  std::uint64_t deliveries() const { return deliveries_; }
  std::uint64_t distinct_delivered() const { return delivered_.size(); }
  // Deliveries of a message delivered before (the broker's redelivery count says less:
  // a new owner of the topic starts it from 0).
  std::uint64_t repeated_deliveries() const { return deliveries_ - delivered_.size(); }
  std::uint64_t acks() const { return acks_; }
  std::int64_t first_delivery_ns() const { return first_delivery_ns_; }  // -1: none yet.
  std::int64_t last_delivery_ns() const { return last_delivery_ns_; }

 private:
  using MessageKey = std::pair<std::string, std::uint64_t>;  // (producer, number).

  void add_send(const workloads::QueueOp& op);

  std::uint64_t sends_invoked_ = 0;
  std::uint64_t sends_ok_ = 0;
  std::uint64_t sends_failed_ = 0;
  std::uint64_t sends_unknown_ = 0;
  workloads::LatencyHistogram publish_latency_;
  std::int64_t first_send_ns_ = -1;
  std::int64_t last_send_completion_ns_ = -1;
  std::string last_ok_broker_;
  // Sends invoked and not yet completed: as many as the producers' pending queues hold.
  std::map<MessageKey, std::int64_t> in_flight_;

  std::uint64_t deliveries_ = 0;
  std::uint64_t acks_ = 0;
  std::int64_t first_delivery_ns_ = -1;
  std::int64_t last_delivery_ns_ = -1;
  // Every message delivered: a consume run's count is of distinct messages, and a run
  // without --count grows it by one entry per message.
  std::set<MessageKey> delivered_;
};

}  // namespace streamlab::cluster
