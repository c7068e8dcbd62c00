#pragma once

// A 4-ary min-heap of (time, key) pairs. The key packs the insertion sequence above the
// event's slot index, so comparing (time, key) orders ties by insertion sequence, as
// FoundationDB's task queue does: the simulation must not depend on heap internals.
// Four children per node keep a sift-down within one or two cache lines.

#include <cstdint>
#include <vector>

#include "base/assert.h"

namespace streamlab::sim {

struct HeapEntry {
  std::int64_t time_ns;
  std::uint64_t key;

  bool before(const HeapEntry& other) const {
    return time_ns < other.time_ns || (time_ns == other.time_ns && key < other.key);
  }
};

class EventHeap {
 public:
  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }
  const HeapEntry& top() const {
    SL_ASSERT(!entries_.empty());
    return entries_.front();
  }
  void reserve(std::size_t n) { entries_.reserve(n); }

  void push(HeapEntry entry) {
    entries_.push_back(entry);
    sift_up(entries_.size() - 1);
  }

  HeapEntry pop() {
    SL_ASSERT(!entries_.empty());
    const HeapEntry result = entries_.front();
    const HeapEntry last = entries_.back();
    entries_.pop_back();
    if (!entries_.empty()) sift_down(last);
    return result;
  }

 private:
  static constexpr std::size_t kArity = 4;

  void sift_up(std::size_t i) {
    const HeapEntry entry = entries_[i];
    while (i > 0) {
      const std::size_t parent = (i - 1) / kArity;
      if (!entry.before(entries_[parent])) break;
      entries_[i] = entries_[parent];
      i = parent;
    }
    entries_[i] = entry;
  }

  // Places `entry` (the former last element) starting from the root.
  void sift_down(HeapEntry entry) {
    const std::size_t n = entries_.size();
    std::size_t i = 0;
    while (true) {
      const std::size_t first = i * kArity + 1;
      if (first >= n) break;
      std::size_t best = first;
      const std::size_t end = first + kArity < n ? first + kArity : n;
      for (std::size_t c = first + 1; c < end; ++c) {
        if (entries_[c].before(entries_[best])) best = c;
      }
      if (!entries_[best].before(entry)) break;
      entries_[i] = entries_[best];
      i = best;
    }
    entries_[i] = entry;
  }

  std::vector<HeapEntry> entries_;
};

}  // namespace streamlab::sim
