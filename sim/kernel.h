#pragma once

// The deterministic discrete-event kernel: an event queue ordered by (time ns, insertion
// sequence), node gates that drop the events of a crashed incarnation and defer those of
// a paused node, and a trace hash folded from every executed event.
//
// Contract: time never goes backwards; an event scheduled for a time before now() is a
// programmer error; events with equal times run in insertion order; no allocation per
// event once the queue and slot storage have grown to the run's peak.

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "base/inline_function.h"
#include "sim/event_queue.h"
#include "sim/event_kind.h"
#include "sim/rng.h"

namespace streamlab::sim {

using EventFn = InlineFunction<void()>;
using EventId = std::uint64_t;

inline constexpr std::uint32_t kKernelNode = 0xffffffffu;
inline constexpr std::int64_t kTimeMax = INT64_MAX;

struct EventRecord {
  std::uint64_t index;  // Executed events counted from 0.
  std::int64_t time_ns;
  std::uint32_t node;
  EventKind kind;
  std::uint64_t trace_hash;  // The hash after folding this event.
};

class Kernel {
 public:
  explicit Kernel(std::uint64_t seed);
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  std::int64_t now() const { return now_; }
  std::uint64_t seed() const { return seed_; }
  Rng& rng() { return rng_; }

  // `node` is kKernelNode for events that belong to no node; otherwise the event is
  // dropped if the node's incarnation changes before it runs, and deferred while the node
  // is paused.
  EventId schedule_at(std::int64_t time_ns, std::uint32_t node, EventKind kind, EventFn fn);
  EventId schedule_after(std::int64_t delay_ns, std::uint32_t node, EventKind kind,
                         EventFn fn) {
    return schedule_at(now_ + delay_ns, node, kind, std::move(fn));
  }
  // True when the event was pending and is now cancelled.
  bool cancel(EventId id);

  // Runs the next event; false when the queue is empty.
  bool step();
  // Runs every event with time <= limit, then sets now() to limit.
  void run_until(std::int64_t limit_ns);
  // Like run_until, but stops once events_executed() reaches `events_cap`: true when it
  // got to `limit_ns` (now() is then limit_ns), false when the cap stopped it first (now()
  // is then the time of the last event run). For runs on a budget.
  bool run_until_capped(std::int64_t limit_ns, std::uint64_t events_cap);
  void run() { run_until(kTimeMax); }
  bool idle() const { return queue_.empty(); }
  // When the next pending event is due (it may be a cancelled one); kTimeMax if none.
  std::int64_t next_time() { return queue_.empty() ? kTimeMax : queue_.peek().time_ns; }
  std::size_t pending() const { return queue_.size(); }

  // Node gates.
  std::uint32_t add_node();
  std::uint32_t incarnation(std::uint32_t node) const;
  // Drops every pending event of the node's current incarnation, and while the node is
  // down, every event scheduled for it.
  void bump_incarnation(std::uint32_t node);
  void set_down(std::uint32_t node, bool down);
  // Sets when the node's pause ends (now() lifts it).
  void pause_until(std::uint32_t node, std::int64_t until_ns);
  std::int64_t paused_until(std::uint32_t node) const;
  bool paused(std::uint32_t node) const;

  std::uint64_t trace_hash() const { return trace_hash_; }
  std::uint64_t events_executed() const { return events_executed_; }
  // Called after every executed event; for the event log and determinism checks.
  void set_observer(std::function<void(const EventRecord&)> observer) {
    observer_ = std::move(observer);
  }

 private:
  // One cache line per pending event: the hot loop touches one line per event.
  struct alignas(64) Slot {
    EventFn fn;
    // The key it was scheduled with, (sequence << kSlotBits) | slot index; what cancel()
    // matches. A pause re-queues the event under a new key but keeps this one. 0: free.
    EventId id = 0;
    std::uint32_t node = kKernelNode;
    std::uint32_t incarnation = 0;
    EventKind kind = EventKind::control;
    bool cancelled = false;
  };
  static_assert(sizeof(Slot) == 64);
  struct NodeGate {
    std::uint32_t incarnation = 0;
    bool down = false;
    std::int64_t paused_until_ns = 0;
    // Where the node's deferred events wait now: the resume time when they were deferred,
    // which an extended pause leaves behind paused_until_ns (see run_top).
    std::int64_t deferred_to_ns = 0;
  };

  static constexpr int kSlotBits = 24;
  static constexpr std::uint64_t kSlotMask = (1ULL << kSlotBits) - 1;
  static constexpr int kChunkBits = 12;
  static constexpr std::uint32_t kChunkSize = 1u << kChunkBits;

  Slot& slot(std::uint32_t index) {
    return chunks_[index >> kChunkBits][index & (kChunkSize - 1)];
  }
  std::uint32_t allocate_slot();
  void release_slot(std::uint32_t index);
  // Pops the earliest entry; true when it ran (false: cancelled, dead or deferred).
  bool run_top();
  void fold_into_trace(std::int64_t time_ns, std::uint32_t node, EventKind kind);

  std::uint64_t seed_;
  Rng rng_;
  std::int64_t now_ = 0;
  std::uint64_t next_sequence_ = 1;  // From 1, so that no event id is 0 (a free slot).
  EventQueue queue_;
  std::vector<std::unique_ptr<Slot[]>> chunks_;
  std::vector<std::uint32_t> free_slots_;
  std::uint32_t slots_allocated_ = 0;
  std::vector<NodeGate> gates_;
  std::uint64_t trace_hash_ = 0xcbf29ce484222325ULL;
  std::uint64_t events_executed_ = 0;
  std::function<void(const EventRecord&)> observer_;
};

}  // namespace streamlab::sim
