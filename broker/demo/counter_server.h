#pragma once

// The demonstration service: a durable counter. Clients send Add; the server appends
// each add to its log with group commit (every add that arrives while a write is in
// flight goes into the next write), fsyncs when `fsync` is on, and only then replies.
// With fsync off it replies after the write reaches the page cache, so a crash can lose
// acknowledged adds: the first unsafe knob, and the one the foundation's checker catches.
// On start it replays its log, cuts a torn or corrupt tail, and serves.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "broker/demo/counter.pb.h"
#include "runtime/runtime.h"

namespace streamlab::demo {

struct CounterServerConfig {
  bool fsync = true;
  std::size_t max_pending = 10'000;  // Adds waiting for the next write; beyond: rejected.
  std::size_t max_batch = 1'000;     // Adds per write.
};

class CounterServer final : public Node {
 public:
  CounterServer(Runtime& runtime, CounterServerConfig config);

  void on_start() override;
  void on_message(NodeId from, std::span<const std::uint8_t> bytes) override;
  void on_connection_broken(NodeId peer) override {}

  bool serving() const { return state_ == State::serving; }
  std::int64_t value() const { return value_; }

 private:
  enum class State : std::uint8_t { recovering, serving };
  struct PendingAdd {
    NodeId from;
    std::uint64_t request_id;
    std::int64_t amount;
  };

  void recovered(IoStatus status, std::span<const std::uint8_t> bytes);
  void flush();
  void written(IoStatus status);
  void durable(IoStatus status);
  void reply(const PendingAdd& add, bool ok, const char* error);

  Runtime& rt_;
  CounterServerConfig config_;
  State state_ = State::recovering;
  std::int64_t value_ = 0;
  std::uint64_t log_end_ = 0;
  // Where the last recovery read found damage (a torn tail, or a misread); none yet.
  std::optional<std::uint64_t> damage_seen_at_;
  bool writing_ = false;
  std::vector<PendingAdd> pending_;
  std::vector<PendingAdd> in_flight_;
  std::vector<std::uint8_t> write_buffer_;
  std::vector<std::uint8_t> send_buffer_;
  CounterMessage message_;
};

}  // namespace streamlab::demo
