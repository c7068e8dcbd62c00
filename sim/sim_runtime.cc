#include "sim/sim_runtime.h"

#include <algorithm>

#include "base/assert.h"
#include "sim/world.h"

namespace streamlab::sim {

namespace {

constexpr std::int64_t kPpm = 1'000'000;

}  // namespace

SimRuntime::SimRuntime(World& world, NodeId self, std::int64_t clock_offset_ns,
                       std::int64_t clock_drift_ppm, Rng rng)
    : world_(world),
      self_(self),
      clock_offset_ns_(clock_offset_ns),
      clock_drift_ppm_(clock_drift_ppm),
      rng_(rng) {
  SL_ASSERT_MSG(clock_drift_ppm > -kPpm / 2 && clock_drift_ppm < kPpm / 2,
                "clock drift beyond +-50%");
}

std::string_view SimRuntime::node_name(NodeId id) const {
  SL_ASSERT_LT(id, world_.node_count());
  return world_.topology().nodes[id].name;
}

NodeId SimRuntime::node_id(std::string_view name) const { return world_.node_id(name); }

std::size_t SimRuntime::node_count() const { return world_.node_count(); }

Nanos SimRuntime::now() const {
  const std::int64_t t = world_.kernel().now();
  const std::int64_t local = clock_offset_ns_ + t + t / kPpm * clock_drift_ppm_ +
                             t % kPpm * clock_drift_ppm_ / kPpm;
  last_now_ns_ = std::max(last_now_ns_, local);
  return last_now_ns_;
}

TimerId SimRuntime::after(Nanos delay_ns, TimerCallback fn) {
  SL_ASSERT_MSG(delay_ns >= 0, "timer with a negative delay");
  // A timer of d on a clock running (1 + drift) fast fires after d / (1 + drift) real time,
  // rounded up: a timer must never fire before the node's own clock has advanced by d.
  const __int128 rate = kPpm + clock_drift_ppm_;
  const auto sim_delay =
      static_cast<std::int64_t>((static_cast<__int128>(delay_ns) * kPpm + rate - 1) / rate);
  return world_.kernel().schedule_after(sim_delay, self_, EventKind::timer, std::move(fn));
}

void SimRuntime::cancel(TimerId id) { world_.kernel().cancel(id); }

std::int64_t SimRuntime::ready_ns() {
  const Kernel& kernel = world_.kernel();
  // Outside any event (a test's direct call) the count stays while time moves on.
  if (work_event_ != kernel.events_executed() || work_done_ns_ < kernel.now()) {
    work_event_ = kernel.events_executed();
    work_done_ns_ = kernel.now();
  }
  return work_done_ns_;
}

void SimRuntime::charge(Work work, std::uint64_t bytes) {
  SimCpu& cpu = world_.cpu(self_);
  const std::int64_t cost = cpu.cost_ns(work, bytes);
  if (cost == 0) return;
  const std::int64_t start = ready_ns();
  work_done_ns_ = cpu.run(start, cost);
}

void SimRuntime::send(NodeId to, std::span<const std::uint8_t> bytes) {
  SL_ASSERT_MSG(to < world_.node_count(), "send to an unknown node");
  charge(Work::send, bytes.size());
  world_.network().send(self_, to, bytes, ready_ns());
}

// A reset of the pair: both ends are told, as with a fault.
void SimRuntime::disconnect(NodeId peer) {
  SL_ASSERT_MSG(peer < world_.node_count() && peer != self_, "disconnect from an unknown node");
  world_.network().reset_connection(self_, peer);
}

void SimRuntime::disk_write(std::string_view file, std::uint64_t offset,
                            std::span<const std::uint8_t> bytes, IoCallback done) {
  world_.disk(self_).write(file, offset, bytes, std::move(done), ready_ns());
}

void SimRuntime::disk_fsync(std::string_view file, IoCallback done) {
  world_.disk(self_).fsync(file, std::move(done), ready_ns());
}

void SimRuntime::disk_read(std::string_view file, std::uint64_t offset, std::uint64_t length,
                           ReadCallback done) {
  world_.disk(self_).read(file, offset, length, std::move(done), ready_ns());
}

void SimRuntime::disk_truncate(std::string_view file, std::uint64_t size_bytes,
                               IoCallback done) {
  world_.disk(self_).truncate(file, size_bytes, std::move(done), ready_ns());
}

void SimRuntime::disk_remove(std::string_view file, IoCallback done) {
  world_.disk(self_).remove(file, std::move(done), ready_ns());
}

void SimRuntime::disk_list(ListCallback done) {
  world_.disk(self_).list(std::move(done), ready_ns());
}

void SimRuntime::note(std::string_view what) { world_.trace_note(self_, what); }

}  // namespace streamlab::sim
