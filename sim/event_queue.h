#pragma once

// The kernel's event queue: a radix heap (Ahuja, Mehlhorn, Orlin & Tarjan, "Faster
// algorithms for the shortest path problem", 1990) over integer nanosecond times.
// Simulated time never goes backwards, so the queue is monotone and a radix heap gives
// amortized O(1) push and O(log T) pop with tiny constants, where a comparison heap
// pays an unpredictable branch per level.
//
// Ordering contract: entries pop in (time, key) order, where keys are issued in
// increasing order (the kernel's insertion sequence): equal times pop in insertion
// order, as FoundationDB's task queue does. Why that holds: an entry's bucket is a
// function of its time and the last popped time only, so a later entry with the same
// time always lands in the bucket the earlier one is in now, after it; redistribution
// moves buckets in order.
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
    SL_ASSERT(entry.time_ns >= 0);
    if (entry.time_ns < last_ns_) rebase(entry.time_ns);
    place(entry);
    ++size_;
  }

  // The earliest entry. Not const: it may redistribute a bucket to find it.
  const QueueEntry& peek() {
    SL_ASSERT(size_ > 0);
    if (head_ == buckets_[0].size()) refill();
    return buckets_[0][head_];
  }

  QueueEntry pop() {
    const QueueEntry entry = peek();
    ++head_;
    --size_;
    if (head_ == buckets_[0].size()) {
      buckets_[0].clear();
      head_ = 0;
      nonempty_ &= ~1ULL;
    }
    return entry;
  }

 private:
  static constexpr int kBuckets = 64;

  int bucket_of(std::int64_t time_ns) const {
    return std::bit_width(static_cast<std::uint64_t>(time_ns ^ last_ns_));
  }

  void place(const QueueEntry& entry) {
    const int b = bucket_of(entry.time_ns);
    SL_ASSERT(b < kBuckets);
    buckets_[b].push_back(entry);
    nonempty_ |= 1ULL << b;
  }

  // Bucket 0 is empty: move the smallest non-empty bucket down, around its minimum.
  void refill() {
    buckets_[0].clear();
    head_ = 0;
    nonempty_ &= ~1ULL;
    SL_ASSERT(nonempty_ != 0);
    const int b = std::countr_zero(nonempty_);
    std::vector<QueueEntry>& from = buckets_[b];
    std::int64_t min_ns = from.front().time_ns;
    for (const QueueEntry& e : from) min_ns = std::min(min_ns, e.time_ns);
    last_ns_ = min_ns;
    for (const QueueEntry& e : from) place(e);
    from.clear();
    nonempty_ &= ~(1ULL << b);
    SL_ASSERT(!buckets_[0].empty());
  }

  // A push earlier than the last peeked time (the kernel peeked past a run_until limit,
  // then something was scheduled before it): re-sort everything around the new time.
  // Rare, so simple.
  void rebase(std::int64_t time_ns) {
    std::vector<QueueEntry> all;
    all.reserve(size_);
    for (int b = 0; b < kBuckets; ++b) {
      const std::size_t start = b == 0 ? head_ : 0;
      all.insert(all.end(), buckets_[b].begin() + static_cast<std::ptrdiff_t>(start),
                 buckets_[b].end());
      buckets_[b].clear();
    }
    head_ = 0;
    nonempty_ = 0;
    std::sort(all.begin(), all.end(),
              [](const QueueEntry& a, const QueueEntry& b) { return a.before(b); });
    last_ns_ = time_ns;
    for (const QueueEntry& e : all) place(e);
  }

  std::array<std::vector<QueueEntry>, kBuckets> buckets_;
  std::size_t head_ = 0;  // Next entry of bucket 0 to pop.
  std::uint64_t nonempty_ = 0;
  std::int64_t last_ns_ = 0;
  std::size_t size_ = 0;
};

}  // namespace streamlab::sim
