#pragma once

// A node's CPU: `cores` identical servers. A piece of work ready at t starts on the core
// that is free earliest, no sooner than t, and holds it for its cost; so a node whose
// work outgrows its cores queues it, and everything waiting on that work is late.

#include <cstdint>
#include <vector>

#include "runtime/runtime.h"
#include "sim/topology.h"

namespace streamlab::sim {

class SimCpu {
 public:
  explicit SimCpu(const CpuProfile& profile);

  std::int64_t cost_ns(Work work, std::uint64_t bytes) const;
  // Runs `cost_ns` of work ready at `ready_ns`; returns when it is done.
  std::int64_t run(std::int64_t ready_ns, std::int64_t cost_ns);
  // The node crashed: its queued work is gone.
  void reset(std::int64_t now_ns);

  std::uint32_t cores() const { return static_cast<std::uint32_t>(core_free_ns_.size()); }
  // Core time used since the start, summed over cores, including work booked to run later.
  std::int64_t busy_ns() const { return busy_ns_; }

 private:
  CpuProfile profile_;
  std::vector<std::int64_t> core_free_ns_;
  std::int64_t busy_ns_ = 0;
};

}  // namespace streamlab::sim
