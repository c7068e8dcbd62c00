#pragma once

// Timers that belong to an object: destroying the object (a member OwnedTimers) cancels
// what it scheduled, so a timer never runs on a destroyed object. The callbacks are
// std::function, for the occasional timer and deferred completion of broker-level code;
// hot paths use Runtime::after directly.

#include <cstdint>
#include <functional>
#include <map>
#include <utility>

#include "runtime/runtime.h"

namespace streamlab {

class OwnedTimers {
 public:
  explicit OwnedTimers(Runtime& runtime) : rt_(runtime) {}
  OwnedTimers(const OwnedTimers&) = delete;
  OwnedTimers& operator=(const OwnedTimers&) = delete;
  ~OwnedTimers() {
    for (const auto& [id, timer] : pending_) rt_.cancel(timer.first);
  }

  // Runs fn after delay (0: later, never inside this call). Returns a handle for cancel().
  std::uint64_t after(Nanos delay_ns, std::function<void()> fn) {
    const std::uint64_t id = next_id_++;
    const TimerId timer = rt_.after(delay_ns, [this, id] { fire(id); });
    pending_.emplace(id, std::make_pair(timer, std::move(fn)));
    return id;
  }

  void cancel(std::uint64_t id) {
    const auto it = pending_.find(id);
    if (it == pending_.end()) return;
    rt_.cancel(it->second.first);
    pending_.erase(it);
  }

 private:
  // fn may destroy the owner, and this with it: nothing touches this after the call.
  void fire(std::uint64_t id) {
    const auto it = pending_.find(id);
    if (it == pending_.end()) return;
    std::function<void()> fn = std::move(it->second.second);
    pending_.erase(it);
    fn();
  }

  Runtime& rt_;
  std::map<std::uint64_t, std::pair<TimerId, std::function<void()>>> pending_;
  std::uint64_t next_id_ = 1;
};

}  // namespace streamlab
