#pragma once

// The kernel's event queue: a radix heap (Ahuja, Mehlhorn, Orlin & Tarjan, "Faster
// algorithms for the shortest path problem", 1990) over integer nanosecond times, with
// base-64 digits. Simulated time never goes backwards, so the queue is monotone: an entry
// is filed by the highest digit in which its time differs from the last popped time, and
// by its value of that digit. Push is O(1); an entry moves down at most once per digit,
// so a pop costs O(1) amortized, with no comparison branch per level as a comparison
// heap has.
//
// Ordering contract: entries pop in (time, key) order, where keys are issued in
// increasing order (the kernel's insertion sequence): equal times pop in insertion
// order, as FoundationDB's task queue does. Why that holds: an entry's bucket is a
// function of its time and the last popped time only, so a later entry with the same
// time always lands in the bucket the earlier one is in now, after it; buckets move in
// order.
//
// Capacity grows to the run's peak and is then reused: no allocation per event.

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <vector>

#include "base/assert.h"

namespace streamlab::sim {

struct QueueEntry {
  std::int64_t time_ns;
  std::uint64_t key;

  bool before(const QueueEntry& other) const {
    return time_ns < other.time_ns || (time_ns == other.time_ns && key < other.key);
  }
};

class EventQueue {
 public:
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }

  void push(QueueEntry entry) {
    SL_ASSERT_GE(entry.time_ns, 0);
    if (entry.time_ns < last_ns_) rebase(entry.time_ns);
    place(entry);
    ++size_;
  }

  // The earliest entry. Not const: it may move a bucket down to find it.
  const QueueEntry& peek() {
    SL_ASSERT_GT(size_, 0);
    if (head_ == now_.size()) refill();
    return now_[head_];
  }

  // The entry after the earliest, when it is already known without work; for prefetching.
  const QueueEntry* following() const {
    return head_ + 1 < now_.size() ? &now_[head_ + 1] : nullptr;
  }

  QueueEntry pop() {
    const QueueEntry entry = peek();
    ++head_;
    --size_;
    return entry;
  }

 private:
  // Six-bit digits: a timer a microsecond out moves down about twice; 11 x 64 buckets.
  static constexpr int kDigitBits = 6;
  static constexpr int kDigits = (64 + kDigitBits - 1) / kDigitBits;
  static constexpr int kValues = 1 << kDigitBits;
  using ValueMask = std::uint64_t;

  void place(const QueueEntry& entry) {
    const auto diff = static_cast<std::uint64_t>(entry.time_ns ^ last_ns_);
    if (diff == 0) {
      now_.push_back(entry);
      return;
    }
    const int digit = (std::bit_width(diff) - 1) / kDigitBits;
    const int value =
        static_cast<int>((static_cast<std::uint64_t>(entry.time_ns) >> (digit * kDigitBits)) &
                         (kValues - 1));
    buckets_[digit * kValues + value].push_back(entry);
    values_[digit] |= ValueMask{1} << value;
    digits_ |= 1u << digit;
  }

  // Nothing is due at the last time: move the earliest bucket down around its minimum.
  void refill() {
    now_.clear();
    head_ = 0;
    SL_ASSERT_NE(digits_, 0);
    const int digit = std::countr_zero(digits_);
    const int value = std::countr_zero(values_[digit]);
    std::vector<QueueEntry>& from = buckets_[digit * kValues + value];
    values_[digit] &= ~(ValueMask{1} << value);
    if (values_[digit] == 0) digits_ &= ~(1u << digit);
    if (digit == 0) {
      // Every entry of a lowest-digit bucket has the same time: it becomes `now_` whole.
      // Copied rather than swapped, so each vector keeps the capacity it grew to.
      last_ns_ = from.front().time_ns;
      now_.assign(from.begin(), from.end());
      from.clear();
      return;
    }
    std::int64_t min_ns = from.front().time_ns;
    for (const QueueEntry& e : from) min_ns = std::min(min_ns, e.time_ns);
    last_ns_ = min_ns;
    for (const QueueEntry& e : from) place(e);
    from.clear();
    SL_ASSERT(!now_.empty());
  }

  // A push earlier than the last peeked time (the kernel peeked past a run_until limit,
  // then something was scheduled before it): re-file everything around the new time.
  // Rare, so simple.
  void rebase(std::int64_t time_ns) {
    std::vector<QueueEntry> all(now_.begin() + static_cast<std::ptrdiff_t>(head_), now_.end());
    now_.clear();
    head_ = 0;
    for (auto& bucket : buckets_) {
      all.insert(all.end(), bucket.begin(), bucket.end());
      bucket.clear();
    }
    values_.fill(0);
    digits_ = 0;
    std::sort(all.begin(), all.end(),
              [](const QueueEntry& a, const QueueEntry& b) { return a.before(b); });
    last_ns_ = time_ns;
    for (const QueueEntry& e : all) place(e);
  }

  std::vector<QueueEntry> now_;  // Entries due at last_ns_, in order; popped from head_.
  std::size_t head_ = 0;
  std::array<std::vector<QueueEntry>, kDigits * kValues> buckets_;
  std::array<ValueMask, kDigits> values_{};  // Per digit: which values hold entries.
  std::uint32_t digits_ = 0;                  // Which digits hold entries.
  std::int64_t last_ns_ = 0;
  std::size_t size_ = 0;
};

}  // namespace streamlab::sim
