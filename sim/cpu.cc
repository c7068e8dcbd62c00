#include "sim/cpu.h"

#include <algorithm>

#include "base/assert.h"

namespace streamlab::sim {

SimCpu::SimCpu(const CpuProfile& profile) : profile_(profile) {
  SL_ASSERT_MSG(profile.cores > 0, "a CPU needs at least one core");
  for (const WorkCost& c : profile.cost) SL_ASSERT(c.per_message_ns >= 0 && c.per_byte_ps >= 0);
  core_free_ns_.assign(profile.cores, 0);
}

std::int64_t SimCpu::cost_ns(Work work, std::uint64_t bytes) const {
  const WorkCost& c = profile_.of(work);
  return c.per_message_ns + static_cast<std::int64_t>(bytes) * c.per_byte_ps / 1000;
}

std::int64_t SimCpu::run(std::int64_t ready_ns, std::int64_t cost_ns) {
  SL_ASSERT_GE(cost_ns, 0);
  if (cost_ns == 0) return ready_ns;
  const auto core = std::min_element(core_free_ns_.begin(), core_free_ns_.end());
  const std::int64_t done = std::max(ready_ns, *core) + cost_ns;
  *core = done;
  busy_ns_ += cost_ns;
  return done;
}

void SimCpu::reset(std::int64_t now_ns) {
  std::fill(core_free_ns_.begin(), core_free_ns_.end(), now_ns);
}

}  // namespace streamlab::sim
