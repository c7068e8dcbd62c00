// The queue checker's metrics: sends as every checker reports ops, end-to-end latency,
// counts, throughput, the backlog, and per-second series of them.

#include <algorithm>

#include "workloads/queue_judge.h"

namespace streamlab::workloads {

namespace {

constexpr std::int64_t kSecondNs = 1'000'000'000;
// A series holds at most this many points; a longer run gets wider buckets.
constexpr std::int64_t kMaxSeriesPoints = 100'000;

double ms(std::int64_t ns) { return static_cast<double>(ns) / 1e6; }

}  // namespace

void QueueJudge::report_metrics() {
  auto& m = result_.metrics;
  report_ops(tally_, "publish", in_.duration_ns, m);
  m["end_to_end_p50"] = ms(end_to_end_.quantile(0.50));
  m["end_to_end_p99"] = ms(end_to_end_.quantile(0.99));
  m["end_to_end_p999"] = ms(end_to_end_.quantile(0.999));
  m["end_to_end_max"] = ms(end_to_end_.max());
  const auto sends_ok = static_cast<double>(tally_.of(OpType::ok));
  m["sends_ok"] = sends_ok;
  m["deliveries"] = static_cast<double>(deliveries_);
  m["acks"] = static_cast<double>(acks_);
  m["redeliveries"] = static_cast<double>(redeliveries_);
  m["delivery_duplicates"] = static_cast<double>(delivery_duplicates_);
  m["log_duplicates"] = static_cast<double>(log_duplicates_);
  m["log_messages"] = static_cast<double>(log_.messages);
  m["log_entries"] = static_cast<double>(log_.entries);
  if (in_.duration_ns > 0) {
    const double seconds = static_cast<double>(in_.duration_ns) / 1e9;
    m["throughput_publish_per_s"] = sends_ok / seconds;
    m["throughput_consume_per_s"] = static_cast<double>(deliveries_) / seconds;
  }

  const std::vector<std::pair<std::int64_t, int>> events = backlog_events();
  std::int64_t backlog = 0;
  std::int64_t backlog_max = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    backlog += events[i].second;
    // Events at one instant count together: an ack logged before its send's ok nets zero.
    if (i + 1 == events.size() || events[i + 1].first != events[i].first) {
      backlog_max = std::max(backlog_max, backlog);
    }
  }
  m["backlog_max"] = static_cast<double>(backlog_max);
  m["backlog_end"] = static_cast<double>(backlog);
  report_series(std::max(in_.duration_ns, last_ns_), events);
}

// The backlog: per subscription on its topic, every message a producer got acknowledged
// counts from that ok until the subscription's first ack of it (never before the ok).
// Returns (time, +1 / -1), sorted by time.
std::vector<std::pair<std::int64_t, int>> QueueJudge::backlog_events() const {
  std::vector<std::pair<std::int64_t, int>> events;
  for (std::uint32_t message = 0; message < state_.size(); ++message) {
    const MessageState& s = state_[message];
    if (s.ok_ns < 0) continue;
    const std::uint32_t topic = topic_of_[messages_.key(message).partition];
    for (auto it = topic_subscriptions_.lower_bound({topic, 0});
         it != topic_subscriptions_.end() && it->first == topic; ++it) {
      events.emplace_back(s.ok_ns, 1);
      const std::vector<DeliveryState>& of = delivered_[it->second];
      if (message < of.size() && of[message].first_ack_ns >= 0) {
        events.emplace_back(std::max(s.ok_ns, of[message].first_ack_ns), -1);
      }
    }
  }
  std::sort(events.begin(), events.end());
  return events;
}

// Points at the end of each bucket [k w, (k + 1) w), w one second (wider for very long
// runs): the rates in messages per second over the bucket, the backlog at its end.
void QueueJudge::report_series(std::int64_t end_ns,
                               const std::vector<std::pair<std::int64_t, int>>& events) {
  auto& publish = result_.series["publish_rate"];
  auto& consume = result_.series["consume_rate"];
  auto& backlog = result_.series["backlog"];
  if (end_ns <= 0) return;
  const std::int64_t seconds = end_ns / kSecondNs + 1;
  const std::int64_t width = (seconds + kMaxSeriesPoints - 1) / kMaxSeriesPoints;  // Seconds.
  const auto rate = [width](const std::vector<std::uint64_t>& per_second, std::int64_t k) {
    std::uint64_t sum = 0;
    for (std::int64_t s = k * width; s < (k + 1) * width; ++s) {
      if (static_cast<std::size_t>(s) < per_second.size()) sum += per_second[s];
    }
    return static_cast<double>(sum) / static_cast<double>(width);
  };
  std::size_t next = 0;
  std::int64_t level = 0;
  for (std::int64_t k = 0; k * width < seconds; ++k) {
    const std::int64_t boundary_ns = (k + 1) * width * kSecondNs;
    while (next < events.size() && events[next].first < boundary_ns) level += events[next++].second;
    publish.emplace_back(boundary_ns, rate(publish_per_second_, k));
    consume.emplace_back(boundary_ns, rate(consume_per_second_, k));
    backlog.emplace_back(boundary_ns, static_cast<double>(level));
  }
}

}  // namespace streamlab::workloads
