#include "workloads/checkers/queue_checker.h"

#include <string_view>
#include <tuple>

#include <algorithm>
#include <utility>

#include "base/assert.h"
#include "broker/pulsar/wire.h"
#include "workloads/checkers/queue_judge.h"

namespace streamlab::workloads {

namespace {

constexpr std::int64_t kSecondNs = 1'000'000'000;
// Partition numbers index a vector per topic: a bound against a corrupt history.
constexpr std::uint32_t kMaxPartitions = 1u << 16;

void count_in_second(std::vector<std::uint64_t>& per_second, std::int64_t time_ns) {
  const auto k = static_cast<std::size_t>(time_ns / kSecondNs);
  if (per_second.size() <= k) per_second.resize(k + 1);
  ++per_second[k];
}

bool is_ordered(pulsar::SubscriptionType type) {
  return type == pulsar::EXCLUSIVE || type == pulsar::FAILOVER;
}

}  // namespace

CheckResult check_queue(const QueueCheckInput& input) { return QueueJudge(input).run(); }

QueueJudge::QueueJudge(const QueueCheckInput& input) : in_(input) {
  SL_ASSERT_NE(input.history, nullptr);
  SL_ASSERT(static_cast<bool>(input.process_name));
  SL_ASSERT_GE(input.unseen_grace_ns, 0);
}

CheckResult QueueJudge::run() {
  log_ = read_queue_log(in_.metadata_log, in_.bookie_files,
                        in_.identity == QueueIdentity::sequence_id,
                        LogNames{partitions_, producers_, txns_, messages_});
  index_log();
  read_history();
  time_commits();
  check_log();
  check_sends();
  check_send_order();
  check_gaps();
  check_txns();
  report_metrics();
  return std::move(result_);
}

// [SECTION] History pass

// A producer learns a message's partition only when the message is acknowledged (the
// client routes it), so invokes, failures and unknown outcomes carry partition 0: they
// take the partition of the message's acknowledgement, if it has one, or else the
// partition whose log holds the message (a send that timed out or was still pending may
// well be stored). (Message numbers are per producer, so (topic, producer, number) names
// one message.)
void QueueJudge::read_history() {
  std::map<std::tuple<std::string_view, std::string_view, std::uint64_t>, std::uint32_t> routed;
  for (const QueueOp& op : *in_.history) {
    if (op.kind == QueueOpKind::send && op.type == OpType::ok && op.partition != 0) {
      routed.emplace(std::make_tuple(std::string_view(op.topic), std::string_view(op.producer),
                                     op.seq),
                     op.partition);
    }
  }
  for (const QueueOp& original : *in_.history) {
    SL_ASSERT_GE(original.time_ns, 0);
    last_ns_ = std::max(last_ns_, original.time_ns);
    // A transaction's end names no topic: it is no message's op.
    if (original.kind == QueueOpKind::commit || original.kind == QueueOpKind::abort) {
      on_txn_end(original);
      continue;
    }
    QueueOp routed_op;
    const QueueOp* current = &original;
    if (original.kind == QueueOpKind::send && original.type != OpType::ok) {
      const auto it = routed.find(std::make_tuple(std::string_view(original.topic),
                                                  std::string_view(original.producer),
                                                  original.seq));
      const std::optional<std::uint32_t> partition =
          it != routed.end() ? std::optional<std::uint32_t>(it->second)
                             : stored_partition(original);
      if (partition && *partition != original.partition) {
        routed_op = original;
        routed_op.partition = *partition;
        current = &routed_op;
      }
    }
    const QueueOp& op = *current;
    const std::uint32_t partition = partition_of(op);
    const std::uint32_t message = message_of(op, partition);
    switch (op.kind) {
      case QueueOpKind::send:
        on_send(op, message, partition);
        break;
      case QueueOpKind::poll:
        if (op.type == OpType::ok) on_poll(op, message, partition);
        break;
      case QueueOpKind::ack:
        if (op.type == OpType::ok) on_ack(op, message, partition);
        break;
      case QueueOpKind::commit:
      case QueueOpKind::abort:
        SL_ASSERT_MSG(false, "queue checker: a transaction's end is not a message's op");
        break;
    }
  }
  for (const MessageState& s : state_) {
    tally_.by_outcome[static_cast<int>(OpType::invoke)] += s.pending;
  }
}

void QueueJudge::grow_partitions() {
  const std::size_t n = partitions_.size();
  if (log_.partitions.size() < n) log_.partitions.resize(n);
  claims_.resize(n);
  ordinal_acks_.resize(n);
  outcome_.resize(n);
  topic_of_.resize(n, kNoIndex);
}

// The partition of op's topic whose log holds op's message, if one does.
std::optional<std::uint32_t> QueueJudge::stored_partition(const QueueOp& op) const {
  const std::optional<std::uint32_t> producer = producers_.find(op.producer);
  if (!producer) return std::nullopt;
  const auto configured = in_.topics.find(op.topic);
  if (configured != in_.topics.end() && configured->second == 0) return std::nullopt;
  // A topic not configured has as many partitions as the log met in a row.
  const bool known = configured != in_.topics.end();
  const std::uint32_t count = known ? configured->second : kMaxPartitions;
  for (std::uint32_t p = 0; p < count; ++p) {
    const std::optional<std::uint32_t> stored =
        partitions_.find(pulsar::partition_name(op.topic, p));
    if (!stored && !known) return std::nullopt;
    if (stored && messages_.find(MessageKey{*stored, *producer, op.seq})) return p;
  }
  return std::nullopt;
}

std::string QueueJudge::stored_name(const std::string& topic, std::uint32_t partition) const {
  const auto configured = in_.topics.find(topic);
  if (configured != in_.topics.end()) {
    return configured->second > 0 ? pulsar::partition_name(topic, partition) : topic;
  }
  std::string candidate = pulsar::partition_name(topic, partition);
  return partitions_.find(candidate) ? candidate : topic;
}

std::uint32_t QueueJudge::partition_of(const QueueOp& op) {
  SL_ASSERT_MSG(op.partition < kMaxPartitions, "queue checker: partition number out of range");
  auto it = partition_ids_.find(op.topic);
  if (it == partition_ids_.end()) it = partition_ids_.try_emplace(op.topic).first;
  std::vector<std::uint32_t>& ids = it->second;
  if (ids.size() <= op.partition) ids.resize(op.partition + 1, kNoIndex);
  if (ids[op.partition] != kNoIndex) return ids[op.partition];
  const std::uint32_t id = partitions_.intern(stored_name(op.topic, op.partition));
  ids[op.partition] = id;
  grow_partitions();
  topic_of_[id] = topics_.intern(op.topic);
  return id;
}

std::uint32_t QueueJudge::message_of(const QueueOp& op, std::uint32_t partition) {
  const std::uint32_t producer = producers_.intern(op.producer);
  const std::uint32_t message = messages_.intern(MessageKey{partition, producer, op.seq});
  if (state_.size() <= message) state_.resize(message + 1);
  return message;
}

void QueueJudge::on_send(const QueueOp& op, std::uint32_t message, std::uint32_t partition) {
  MessageState& s = state_[message];
  if (op.type == OpType::invoke) {
    if (s.invoked_ns < 0) s.invoked_ns = op.time_ns;
    s.last_invoke_ns = op.time_ns;
    ++s.pending;
    return;
  }
  tally_.count(op.type);
  if (s.pending > 0) {
    --s.pending;
    if (op.type == OpType::ok) {
      tally_.latency.record(std::max<std::int64_t>(0, op.time_ns - s.last_invoke_ns));
    }
  }
  if (op.type == OpType::ok) on_send_ok(op, message, partition);
}

void QueueJudge::on_send_ok(const QueueOp& op, std::uint32_t message, std::uint32_t partition) {
  count_in_second(publish_per_second_, op.time_ns);
  MessageState& s = state_[message];
  const bool first_ok = s.ok_ns < 0;
  if (first_ok) {
    s.ok_ns = op.time_ns;
    s.ok_process = op.process;
    if (!op.broker.empty()) s.ok_broker = brokers_.intern(op.broker);
  }
  if (!op.txn.empty()) on_txn_send_ok(message, partition, txn_of(op.txn), first_ok);
  // ledger_id 0: the broker acknowledged it as a duplicate of a message already stored,
  // so the op names no position.
  if (op.ledger_id == 0) return;
  if (s.ok_ledger == 0) {
    s.ok_ledger = op.ledger_id;
    s.ok_entry = op.entry_id;
    s.ok_batch = op.batch_index;
    s.ok_position_ns = op.time_ns;
  }
  claim_position(op, message, partition);
  check_split_brain(op, message, partition);
}

DeliveryState& QueueJudge::delivery(std::uint32_t subscription, std::uint32_t message) {
  std::vector<DeliveryState>& of = delivered_[subscription];
  if (of.size() <= message) of.resize(std::max<std::size_t>(message + 1, state_.size()));
  return of[message];
}

std::uint32_t QueueJudge::subscription_of(const QueueOp& op) {
  const std::uint32_t id = subscriptions_.intern(op.subscription);
  if (delivered_.size() <= id) {
    delivered_.resize(id + 1);
    const auto type = in_.subscriptions.find(op.subscription);
    ordered_.resize(id + 1, false);
    ordered_[id] = type != in_.subscriptions.end() && is_ordered(type->second);
  }
  return id;
}

void QueueJudge::on_poll(const QueueOp& op, std::uint32_t message, std::uint32_t partition) {
  ++deliveries_;
  count_in_second(consume_per_second_, op.time_ns);
  const std::uint32_t subscription = subscription_of(op);
  topic_subscriptions_.insert({topic_of_[partition], subscription});
  DeliveryState& d = delivery(subscription, message);
  const bool first_time = d.deliveries == 0;
  ++d.deliveries;
  if (!first_time) ++redeliveries_;
  if (d.first_ack_ns >= 0 && d.first_ack_ns < op.time_ns) {
    ++delivery_duplicates_;
    result_.add("duplicate-delivery",
                "subscription \"" + op.subscription + "\" got " + message_words(message) + " (" +
                    position_words(op.ledger_id, op.entry_id, op.batch_index) + ") on " +
                    in_.process_name(op.process) + " at " + format_seconds(op.time_ns) +
                    ", after it had acknowledged it at " + format_seconds(d.first_ack_ns));
  }
  MessageState& s = state_[message];
  if (s.first_delivery_ns < 0) {
    s.first_delivery_ns = op.time_ns;
    if (s.invoked_ns >= 0 && op.time_ns >= s.invoked_ns) {
      end_to_end_.record(op.time_ns - s.invoked_ns);
    }
  }
  if (op.ledger_id != 0) claim_position(op, message, partition);
  const std::uint32_t at = log_index(partition, op.ledger_id, op.entry_id, op.batch_index, message);
  if (at != kNoIndex) check_aborted_read(op, partition, at);
  if (first_time && ordered_[subscription]) check_poll_order(op, subscription, partition, at);
}

// Exclusive and failover subscriptions deliver a partition in log order to their one
// active consumer (REFERENCE.md "Pulsar", subscriptions), so first-time deliveries to one
// consumer move forward without holes. Redeliveries may rewind: they are not checked.
void QueueJudge::check_poll_order(const QueueOp& op, std::uint32_t subscription,
                                  std::uint32_t partition, std::uint32_t at) {
  if (at == kNoIndex) return;
  const auto [it, inserted] = cursors_.try_emplace({op.process, subscription, partition}, at);
  if (inserted) return;
  const std::uint32_t previous = it->second;
  it->second = at;
  if (at < previous) {
    const std::uint32_t before = log_.partitions[partition].messages[previous].message;
    result_.add("nonmonotonic-poll",
                in_.process_name(op.process) + " got " +
                    message_words(log_.partitions[partition].messages[at].message) + " at " +
                    log_position_words(partition, at) + " for subscription \"" +
                    op.subscription + "\" at " + format_seconds(op.time_ns) +
                    " for the first time, after it had first got " + message_words(before) +
                    " at the later " + log_position_words(partition, previous));
  } else if (at > previous + 1) {
    gaps_.push_back(PollGap{subscription, partition, op.process, previous, at, op.time_ns});
  }
}

// An ack inside a transaction takes effect only if the transaction commits on the acked
// partition (REFERENCE.md "Pulsar transactions": pending acks are applied by the commit
// marker, released by the abort marker); one that did not commit acked nothing.
void QueueJudge::on_ack(const QueueOp& op, std::uint32_t message, std::uint32_t partition) {
  ++acks_;
  if (!op.txn.empty() && !committed_in(partition, txn_of(op.txn))) return;
  DeliveryState& d = delivery(subscription_of(op), message);
  if (d.first_ack_ns < 0 || op.time_ns < d.first_ack_ns) d.first_ack_ns = op.time_ns;
}

void QueueJudge::on_txn_end(const QueueOp& op) {
  if (op.txn.empty() || op.type != OpType::ok) return;
  TxnState& t = txn_state_[txn_of(op.txn)];
  if (op.kind == QueueOpKind::commit) {
    ++commits_ok_;
    if (t.commit_ok_ns < 0 || op.time_ns < t.commit_ok_ns) {
      t.commit_ok_ns = op.time_ns;
      t.commit_ok_process = op.process;
    }
  } else {
    ++aborts_ok_;
    if (t.abort_ok_ns < 0 || op.time_ns < t.abort_ok_ns) t.abort_ok_ns = op.time_ns;
  }
}

// A message sent again in another transaction (its first one aborted) is judged by the
// one that committed it in its partition, if any.
void QueueJudge::on_txn_send_ok(std::uint32_t message, std::uint32_t partition,
                                std::uint32_t txn, bool first_ok) {
  std::vector<std::uint32_t>& sent = txn_state_[txn].sent;
  if (sent.empty() || sent.back() != message) sent.push_back(message);
  MessageState& s = state_[message];
  if (first_ok || (s.txn != kNoIndex && !committed_in(partition, s.txn) &&
                   committed_in(partition, txn))) {
    s.txn = txn;
  }
}

std::uint32_t QueueJudge::txn_of(const std::string& name) {
  const std::uint32_t id = txns_.intern(name);
  if (txn_state_.size() <= id) txn_state_.resize(id + 1);
  return id;
}

void QueueJudge::claim_position(const QueueOp& op, std::uint32_t message,
                                std::uint32_t partition) {
  if (op.batch_index < 0) return;  // A whole entry: not one message's position.
  const PositionKey key{partition, op.ledger_id, op.entry_id, op.batch_index};
  std::uint32_t* claimed = nullptr;
  const std::uint32_t at = log_.partitions[partition].at(op.ledger_id, op.entry_id, op.batch_index);
  if (at != kNoIndex) {
    std::vector<std::uint32_t>& claims = claims_[partition];
    if (claims.empty()) claims.assign(log_.partitions[partition].messages.size(), kNoIndex);
    claimed = &claims[at];
    if (*claimed == kNoIndex) *claimed = message;
  } else {
    claimed = &claims_off_log_.try_emplace(key, message).first->second;
  }
  if (*claimed == message || !inconsistent_reported_.emplace(key, message).second) return;
  result_.add("inconsistent-offsets",
              position_words(op.ledger_id, op.entry_id, op.batch_index) + " of " +
                  partitions_.name(partition) + " was reported for " + message_words(*claimed) +
                  " and, by " + in_.process_name(op.process) + "'s " +
                  (op.kind == QueueOpKind::send ? "send" : "poll") + " at " +
                  format_seconds(op.time_ns) + ", for " + message_words(message));
}

// Only the topic's owner writes its current ledger, and a new owner first fences the old
// one's ledger (REFERENCE.md "Pulsar", managed ledger and ownership): once a broker has
// acknowledged a send into a later ledger, no other broker may still acknowledge sends
// into an earlier one. One exception is no split brain: a late reply (the old owner paused
// with it queued) for a send invoked before the new owner's ack, whose message the old
// ledger holds where the reply says: the write took effect before the takeover's recovery
// closed that ledger, and the log agrees with the reply (ledger_checker.h reasons alike).
void QueueJudge::check_split_brain(const QueueOp& op, std::uint32_t message,
                                   std::uint32_t partition) {
  const std::optional<std::uint64_t> ordinal =
      log_.partitions[partition].ordinal_of(op.ledger_id);
  if (!ordinal || op.broker.empty()) return;
  const std::uint32_t broker = brokers_.intern(op.broker);
  const bool kept =
      held_at(partition, op.ledger_id, op.entry_id, op.batch_index, message) != kNoIndex;
  const std::int64_t invoked_ns = state_[message].last_invoke_ns;
  auto& by_ordinal = ordinal_acks_[partition];
  for (auto it = by_ordinal.upper_bound(*ordinal); it != by_ordinal.end(); ++it) {
    const auto other = std::find_if(it->second.begin(), it->second.end(), [&](const auto& b) {
      const std::int64_t other_ns = b.second.time_ns;
      return b.first != broker && other_ns < op.time_ns && (!kept || invoked_ns > other_ns);
    });
    if (other == it->second.end()) continue;
    result_.add("split-brain",
                brokers_.name(broker) + " acknowledged " + message_words(message) +
                    " (invoked at " + format_seconds(invoked_ns) + ") for ledger " +
                    std::to_string(op.ledger_id) + " (ordinal " + std::to_string(*ordinal) +
                    ") of " + partitions_.name(partition) + " at " + format_seconds(op.time_ns) +
                    ", after " + brokers_.name(other->first) +
                    " had acknowledged a send for ledger " + std::to_string(other->second.ledger) +
                    " (ordinal " + std::to_string(it->first) + ") at " +
                    format_seconds(other->second.time_ns));
    break;
  }
  const auto [ack, inserted] =
      by_ordinal[*ordinal].try_emplace(broker, OrdinalAck{op.ledger_id, op.time_ns});
  if (!inserted && op.time_ns < ack->second.time_ns) ack->second.time_ns = op.time_ns;
}

std::uint32_t QueueJudge::held_at(std::uint32_t partition, std::uint64_t ledger,
                                  std::int64_t entry, std::int32_t batch_index,
                                  std::uint32_t message) const {
  if (ledger == 0) return kNoIndex;
  const PartitionLog& log = log_.partitions[partition];
  if (batch_index >= 0) {
    const std::uint32_t at = log.at(ledger, entry, batch_index);
    return at != kNoIndex && log.messages[at].message == message ? at : kNoIndex;
  }
  const auto [first, last] = log.entry_range(ledger, entry);
  for (std::uint32_t at = first; at < last; ++at) {
    if (log.messages[at].message == message) return at;
  }
  return kNoIndex;
}

std::uint32_t QueueJudge::log_index(std::uint32_t partition, std::uint64_t ledger,
                                    std::int64_t entry, std::int32_t batch_index,
                                    std::uint32_t message) const {
  const std::uint32_t at = held_at(partition, ledger, entry, batch_index, message);
  return at != kNoIndex ? at : state_[message].first_log;
}

}  // namespace streamlab::workloads
