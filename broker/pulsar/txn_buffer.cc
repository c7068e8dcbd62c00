#include "broker/pulsar/txn_buffer.h"

#include <algorithm>

#include "base/assert.h"

namespace streamlab::pulsar {

void TxnBuffer::wrote(TxnKey txn, Pos p) {
  SL_ASSERT_NE(p, 0);
  if (is_ended(txn)) {
    control_.insert(p);
    return;
  }
  entries_[p] = txn;
  first_.try_emplace(txn, p);
  if (first_data_.try_emplace(txn, p).second) by_first_data_[p] = txn;
}

void TxnBuffer::hold(TxnKey txn, const std::string& subscription,
                     const std::vector<Pos>& positions) {
  SL_ASSERT(!is_ended(txn));
  auto& held = held_[subscription];
  std::vector<Pos>& mine = held_by_txn_[txn][subscription];
  for (const Pos p : positions) {
    const auto [it, inserted] = held.try_emplace(p, txn);
    SL_ASSERT_MSG(inserted || it->second == txn, "txn buffer: an ack held by two transactions");
    if (inserted) mine.push_back(p);
  }
}

void TxnBuffer::held_record(TxnKey txn, Pos p) {
  SL_ASSERT_NE(p, 0);
  control_.insert(p);
  if (!is_ended(txn)) first_.try_emplace(txn, p);
}

TxnBuffer::HeldAcks TxnBuffer::ended(TxnKey txn, bool commit, Pos marker) {
  control_.insert(marker);
  ending_.erase(txn);
  if (is_ended(txn)) return {};
  (commit ? committed_ : aborted_).insert(txn);
  first_.erase(txn);
  if (const auto it = first_data_.find(txn); it != first_data_.end()) {
    by_first_data_.erase(it->second);
    first_data_.erase(it);
  }
  HeldAcks acks;
  if (const auto it = held_by_txn_.find(txn); it != held_by_txn_.end()) {
    acks = std::move(it->second);
    held_by_txn_.erase(it);
  }
  for (const auto& [subscription, positions] : acks) {
    auto& held = held_[subscription];
    for (const Pos p : positions) held.erase(p);
  }
  return acks;
}

const TxnKey* TxnBuffer::holder(const std::string& subscription, Pos p) const {
  const auto sub = held_.find(subscription);
  if (sub == held_.end()) return nullptr;
  const auto it = sub->second.find(p);
  return it == sub->second.end() ? nullptr : &it->second;
}

Pos TxnBuffer::first_open_entry() const {
  Pos first = 0;
  for (const auto& [txn, p] : first_) first = first == 0 ? p : std::min(first, p);
  return first;
}

TxnBuffer::Visibility TxnBuffer::visibility(Pos p, bool read_uncommitted) const {
  if (control_.contains(p)) return Visibility::skip;
  const auto it = entries_.find(p);
  if (read_uncommitted) return Visibility::deliver;
  if (it != entries_.end() && aborted_.contains(it->second)) return Visibility::skip;
  const Pos max_read = max_read_position();
  return max_read != 0 && p >= max_read ? Visibility::wait : Visibility::deliver;
}

void TxnBuffer::forget_before(Pos p) {
  const Pos keep = first_open_entry();
  SL_ASSERT_MSG(keep == 0 || keep >= p, "txn buffer: trimming an open transaction's entries");
  entries_.erase(entries_.begin(), entries_.lower_bound(p));
  control_.erase(control_.begin(), control_.lower_bound(p));
}

}  // namespace streamlab::pulsar
