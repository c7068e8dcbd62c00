#include "sim/kernel.h"

#include "base/assert.h"

namespace streamlab::sim {

const char* to_string(EventKind kind) {
  switch (kind) {
    case EventKind::start:
      return "start";
    case EventKind::timer:
      return "timer";
    case EventKind::message:
      return "message";
    case EventKind::connection_broken:
      return "connection_broken";
    case EventKind::disk:
      return "disk";
    case EventKind::fault:
      return "fault";
    case EventKind::control:
      return "control";
  }
  return "unknown";
}

Kernel::Kernel(std::uint64_t seed) : seed_(seed), rng_(seed) {}

std::uint32_t Kernel::allocate_slot() {
  if (!free_slots_.empty()) {
    const std::uint32_t index = free_slots_.back();
    free_slots_.pop_back();
    return index;
  }
  SL_ASSERT_MSG(slots_allocated_ <= kSlotMask, "more than 16M pending events");
  if ((slots_allocated_ & (kChunkSize - 1)) == 0) {
    chunks_.push_back(std::make_unique<Slot[]>(kChunkSize));
  }
  return slots_allocated_++;
}

void Kernel::release_slot(std::uint32_t index) {
  Slot& s = slot(index);
  s.fn.reset();
  s.id = 0;
  free_slots_.push_back(index);
}

EventId Kernel::schedule_at(std::int64_t time_ns, std::uint32_t node, EventKind kind,
                            EventFn fn) {
  SL_ASSERT_MSG(time_ns >= now_, "event scheduled in the past");
  SL_ASSERT(fn);
  SL_ASSERT_MSG(next_sequence_ < (1ULL << (64 - kSlotBits)), "event sequence exhausted");
  const std::uint32_t index = allocate_slot();
  Slot& s = slot(index);
  s.fn = std::move(fn);
  s.id = (next_sequence_++ << kSlotBits) | index;
  s.node = node;
  s.kind = kind;
  s.cancelled = false;
  if (node != kKernelNode) {
    SL_ASSERT_LT(node, gates_.size());
    s.incarnation = gates_[node].incarnation;
  }
  queue_.push(QueueEntry{time_ns, s.id});
  return s.id;
}

bool Kernel::cancel(EventId id) {
  const auto index = static_cast<std::uint32_t>(id & kSlotMask);
  if (index >= slots_allocated_) return false;
  Slot& s = slot(index);
  if (s.id == 0 || s.id != id || s.cancelled) return false;
  s.cancelled = true;
  s.fn.reset();
  return true;
}

void Kernel::fold_into_trace(std::int64_t time_ns, std::uint32_t node, EventKind kind) {
  // Multiply-xorshift folding: cheap, and any change of time, node or kind in any event
  // changes every later hash.
  std::uint64_t h = trace_hash_ ^ static_cast<std::uint64_t>(time_ns);
  h *= 0x9e3779b97f4a7c15ULL;
  h ^= (static_cast<std::uint64_t>(node) << 8) | static_cast<std::uint64_t>(kind);
  h *= 0xff51afd7ed558ccdULL;
  trace_hash_ = h ^ (h >> 32);
}

bool Kernel::step() {
  while (!queue_.empty()) {
    if (run_top()) return true;
  }
  return false;
}

bool Kernel::run_top() {
  if (const QueueEntry* next = queue_.following()) {
    // The next event's slot is a likely cache miss once slots outgrow the cache; start
    // loading it while this one runs (100,000 pending: 4.6-4.9 M vs 2.9-3.0 M events/s
    // without, measured side by side).
    __builtin_prefetch(&slot(static_cast<std::uint32_t>(next->key & kSlotMask)));
  }
  const QueueEntry entry = queue_.pop();
  const auto index = static_cast<std::uint32_t>(entry.key & kSlotMask);
  Slot& s = slot(index);
  SL_ASSERT_NE(s.id, 0);
  if (s.cancelled) {
    release_slot(index);
    return false;
  }
  if (s.node != kKernelNode) {
    NodeGate& gate = gates_[s.node];
    if (gate.incarnation != s.incarnation || gate.down) {
      release_slot(index);
      return false;
    }
    if (gate.paused_until_ns > entry.time_ns) {
      // A paused node runs nothing; its events wait, in their order, for the resume. A
      // pause extended while events wait must not let later events overtake them (a
      // connection's messages would arrive out of order): the later ones join the waiting
      // ones at the old resume time, and from there all move on together, in order.
      if (gate.deferred_to_ns <= entry.time_ns || gate.deferred_to_ns > gate.paused_until_ns) {
        gate.deferred_to_ns = gate.paused_until_ns;
      }
      SL_ASSERT_GT(gate.deferred_to_ns, entry.time_ns);
      queue_.push(QueueEntry{gate.deferred_to_ns, (next_sequence_++ << kSlotBits) | index});
      return false;
    }
  }
  SL_ASSERT_GE(entry.time_ns, now_);
  now_ = entry.time_ns;
  fold_into_trace(entry.time_ns, s.node, s.kind);
  // Marked before running so that the event cancelling itself is the documented no-op
  // rather than destroying the closure that is executing.
  s.cancelled = true;
  s.fn();
  if (observer_) {
    observer_(EventRecord{events_executed_, entry.time_ns, s.node, s.kind, trace_hash_});
  }
  ++events_executed_;
  release_slot(index);
  return true;
}

void Kernel::run_until(std::int64_t limit_ns) {
  SL_ASSERT_GE(limit_ns, now_);
  while (!queue_.empty() && queue_.peek().time_ns <= limit_ns) run_top();
  if (limit_ns != kTimeMax) now_ = limit_ns;
}

bool Kernel::run_until_capped(std::int64_t limit_ns, std::uint64_t events_cap) {
  SL_ASSERT_GE(limit_ns, now_);
  while (!queue_.empty() && queue_.peek().time_ns <= limit_ns) {
    if (events_executed_ >= events_cap) return false;
    run_top();
  }
  if (limit_ns != kTimeMax) now_ = limit_ns;
  return true;
}

std::uint32_t Kernel::add_node() {
  gates_.push_back(NodeGate{});
  return static_cast<std::uint32_t>(gates_.size() - 1);
}

std::uint32_t Kernel::incarnation(std::uint32_t node) const {
  SL_ASSERT_LT(node, gates_.size());
  return gates_[node].incarnation;
}

void Kernel::bump_incarnation(std::uint32_t node) {
  SL_ASSERT_LT(node, gates_.size());
  ++gates_[node].incarnation;
}

void Kernel::set_down(std::uint32_t node, bool down) {
  SL_ASSERT_LT(node, gates_.size());
  gates_[node].down = down;
}

void Kernel::pause_until(std::uint32_t node, std::int64_t until_ns) {
  SL_ASSERT_LT(node, gates_.size());
  SL_ASSERT_GE(until_ns, now_);
  gates_[node].paused_until_ns = until_ns;
}

std::int64_t Kernel::paused_until(std::uint32_t node) const {
  SL_ASSERT_LT(node, gates_.size());
  return gates_[node].paused_until_ns;
}

bool Kernel::paused(std::uint32_t node) const {
  SL_ASSERT_LT(node, gates_.size());
  return gates_[node].paused_until_ns > now_;
}

}  // namespace streamlab::sim
