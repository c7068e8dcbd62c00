#pragma once

// Callbacks that outlive their object do nothing. A broker unloads topics while metadata
// requests, ledger reads and timers they started are still pending; each such callback is
// wrapped by guard(), which runs it only while the Lifeline (a member of the object)
// lives. Single-threaded use only, like every node.

#include <memory>
#include <utility>

namespace streamlab {

class Lifeline {
 public:
  template <typename F>
  auto guard(F f) const {
    return [alive = std::weak_ptr<const char>(token_), f = std::move(f)](auto&&... args) mutable {
      if (!alive.expired()) f(std::forward<decltype(args)>(args)...);
    };
  }

 private:
  std::shared_ptr<const char> token_ = std::make_shared<const char>(0);
};

}  // namespace streamlab
