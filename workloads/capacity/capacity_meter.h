#pragma once

// What a load test measures, from the queue clients' ops as they happen (no history is
// kept): over a window of simulated time, the messages published (acknowledged to their
// producer), failed and consumed, the publish latency (send to acknowledgement) of the
// sends made in the window, the end-to-end latency (send to delivery) of the deliveries
// in it, and the backlog (published but not yet delivered, summed over subscriptions) at
// its start and end. Every message is measured; nothing is sampled.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "workloads/checkers/latency_histogram.h"
#include "workloads/history/queue_history.h"

namespace streamlab::workloads {

struct LoadMeasure {
  std::int64_t window_ns = 0;
  std::uint64_t sends = 0;      // Invoked in the window.
  std::uint64_t published = 0;  // Acknowledged in the window.
  std::uint64_t failed = 0;     // Failed or unknown in the window.
  std::uint64_t consumed = 0;   // Delivered in the window.
  std::int64_t backlog_start = 0;
  std::int64_t backlog_end = 0;
  LatencyHistogram publish_latency;
  LatencyHistogram end_to_end_latency;
  double publish_latency_sum_ns = 0;  // For the averages OMB reports.
  double end_to_end_latency_sum_ns = 0;

  double per_s(std::uint64_t count) const {
    return window_ns <= 0 ? 0 : static_cast<double>(count) * 1e9 / static_cast<double>(window_ns);
  }
};

class CapacityMeter {
 public:
  // `subscriptions`: how many subscriptions see each published message.
  CapacityMeter(std::int64_t window_start_ns, std::int64_t window_end_ns,
                std::uint32_t subscriptions);

  void record(const QueueOp& op);
  // Call once the run has reached the window's end.
  const LoadMeasure& result() const { return measure_; }

 private:
  struct ProducerTimes {
    std::vector<std::int64_t> sent_ns;  // By sequence number.
  };

  bool in_window(std::int64_t t) const { return t >= start_ns_ && t < end_ns_; }
  ProducerTimes& producer(const std::string& name);

  std::int64_t start_ns_;
  std::int64_t end_ns_;
  std::uint32_t subscriptions_;
  std::map<std::string, ProducerTimes, std::less<>> producers_;
  std::int64_t published_total_ = 0;
  std::int64_t consumed_total_ = 0;
  bool started_ = false;
  LoadMeasure measure_;
};

}  // namespace streamlab::workloads
