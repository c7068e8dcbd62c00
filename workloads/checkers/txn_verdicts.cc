// The queue checker's transaction verdicts (REFERENCE.md "Pulsar transactions (PIP-31)").
// A transaction's messages are stored in the partition's log as they come and become
// visible when its commit marker is in that log; an abort marker, or no marker by the end
// of the log, means it did not commit there. Readers apply the first marker of a
// transaction they meet (a later one finds it ended: the transaction buffer ignores it),
// so the first marker in a partition's log is the transaction's outcome there.
//
// [SECTION] index: outcomes, aborted reads, when commits happened, verdicts per
// transaction, pipeline outputs, words.

#include <algorithm>

#include "base/assert.h"
#include "workloads/checkers/queue_judge.h"

namespace streamlab::workloads {

// [SECTION] Outcomes

void QueueJudge::index_markers() {
  for (std::uint32_t p = 0; p < log_.partitions.size(); ++p) {
    const std::vector<LogMarker>& markers = log_.partitions[p].markers;
    for (std::uint32_t i = 0; i < markers.size(); ++i) {
      const LogMarker& m = markers[i];
      SL_ASSERT_LT(m.txn, txn_state_.size());
      outcome_[p].try_emplace(m.txn, i);
      std::pair<std::uint32_t, std::uint32_t>& first =
          m.commit ? txn_state_[m.txn].commit_marker : txn_state_[m.txn].abort_marker;
      if (first.first == kNoIndex) first = {p, i};
    }
  }
}

const LogMarker* QueueJudge::marker_of(std::uint32_t partition, std::uint32_t txn) const {
  if (partition >= outcome_.size()) return nullptr;
  const auto it = outcome_[partition].find(txn);
  return it == outcome_[partition].end() ? nullptr : &log_.partitions[partition].markers[it->second];
}

bool QueueJudge::committed_in(std::uint32_t partition, std::uint32_t txn) const {
  const LogMarker* marker = marker_of(partition, txn);
  return marker != nullptr && marker->commit;
}

bool QueueJudge::visible(std::uint32_t partition, const LogMessage& m) const {
  return m.txn == kNoIndex || committed_in(partition, m.txn);
}

// [SECTION] Aborted reads

// G1a (Adya's aborted read, as Jepsen names it): a reader was given a message of a
// transaction that did not commit in its partition. Read-committed consumers never are.
void QueueJudge::check_aborted_read(const QueueOp& op, std::uint32_t partition,
                                    std::uint32_t at) {
  const LogMessage& m = log_.partitions[partition].messages[at];
  if (visible(partition, m)) return;
  ++aborted_reads_;
  result_.add("G1a", "subscription \"" + op.subscription + "\" got " + message_words(m.message) +
                         " (" + log_position_words(partition, at) + ", in " + txn_words(m.txn) +
                         ") on " + in_.process_name(op.process) + " at " +
                         format_seconds(op.time_ns) + ", but " + outcome_words(partition, m.txn) +
                         end_words(m.txn));
}

// [SECTION] When commits happened

// A commit has certainly happened by its ok (the coordinator replies once every marker is
// written), and by the time an entry after one of its commit markers was stored:
// BookKeeper acknowledges adds in entry order and readers stop at the last add confirmed,
// so an entry acknowledged or read means every entry before it, the marker included, was
// stored. Only a marker that decides the outcome counts.
void QueueJudge::time_commits() {
  for (TxnState& t : txn_state_) t.committed_by_ns = t.commit_ok_ns;
  for (std::uint32_t p = 0; p < log_.partitions.size(); ++p) {
    const PartitionLog& log = log_.partitions[p];
    std::vector<std::int64_t> by;  // Built for the partitions with commit markers only.
    for (const auto& [txn, index] : outcome_[p]) {
      const LogMarker& marker = log.markers[index];
      if (!marker.commit) continue;
      if (by.empty()) by = stored_by(p);
      const std::int64_t t = by[marker.at];
      std::int64_t& committed = txn_state_[txn].committed_by_ns;
      if (t >= 0 && (committed < 0 || t < committed)) committed = t;
    }
  }
}

// By log index i (one more element than messages): the earliest time a message at i or
// later was certainly stored, -1 if none is known. A message stored once is by its first
// delivery and by the ok that named its position; one stored more than once says nothing
// (which copy the ops meant is unknown).
std::vector<std::int64_t> QueueJudge::stored_by(std::uint32_t partition) const {
  const PartitionLog& log = log_.partitions[partition];
  std::vector<std::int64_t> by(log.messages.size() + 1, -1);
  for (auto at = static_cast<std::uint32_t>(log.messages.size()); at-- > 0;) {
    const std::uint32_t message = log.messages[at].message;
    const MessageState& s = state_[message];
    std::int64_t t = -1;
    if (s.copies == 1) {
      t = s.first_delivery_ns;
      const bool named = s.ok_position_ns >= 0 &&
                         held_at(partition, s.ok_ledger, s.ok_entry, s.ok_batch, message) == at;
      if (named && (t < 0 || s.ok_position_ns < t)) t = s.ok_position_ns;
    }
    const std::int64_t later = by[at + 1];
    by[at] = t < 0 ? later : later < 0 ? t : std::min(t, later);
  }
  return by;
}

// [SECTION] Verdicts per transaction

void QueueJudge::check_txns() {
  for (std::uint32_t txn = 0; txn < txn_state_.size(); ++txn) {
    check_split_outcome(txn);
    check_committed_sends(txn);
    check_txn_reads(txn);
  }
  check_pipeline_outputs();
}

// partial-txn: committed in one partition and aborted in another (or in the same one, by
// two markers): atomicity across partitions broke.
void QueueJudge::check_split_outcome(std::uint32_t txn) {
  const TxnState& t = txn_state_[txn];
  const auto [cp, ci] = t.commit_marker;
  const auto [ap, ai] = t.abort_marker;
  if (cp == kNoIndex || ap == kNoIndex) return;
  result_.add("partial-txn", txn_words(txn) + " has a " +
                                 marker_words(cp, log_.partitions[cp].markers[ci]) + " and an " +
                                 marker_words(ap, log_.partitions[ap].markers[ai]) +
                                 ": it committed in part and aborted in part" + end_words(txn));
}

// lost-write: the coordinator confirmed a commit, yet a message the transaction wrote and
// whose send was acknowledged is invisible, its partition's log having no commit marker
// of it first, or the transaction was aborted somewhere. (A message missing where the
// transaction did commit is check_send's lost-write.) Once per transaction.
void QueueJudge::check_committed_sends(std::uint32_t txn) {
  const TxnState& t = txn_state_[txn];
  if (t.commit_ok_ns < 0) return;
  const std::string what = txn_words(txn) + "'s commit returned ok on " +
                           in_.process_name(t.commit_ok_process) + " at " +
                           format_seconds(t.commit_ok_ns);
  if (const auto [p, i] = t.abort_marker; p != kNoIndex) {
    result_.add("lost-write", what + ", but the log holds its " +
                                  marker_words(p, log_.partitions[p].markers[i]));
    return;
  }
  for (const std::uint32_t message : t.sent) {
    const std::uint32_t partition = messages_.key(message).partition;
    if (committed_in(partition, txn)) continue;
    const MessageState& s = state_[message];
    const std::string as = s.ok_ledger == 0
                               ? "a duplicate"
                               : position_words(s.ok_ledger, s.ok_entry, s.ok_batch);
    result_.add("lost-write", what + ", but " + message_words(message) +
                                  ", whose send in it was acknowledged at " +
                                  format_seconds(s.ok_ns) + " as " + as +
                                  ", is invisible: " + outcome_words(partition, txn));
    return;
  }
}

// partial-txn: a subscription got some but not all of a committed transaction's messages
// on the topics it reads, although the commit happened more than unseen_grace_ns before
// the history's end. Once per (transaction, subscription).
void QueueJudge::check_txn_reads(std::uint32_t txn) {
  const TxnState& t = txn_state_[txn];
  if (t.committed.empty() || t.committed_by_ns < 0 ||
      t.committed_by_ns + in_.unseen_grace_ns >= last_ns_) {
    return;
  }
  for (std::uint32_t sub = 0; sub < delivered_.size(); ++sub) {
    const std::vector<DeliveryState>& of = delivered_[sub];
    std::uint32_t total = 0;
    std::uint32_t got = 0;
    std::uint32_t one_got = kNoIndex;
    std::uint32_t one_missed = kNoIndex;
    for (const std::uint32_t message : t.committed) {
      const std::uint32_t topic = topic_of_[messages_.key(message).partition];
      if (topic == kNoIndex || !topic_subscriptions_.contains({topic, sub})) continue;
      ++total;
      if (message < of.size() && of[message].deliveries > 0) {
        ++got;
        if (one_got == kNoIndex) one_got = message;
      } else if (one_missed == kNoIndex) {
        one_missed = message;
      }
    }
    if (got == 0 || got == total) continue;
    const std::uint32_t partition = messages_.key(one_missed).partition;
    result_.add("partial-txn",
                "subscription \"" + subscriptions_.name(sub) + "\" got " + std::to_string(got) +
                    " of the " + std::to_string(total) + " messages " + txn_words(txn) +
                    " committed on the topics it reads, " + message_words(one_got) +
                    " among them, but never " + message_words(one_missed) + " at " +
                    log_position_words(partition, state_[one_missed].first_visible) +
                    ", although the transaction had committed by " +
                    format_seconds(t.committed_by_ns) + " (the history ends at " +
                    format_seconds(last_ns_) + ")");
  }
}

// [SECTION] Pipeline outputs

// duplicate: a consume-transform-produce pipeline is exactly-once only if each input's
// output is visible once. Two distinct visible output messages made from one input are one
// input transformed twice (an extra copy of one output message is check_log's duplicate).
// One per extra output.
void QueueJudge::check_pipeline_outputs() {
  std::map<PipelineSource, const PipelineOutput*> first;
  for (const PipelineOutput& out : log_.pipeline_outputs) {
    const LogMessage& m = log_.partitions[out.partition].messages[out.at];
    if (!visible(out.partition, m) || state_[m.message].first_visible != out.at) continue;
    const auto [it, inserted] = first.try_emplace(out.source, &out);
    if (inserted) continue;
    ++pipeline_duplicates_;
    result_.add("duplicate", "one input transformed twice: " +
                                 describe_op(out.source.producer, "message", out.source.seq) +
                                 " of " + out.source.partition + " became " +
                                 output_words(*it->second) + ", and again " + output_words(out));
  }
}

// [SECTION] Words

std::string QueueJudge::txn_words(std::uint32_t txn) const { return "txn " + txns_.name(txn); }

// "commit marker at ledger 4 entry 2 of out-partition-1"
std::string QueueJudge::marker_words(std::uint32_t partition, const LogMarker& marker) const {
  return std::string(marker.commit ? "commit" : "abort") + " marker at " +
         position_words(marker.ledger, marker.entry, -1) + " of " + partitions_.name(partition);
}

// What the partition's log decides for the transaction.
std::string QueueJudge::outcome_words(std::uint32_t partition, std::uint32_t txn) const {
  const LogMarker* marker = marker_of(partition, txn);
  if (marker == nullptr) {
    return "the log of " + partitions_.name(partition) + " holds no marker of " + txn_words(txn);
  }
  return txn_words(txn) + "'s first marker there is its " + marker_words(partition, *marker);
}

// What the client was told of the transaction's end, if anything: "; its commit returned
// ok at 1.200000s".
std::string QueueJudge::end_words(std::uint32_t txn) const {
  const TxnState& t = txn_state_[txn];
  std::string out;
  if (t.commit_ok_ns >= 0) out += "; its commit returned ok at " + format_seconds(t.commit_ok_ns);
  if (t.abort_ok_ns >= 0) out += "; its abort returned ok at " + format_seconds(t.abort_ok_ns);
  return out;
}

// "out message #3 of out-partition-0 at ledger 4 entry 0 batch index 0 (txn 0:5,
// acknowledged at 1.200000s)"
std::string QueueJudge::output_words(const PipelineOutput& out) const {
  const LogMessage& m = log_.partitions[out.partition].messages[out.at];
  std::string words = message_words(m.message) + " at " + log_position_words(out.partition, out.at);
  std::string notes;
  if (m.txn != kNoIndex) notes = txn_words(m.txn);
  if (const std::int64_t ok_ns = state_[m.message].ok_ns; ok_ns >= 0) {
    notes += (notes.empty() ? "" : ", ") + std::string("acknowledged at ") + format_seconds(ok_ns);
  }
  return notes.empty() ? words : words + " (" + notes + ")";
}

}  // namespace streamlab::workloads
