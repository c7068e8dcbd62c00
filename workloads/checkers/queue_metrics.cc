// The queue checker's metrics: sends as every checker reports ops, end-to-end latency,
// counts, throughput, the backlog, and series of them over time (workloads/time_series.h).

#include <algorithm>

#include "workloads/checkers/queue_judge.h"

namespace streamlab::workloads {

namespace {

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
  m["entries_below_write_quorum"] = static_cast<double>(log_.entries_below_write_quorum);
  m["entries_below_ack_quorum"] = static_cast<double>(log_.entries_below_ack_quorum);
  // Transactions: only a run that has them reports them.
  if (txns_.size() > 0 || log_.control_entries > 0) {
    m["txn_commits_ok"] = static_cast<double>(commits_ok_);
    m["txn_aborts_ok"] = static_cast<double>(aborts_ok_);
    m["aborted_reads"] = static_cast<double>(aborted_reads_);
    m["pipeline_duplicates"] = static_cast<double>(pipeline_duplicates_);
    m["log_control_entries"] = static_cast<double>(log_.control_entries);
  }
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
// counts from that ok until the subscription's first ack of it (never before the ok); a
// transaction's message only where the transaction committed. Returns (time, +1 / -1),
// sorted by time.
std::vector<std::pair<std::int64_t, int>> QueueJudge::backlog_events() const {
  std::vector<std::pair<std::int64_t, int>> events;
  for (std::uint32_t message = 0; message < state_.size(); ++message) {
    const MessageState& s = state_[message];
    if (s.ok_ns < 0) continue;
    const std::uint32_t partition = messages_.key(message).partition;
    if (s.txn != kNoIndex && !committed_in(partition, s.txn)) continue;
    const std::uint32_t topic = topic_of_[partition];
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

// Every series over the buckets of [0, end] (at the end of each): the rates in messages
// per second over the bucket, the backlog at its end and its peak within it (a spike
// between two bucket ends is what a reader looks for), and the per-message series.
void QueueJudge::report_series(std::int64_t end_ns,
                               const std::vector<std::pair<std::int64_t, int>>& events) {
  const TimeBuckets buckets(end_ns);
  result_.series["publish_rate"] = rate_series(buckets, publish_per_second_);
  result_.series["consume_rate"] = rate_series(buckets, consume_per_second_);
  Series& backlog = result_.series["backlog"];
  Series& peak = result_.series["backlog_peak"];
  std::size_t next = 0;
  std::int64_t level = 0;
  for (std::size_t k = 0; k < buckets.count(); ++k) {
    std::int64_t highest = level;
    while (next < events.size() && buckets.index_of(events[next].first) <= k) {
      level += events[next++].second;
      // Events at one instant count together, as for backlog_max.
      if (next == events.size() || events[next].first != events[next - 1].first) {
        highest = std::max(highest, level);
      }
    }
    backlog.emplace_back(buckets.end_of(k), static_cast<double>(level));
    peak.emplace_back(buckets.end_of(k), static_cast<double>(highest));
  }
  report_message_series(buckets);
}

// Latency and durability over time, from each message's state at the end: its publish
// latency at its first ok, from its latest send before it (report_ops counts every ok op
// instead: the two differ only for a message sent again after its ok), its end-to-end
// latency at its first delivery (as end_to_end_ records it), acknowledged messages their
// partition's log does not hold (lost-write also counts an acknowledged position that
// holds another message: not here; nor a transaction's message where it did not commit),
// and the log's extra visible copies (duplicate), each by the time the message was first
// acknowledged, or sent if never acknowledged.
void QueueJudge::report_message_series(const TimeBuckets& buckets) {
  LatencySeries publish;
  LatencySeries end_to_end;
  std::vector<std::int64_t> missing_ns;
  std::vector<std::int64_t> duplicated_ns;
  for (std::uint32_t message = 0; message < state_.size(); ++message) {
    const MessageState& s = state_[message];
    if (s.ok_ns >= 0 && s.invoked_ns >= 0 && s.invoked_ns <= s.ok_ns) {
      const std::int64_t sent_ns = s.last_invoke_ns <= s.ok_ns ? s.last_invoke_ns : s.invoked_ns;
      publish.record(s.ok_ns, s.ok_ns - sent_ns);
    }
    if (s.first_delivery_ns >= 0 && s.invoked_ns >= 0 && s.first_delivery_ns >= s.invoked_ns) {
      end_to_end.record(s.first_delivery_ns, s.first_delivery_ns - s.invoked_ns);
    }
    const bool counts =
        s.txn == kNoIndex || committed_in(messages_.key(message).partition, s.txn);
    if (s.ok_ns >= 0 && s.first_log == kNoIndex && counts) missing_ns.push_back(s.ok_ns);
    const std::int64_t known_ns = s.ok_ns >= 0 ? s.ok_ns : s.invoked_ns;
    if (s.visible_copies > 1 && known_ns >= 0) {
      duplicated_ns.insert(duplicated_ns.end(), s.visible_copies - 1, known_ns);
    }
  }
  publish.report(buckets, "publish", result_.series);
  end_to_end.report(buckets, "end_to_end", result_.series);
  result_.series["acked_not_in_log_total"] = running_count_series(buckets, std::move(missing_ns));
  result_.series["duplicate_total"] = running_count_series(buckets, std::move(duplicated_ns));
}

}  // namespace streamlab::workloads
