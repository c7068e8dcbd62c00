#pragma once

// The Runtime a simulated node sees: the kernel's time through this node's clock (offset
// and drift, possibly jumped by a fault), timers and disk completions as kernel events of
// this node, messages through the simulated network, and its own random stream.
// CPU: the network charges a message's receipt before the node sees it; within one
// callback, work charged (send() charges Work::send itself) runs back to back on the
// node's CPU, and each send or disk operation leaves when the work charged before it in
// that callback is done.

#include <cstdint>

#include "runtime/runtime.h"
#include "sim/rng.h"

namespace streamlab::sim {

class World;

class SimRuntime final : public Runtime {
 public:
  SimRuntime(World& world, NodeId self, std::int64_t clock_offset_ns,
             std::int64_t clock_drift_ppm, Rng rng);

  NodeId self() const override { return self_; }
  std::string_view node_name(NodeId id) const override;
  NodeId node_id(std::string_view name) const override;
  std::size_t node_count() const override;

  Nanos now() const override;
  TimerId after(Nanos delay_ns, TimerCallback fn) override;
  void cancel(TimerId id) override;
  void send(NodeId to, std::span<const std::uint8_t> bytes) override;
  void disconnect(NodeId peer) override;
  void disk_write(std::string_view file, std::uint64_t offset,
                  std::span<const std::uint8_t> bytes, IoCallback done) override;
  void disk_fsync(std::string_view file, IoCallback done) override;
  void disk_read(std::string_view file, std::uint64_t offset, std::uint64_t length,
                 ReadCallback done) override;
  void disk_truncate(std::string_view file, std::uint64_t size_bytes, IoCallback done) override;
  void disk_remove(std::string_view file, IoCallback done) override;
  void disk_list(ListCallback done) override;
  std::uint64_t random() override { return rng_.next_u64(); }
  void note(std::string_view what) override;
  void charge(Work work, std::uint64_t bytes) override;

  // Clock faults: the node's clock moves by delta (forward or back; now() stays monotonic
  // by holding still until the clock catches up with what it already reported).
  void jump_clock(std::int64_t delta_ns) { clock_offset_ns_ += delta_ns; }

 private:
  World& world_;
  NodeId self_;
  std::int64_t clock_offset_ns_;
  std::int64_t clock_drift_ppm_;
  mutable std::int64_t last_now_ns_ = INT64_MIN;
  // When the work charged in the current callback (the kernel's event `work_event_`)
  // is done.
  std::int64_t ready_ns();
  std::uint64_t work_event_ = UINT64_MAX;
  std::int64_t work_done_ns_ = 0;
  Rng rng_;
};

}  // namespace streamlab::sim
