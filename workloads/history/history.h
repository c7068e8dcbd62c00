#pragma once

// The client history, Jepsen-style: every operation is recorded when invoked and again
// when it completes as ok (it happened), fail (it certainly did not happen) or info (the
// client cannot know). Checkers judge only this and the final state of the logs.

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace streamlab::workloads {

enum class OpType : std::uint8_t { invoke, ok, fail, info };

const char* to_string(OpType type);

struct Op {
  std::int64_t time_ns = 0;
  std::uint32_t process = 0;  // The client node.
  OpType type = OpType::invoke;
  std::uint64_t request_id = 0;
  std::int64_t amount = 0;
  std::int64_t value = 0;  // ok: the counter after this add.
  std::string error;       // fail / info: why.
};

// Each workload records its own kind of operation (T has a time_ns the history sets).
template <typename T>
class HistoryOf {
 public:
  // The clock stamps every op: the kernel's true time in simulation, not a node's clock,
  // so ops of different clients are comparable.
  explicit HistoryOf(std::function<std::int64_t()> clock) : clock_(std::move(clock)) {}

  void record(T op) {
    op.time_ns = clock_();
    if (sink_) {
      sink_(op);
    } else {
      ops_.push_back(std::move(op));
    }
  }
  // From now on ops go to `sink` as they are recorded and are not kept: for a long load
  // test that measures its ops and has no use for the history itself.
  void stream_to(std::function<void(const T&)> sink) { sink_ = std::move(sink); }
  const std::vector<T>& ops() const { return ops_; }
  // Hands over the ops recorded so far and forgets them, for a process that streams its
  // history to a file rather than keeping all of it in memory.
  std::vector<T> take() { return std::exchange(ops_, {}); }

 private:
  std::function<std::int64_t()> clock_;
  std::function<void(const T&)> sink_;
  std::vector<T> ops_;
};

using History = HistoryOf<Op>;

}  // namespace streamlab::workloads
