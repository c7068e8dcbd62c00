// The queue checker's verdicts that need the whole run: the log against the sends, send
// order, and the holes between consecutive deliveries. What transactions add is in
// txn_verdicts.cc; here they only decide which copies a reader is given (visible).

#include <algorithm>

#include "base/assert.h"
#include "workloads/checkers/queue_judge.h"

namespace streamlab::workloads {

std::string position_words(std::uint64_t ledger, std::int64_t entry, std::int32_t batch_index) {
  if (ledger == 0) return "no position";
  std::string out = "ledger " + std::to_string(ledger) + " entry " + std::to_string(entry);
  if (batch_index >= 0) out += " batch index " + std::to_string(batch_index);
  return out;
}

std::string QueueJudge::message_words(std::uint32_t message) const {
  const MessageKey& key = messages_.key(message);
  return describe_op(producers_.name(key.producer), "message", key.seq) + " of " +
         partitions_.name(key.partition);
}

std::string QueueJudge::log_position_words(std::uint32_t partition, std::uint32_t at) const {
  const PartitionLog& log = log_.partitions[partition];
  const LogMessage& m = log.messages[at];
  return position_words(log.ledgers[m.ledger].id, m.entry, m.batch_index);
}

std::string QueueJudge::subscriptions_words(std::uint32_t topic) const {
  std::string out;
  for (auto it = topic_subscriptions_.lower_bound({topic, 0});
       it != topic_subscriptions_.end() && it->first == topic; ++it) {
    if (!out.empty()) out += ", ";
    out += "\"" + subscriptions_.name(it->second) + "\"";
  }
  return out;
}

// Transactions' outcomes, then where each message's copies are in its partition's log.
void QueueJudge::index_log() {
  state_.resize(messages_.size());
  txn_state_.resize(txns_.size());
  grow_partitions();
  index_markers();
  index_copies();
}

void QueueJudge::index_copies() {
  for (std::uint32_t p = 0; p < log_.partitions.size(); ++p) {
    const PartitionLog& log = log_.partitions[p];
    for (std::uint32_t at = 0; at < log.messages.size(); ++at) {
      const LogMessage& m = log.messages[at];
      MessageState& s = state_[m.message];
      ++s.copies;
      if (s.first_log == kNoIndex) s.first_log = at;
      if (!visible(p, m)) continue;
      ++s.visible_copies;
      if (s.first_visible == kNoIndex) {
        s.first_visible = at;
        if (m.txn != kNoIndex) txn_state_[m.txn].committed.push_back(m.message);
      }
    }
  }
}

void QueueJudge::check_log() {
  for (const BadEntry& bad : log_.bad_entries) {
    result_.add("unexpected", position_words(bad.ledger, bad.entry, -1) + " of " +
                                  partitions_.name(bad.partition) + " " + bad.why);
  }
  for (std::uint32_t p = 0; p < log_.partitions.size(); ++p) {
    const PartitionLog& log = log_.partitions[p];
    for (std::uint32_t at = 0; at < log.messages.size(); ++at) {
      const std::uint32_t message = log.messages[at].message;
      const MessageState& s = state_[message];
      // Only copies a reader is given count: an aborted transaction's are no duplicates.
      if (visible(p, log.messages[at]) && at != s.first_visible) {
        ++log_duplicates_;
        result_.add("duplicate", message_words(message) + " is stored " +
                                     std::to_string(s.visible_copies) + " times, first at " +
                                     log_position_words(p, s.first_visible) + " and again at " +
                                     log_position_words(p, at));
      }
      if (at == s.first_log && s.invoked_ns < 0 && s.ok_ns < 0) {
        result_.add("unexpected", log_position_words(p, at) + " of " + partitions_.name(p) +
                                      " holds " + message_words(message) +
                                      ", which no producer sent");
      }
    }
  }
}

// Why an acknowledged position is not in the log, as a reader of the log finds it.
std::string QueueJudge::why_absent(std::uint32_t partition, const MessageState& s) const {
  if (s.ok_ledger == 0) return "its partition's log does not hold it";
  const PartitionLog& log = log_.partitions[partition];
  const auto it = log.ledger_index.find(s.ok_ledger);
  if (it == log.ledger_index.end()) {
    return "no ledger list of the partition ever named ledger " + std::to_string(s.ok_ledger);
  }
  const LogLedger& ledger = log.ledgers[it->second];
  if (s.ok_entry <= ledger.end) return "its partition's log does not hold it";
  std::string out = "ledger " + std::to_string(s.ok_ledger) + " (ordinal " +
                    std::to_string(ledger.ordinal) + ") ends at entry " +
                    std::to_string(ledger.end) + " for its readers";
  if (it->second + 1 < log.ledgers.size()) {
    const LogLedger& next = log.ledgers[it->second + 1];
    out += ", and the log goes on in ledger " + std::to_string(next.id) + " (ordinal " +
           std::to_string(next.ordinal) + "): the next owner's recovery closed it before entry " +
           std::to_string(s.ok_entry);
  }
  return out;
}

// Absent because retention deleted its ledger, which the final state cannot tell from
// loss: excused when a subscription had the message first, or its topic has none (then
// nothing holds the ledger back). A ledger deleted before a subscription got to it stays
// a lost-write. A send acknowledged as a duplicate names no ledger: any deleted ledger of
// the partition may have held its first copy.
bool QueueJudge::deleted_after_use(std::uint32_t partition, const MessageState& s) const {
  const PartitionLog& log = log_.partitions[partition];
  if (s.ok_ledger == 0) {
    if (std::none_of(log.ledgers.begin(), log.ledgers.end(),
                     [](const LogLedger& l) { return l.deleted; })) {
      return false;
    }
  } else {
    const auto it = log.ledger_index.find(s.ok_ledger);
    if (it == log.ledger_index.end() || !log.ledgers[it->second].deleted) return false;
  }
  if (s.first_delivery_ns >= 0) return true;
  const std::uint32_t topic = topic_of_[partition];
  return topic == kNoIndex || subscriptions_words(topic).empty();
}

void QueueJudge::check_sends() {
  for (std::uint32_t message = 0; message < state_.size(); ++message) {
    if (state_[message].ok_ns >= 0) check_send(message);
  }
}

// lost-write and unseen for one message a send acknowledged. A transaction's message
// counts only where the transaction committed: elsewhere no reader may have it, and
// whether a commit that returned ok lost it is check_committed_sends' question.
void QueueJudge::check_send(std::uint32_t message) {
  const MessageState& s = state_[message];
  const MessageKey& key = messages_.key(message);
  if (s.txn != kNoIndex && !committed_in(key.partition, s.txn)) return;
  // Built only for an anomaly: most messages need no words.
  const auto what = [&] {
    std::string out = message_words(message) + " sent by " + in_.process_name(s.ok_process);
    if (s.txn != kNoIndex) out += " in " + txn_words(s.txn);
    out += " was acknowledged";
    if (s.ok_broker != kNoIndex) out += " by " + brokers_.name(s.ok_broker);
    return out + " at " + format_seconds(s.ok_ns) +
           (s.ok_ledger == 0 ? " as a duplicate"
                             : " as " + position_words(s.ok_ledger, s.ok_entry, s.ok_batch));
  };
  if (s.first_log == kNoIndex) {
    if (deleted_after_use(key.partition, s)) return;
    result_.add("lost-write", what() + ", but " + why_absent(key.partition, s) +
                                  ": the message is in no ledger of the log of " +
                                  partitions_.name(key.partition));
    return;
  }
  if (s.ok_ledger != 0) {
    const PartitionLog& log = log_.partitions[key.partition];
    const auto [first, last] = log.entry_range(s.ok_ledger, s.ok_entry);
    const std::uint32_t at =
        s.ok_batch >= 0 ? log.at(s.ok_ledger, s.ok_entry, s.ok_batch) : kNoIndex;
    if (at != kNoIndex && log.messages[at].message != message) {
      result_.add("lost-write", what() + ", but that position holds " +
                                    message_words(log.messages[at].message));
    } else if (s.ok_batch < 0 && first < last &&
               held_at(key.partition, s.ok_ledger, s.ok_entry, s.ok_batch, message) == kNoIndex) {
      // An ok that names only the entry (batch index -1) needs the message anywhere in it.
      result_.add("lost-write", what() + ", but that entry holds " +
                                    message_words(log.messages[first].message) + " instead");
    }
  }
  // Only a message that some consumer should have had by the end counts as unseen: one
  // acknowledged (and, in a transaction, committed) long enough before it.
  std::int64_t readable_ns = s.ok_ns;
  if (s.txn != kNoIndex) {
    const std::int64_t committed_ns = txn_state_[s.txn].committed_by_ns;
    if (committed_ns < 0) return;
    readable_ns = std::max(readable_ns, committed_ns);
  }
  if (s.first_delivery_ns >= 0 || readable_ns + in_.unseen_grace_ns >= last_ns_) return;
  const std::uint32_t topic = topic_of_[key.partition];
  if (topic == kNoIndex) return;
  const std::string subscriptions = subscriptions_words(topic);
  if (subscriptions.empty()) return;
  result_.add("unseen", what() + ", stored at " + log_position_words(key.partition, s.first_log) +
                            ", but was never delivered to subscription " + subscriptions +
                            " of " + topics_.name(topic) + " (the history ends at " +
                            format_seconds(last_ns_) + ")");
}

// A producer's sends to one partition are stored in the order it sent them (its sequence
// ids): consecutive acknowledged sends, by sequence id, must sit in log order.
void QueueJudge::check_send_order() {
  std::map<std::pair<std::uint32_t, std::uint32_t>,
           std::vector<std::pair<std::uint64_t, std::uint32_t>>>
      sends;  // (partition, producer) -> (seq, message)
  for (std::uint32_t message = 0; message < state_.size(); ++message) {
    const MessageState& s = state_[message];
    if (s.ok_ns < 0 || s.first_log == kNoIndex) continue;
    const MessageKey& key = messages_.key(message);
    sends[{key.partition, key.producer}].emplace_back(key.seq, message);
  }
  for (auto& [where, list] : sends) {
    std::sort(list.begin(), list.end());
    std::uint32_t previous_at = kNoIndex;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::uint32_t message = list[i].second;
      const MessageState& s = state_[message];
      const std::uint32_t at = log_index(where.first, s.ok_ledger, s.ok_entry, s.ok_batch, message);
      if (i > 0 && at < previous_at) {
        const std::uint32_t before = list[i - 1].second;
        result_.add("nonmonotonic-send",
                    message_words(before) + " and " + message_words(message) +
                        " were acknowledged at " + format_seconds(state_[before].ok_ns) +
                        " and " + format_seconds(s.ok_ns) + " but are stored in the opposite order, at " +
                        log_position_words(where.first, previous_at) + " and " +
                        log_position_words(where.first, at));
      }
      previous_at = at;
    }
  }
}

// A hole between consecutive first-time deliveries is a skip only if the subscription never
// got the messages in it: a failover consumer's hole may have gone to the other consumer.
// Messages a reader of committed data is never given (an aborted or unfinished
// transaction's) are no holes.
void QueueJudge::check_gaps() {
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::vector<std::uint32_t>> undelivered;
  for (const PollGap& gap : gaps_) {
    const PartitionLog& log = log_.partitions[gap.partition];
    const std::vector<DeliveryState>& delivered = delivered_[gap.subscription];
    const auto missed = [&](std::uint32_t at) {
      const std::uint32_t message = log.messages[at].message;
      if (!visible(gap.partition, log.messages[at])) return false;
      return message >= delivered.size() || delivered[message].deliveries == 0;
    };
    // Prefix counts of never-delivered log messages, per (subscription, partition).
    auto [it, inserted] = undelivered.try_emplace({gap.subscription, gap.partition});
    std::vector<std::uint32_t>& prefix = it->second;
    if (inserted) {
      prefix.assign(log.messages.size() + 1, 0);
      for (std::uint32_t at = 0; at < log.messages.size(); ++at) {
        prefix[at + 1] = prefix[at] + (missed(at) ? 1 : 0);
      }
    }
    const std::uint32_t skipped = prefix[gap.to] - prefix[gap.from + 1];
    if (skipped == 0) continue;
    std::uint32_t first = gap.from + 1;
    while (!missed(first)) ++first;
    SL_ASSERT_LT(first, gap.to);
    result_.add("poll-skip",
                in_.process_name(gap.process) + " got " +
                    message_words(log.messages[gap.from].message) + " at " +
                    log_position_words(gap.partition, gap.from) + " and then, at " +
                    format_seconds(gap.time_ns) + ", " + message_words(log.messages[gap.to].message) +
                    " at " + log_position_words(gap.partition, gap.to) +
                    " for subscription \"" + subscriptions_.name(gap.subscription) +
                    "\", skipping " + std::to_string(skipped) + " message(s) it never received, first " +
                    message_words(log.messages[first].message) + " at " +
                    log_position_words(gap.partition, first));
  }
}

}  // namespace streamlab::workloads
