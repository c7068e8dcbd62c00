#pragma once

// The queue checker's working state (workloads/queue_checker.h says what it judges). One
// pass over the history records sends, deliveries and acks per message (dense ids, so a
// million-op history costs a few vectors) and checks what can be checked in time order;
// the verdicts that need the whole run follow (queue_verdicts.cc, txn_verdicts.cc), then
// the metrics (queue_metrics.cc).
//
// [SECTION] index: history pass (queue_checker.cc), verdicts (queue_verdicts.cc),
// transactions (txn_verdicts.cc), metrics and series (queue_metrics.cc).

#include <compare>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "workloads/checkers/check_result.h"
#include "workloads/checkers/latency_histogram.h"
#include "workloads/checkers/op_report.h"
#include "workloads/checkers/queue_checker.h"
#include "workloads/checkers/queue_log.h"
#include "workloads/checkers/time_series.h"

namespace streamlab::workloads {

// What the run did with one message (a MessageTable id).
struct MessageState {
  std::int64_t invoked_ns = -1;       // The first send invoke; -1: never invoked.
  std::int64_t last_invoke_ns = -1;   // The latest, for the latency of its completion.
  std::uint32_t pending = 0;          // Invokes not completed yet.
  std::int64_t ok_ns = -1;            // The first send ok; -1: none.
  // Where the first ok with a position said it is stored (0: only duplicate acks).
  std::uint64_t ok_ledger = 0;
  std::int64_t ok_entry = -1;
  std::int32_t ok_batch = -1;
  std::int64_t ok_position_ns = -1;  // The time of that first ok with a position.
  std::uint32_t ok_broker = kNoIndex;
  std::uint32_t ok_process = 0;
  std::uint32_t txn = kNoIndex;         // The first send ok's transaction, if any.
  std::int64_t first_delivery_ns = -1;  // To any subscription.
  std::uint32_t first_log = kNoIndex;   // Log index of its first copy in its partition.
  std::uint32_t copies = 0;
  // Copies a reader of committed data is given: not transactional, or of a transaction
  // committed in the partition (QueueJudge::visible).
  std::uint32_t first_visible = kNoIndex;
  std::uint32_t visible_copies = 0;
};

// What the run did with one transaction (a txns_ id).
struct TxnState {
  std::int64_t commit_ok_ns = -1;  // The first commit op that returned ok; -1: none.
  std::uint32_t commit_ok_process = 0;
  std::int64_t abort_ok_ns = -1;
  // When the commit had certainly happened: its ok, or an entry after one of its commit
  // markers stored (QueueJudge::time_commits); -1: unknown.
  std::int64_t committed_by_ns = -1;
  // Its first commit and abort markers anywhere, in partition order: (partition, index in
  // the partition's markers); partition kNoIndex: none.
  std::pair<std::uint32_t, std::uint32_t> commit_marker{kNoIndex, 0};
  std::pair<std::uint32_t, std::uint32_t> abort_marker{kNoIndex, 0};
  std::vector<std::uint32_t> sent;       // Messages a send ok in it named, in history order.
  std::vector<std::uint32_t> committed;  // Its messages' ids where it committed, log order.
};

// One subscription's dealings with one message.
struct DeliveryState {
  std::int64_t first_ack_ns = -1;
  std::uint32_t deliveries = 0;
};

// Where a message was said to be, for inconsistent-offsets.
struct PositionKey {
  std::uint32_t partition = 0;
  std::uint64_t ledger = 0;
  std::int64_t entry = 0;
  std::int32_t batch_index = 0;
  auto operator<=>(const PositionKey&) const = default;
};

// Two consecutive first-time deliveries to one consumer, at log indexes from < to.
struct PollGap {
  std::uint32_t subscription = 0;
  std::uint32_t partition = 0;
  std::uint32_t process = 0;
  std::uint32_t from = 0;
  std::uint32_t to = 0;
  std::int64_t time_ns = 0;  // Of the second delivery.
};

// "ledger 7 entry 3 batch index 0" (no batch index when negative).
std::string position_words(std::uint64_t ledger, std::int64_t entry, std::int32_t batch_index);

// The first ack a broker gave for a ledger of one ordinal, for split-brain.
struct OrdinalAck {
  std::uint64_t ledger = 0;
  std::int64_t time_ns = 0;
};

class QueueJudge {
 public:
  explicit QueueJudge(const QueueCheckInput& input);
  CheckResult run();

 private:
  // [SECTION] History pass (queue_checker.cc)
  void read_history();
  void grow_partitions();
  // The name a configured topic's partition is stored under.
  std::string stored_name(const std::string& topic, std::uint32_t partition) const;
  std::optional<std::uint32_t> stored_partition(const QueueOp& op) const;
  std::uint32_t partition_of(const QueueOp& op);
  std::uint32_t subscription_of(const QueueOp& op);
  std::uint32_t message_of(const QueueOp& op, std::uint32_t partition);
  void on_send(const QueueOp& op, std::uint32_t message, std::uint32_t partition);
  void on_send_ok(const QueueOp& op, std::uint32_t message, std::uint32_t partition);
  void on_poll(const QueueOp& op, std::uint32_t message, std::uint32_t partition);
  void check_poll_order(const QueueOp& op, std::uint32_t subscription, std::uint32_t partition,
                        std::uint32_t at);
  void on_ack(const QueueOp& op, std::uint32_t message, std::uint32_t partition);
  void on_txn_end(const QueueOp& op);
  void on_txn_send_ok(std::uint32_t message, std::uint32_t partition, std::uint32_t txn,
                      bool first_ok);
  std::uint32_t txn_of(const std::string& name);
  void claim_position(const QueueOp& op, std::uint32_t message, std::uint32_t partition);
  void check_split_brain(const QueueOp& op, std::uint32_t message, std::uint32_t partition);
  DeliveryState& delivery(std::uint32_t subscription, std::uint32_t message);
  // The log index of the position if it holds the message (batch index -1: anywhere in
  // the entry), else kNoIndex.
  std::uint32_t held_at(std::uint32_t partition, std::uint64_t ledger, std::int64_t entry,
                        std::int32_t batch_index, std::uint32_t message) const;
  // held_at, or else where the message's first copy is (kNoIndex if nowhere).
  std::uint32_t log_index(std::uint32_t partition, std::uint64_t ledger, std::int64_t entry,
                          std::int32_t batch_index, std::uint32_t message) const;

  // [SECTION] Verdicts (queue_verdicts.cc)
  void index_log();
  void index_copies();
  void check_log();
  void check_sends();
  std::string why_absent(std::uint32_t partition, const MessageState& s) const;
  void check_send(std::uint32_t message);
  void check_send_order();
  void check_gaps();

  // [SECTION] Transactions (txn_verdicts.cc)
  void index_markers();
  // The transaction's first marker in the partition's log (what its readers apply), or null.
  const LogMarker* marker_of(std::uint32_t partition, std::uint32_t txn) const;
  bool committed_in(std::uint32_t partition, std::uint32_t txn) const;
  // Whether a reader of committed data is given this message of the partition's log.
  bool visible(std::uint32_t partition, const LogMessage& m) const;
  void check_aborted_read(const QueueOp& op, std::uint32_t partition, std::uint32_t at);
  void time_commits();
  std::vector<std::int64_t> stored_by(std::uint32_t partition) const;
  void check_txns();
  void check_split_outcome(std::uint32_t txn);
  void check_committed_sends(std::uint32_t txn);
  void check_txn_reads(std::uint32_t txn);
  void check_pipeline_outputs();
  std::string txn_words(std::uint32_t txn) const;
  std::string marker_words(std::uint32_t partition, const LogMarker& marker) const;
  std::string outcome_words(std::uint32_t partition, std::uint32_t txn) const;
  std::string end_words(std::uint32_t txn) const;
  std::string output_words(const PipelineOutput& out) const;

  // [SECTION] Metrics and series (queue_metrics.cc)
  void report_metrics();
  void report_series(std::int64_t end_ns,
                     const std::vector<std::pair<std::int64_t, int>>& backlog_events);
  std::vector<std::pair<std::int64_t, int>> backlog_events() const;
  void report_message_series(const TimeBuckets& buckets);

  // Words for examples.
  std::string message_words(std::uint32_t message) const;
  std::string log_position_words(std::uint32_t partition, std::uint32_t at) const;
  std::string subscriptions_words(std::uint32_t topic) const;
  bool deleted_after_use(std::uint32_t partition, const MessageState& s) const;

  const QueueCheckInput& in_;
  CheckResult result_;
  NameTable partitions_;  // Partition (stored topic) names.
  NameTable topics_;      // Configured topic names.
  NameTable producers_;
  NameTable brokers_;
  NameTable subscriptions_;
  NameTable txns_;  // "<most>:<least>".
  MessageTable messages_;
  QueueLog log_;

  std::vector<MessageState> state_;                      // By message.
  std::vector<std::vector<DeliveryState>> delivered_;    // By subscription, then message.
  std::vector<bool> ordered_;                            // By subscription: exclusive/failover.
  std::vector<TxnState> txn_state_;                      // By transaction.
  // By partition: transaction -> index of its first marker in the partition's markers.
  std::vector<std::map<std::uint32_t, std::uint32_t>> outcome_;
  std::vector<std::uint32_t> topic_of_;                  // By partition; kNoIndex: unknown.
  std::map<std::string, std::vector<std::uint32_t>, std::less<>> partition_ids_;
  std::set<std::pair<std::uint32_t, std::uint32_t>> topic_subscriptions_;  // (topic, sub).

  std::vector<std::vector<std::uint32_t>> claims_;  // By partition, then log index: message.
  std::map<PositionKey, std::uint32_t> claims_off_log_;
  std::set<std::pair<PositionKey, std::uint32_t>> inconsistent_reported_;

  // By (process, subscription, partition): the last first-time delivery's log index.
  std::map<std::tuple<std::uint32_t, std::uint32_t, std::uint32_t>, std::uint32_t> cursors_;
  std::vector<PollGap> gaps_;

  // By partition: ordinal -> broker -> its first ack there.
  std::vector<std::map<std::uint64_t, std::map<std::uint32_t, OrdinalAck>>> ordinal_acks_;

  OpTally tally_;
  LatencyHistogram end_to_end_;
  std::int64_t last_ns_ = 0;
  std::uint64_t deliveries_ = 0;
  std::uint64_t acks_ = 0;
  std::uint64_t redeliveries_ = 0;
  std::uint64_t delivery_duplicates_ = 0;
  std::uint64_t log_duplicates_ = 0;
  std::uint64_t pipeline_duplicates_ = 0;
  std::uint64_t aborted_reads_ = 0;
  std::uint64_t commits_ok_ = 0;
  std::uint64_t aborts_ok_ = 0;
  std::vector<std::uint64_t> publish_per_second_;  // Send oks in second k.
  std::vector<std::uint64_t> consume_per_second_;  // Deliveries in second k.
};

}  // namespace streamlab::workloads
