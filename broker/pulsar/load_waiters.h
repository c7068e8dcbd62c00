#pragma once

// Requests waiting for something a broker loads (a topic, the transaction coordinator):
// each is answered once, with NO_ERROR when it is ready or with the error that ended the
// load, and never inside the call that asked.

#include <functional>
#include <utility>
#include <vector>

#include "broker/pulsar/pulsar.pb.h"
#include "runtime/owned_timers.h"

namespace streamlab::pulsar {

class LoadWaiters {
 public:
  explicit LoadWaiters(Runtime& runtime) : timers_(runtime) {}

  // While loading, fn waits for finish(); otherwise it gets `answer`, from a timer.
  void add(bool loading, ServerError answer, std::function<void(ServerError)> fn) {
    if (loading) {
      waiting_.push_back(std::move(fn));
      return;
    }
    timers_.after(0, [fn = std::move(fn), answer] { fn(answer); });
  }

  // The load ended: every waiting request gets `result`, now.
  void finish(ServerError result) {
    std::vector<std::function<void(ServerError)>> waiting = std::move(waiting_);
    waiting_.clear();
    for (auto& fn : waiting) fn(result);
  }

 private:
  std::vector<std::function<void(ServerError)>> waiting_;
  OwnedTimers timers_;
};

}  // namespace streamlab::pulsar
