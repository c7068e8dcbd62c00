// The kernel's hot path allocates nothing per event once its queue and slot storage have
// grown to the run's peak: counted by replacing the global allocation functions in this
// test binary. The radix queue still allocates the first time a bucket for a far digit is
// used (once per 262 us of simulated time here), so the bound is "almost never", not 0.

#include <gtest/gtest.h>

#include <cstdlib>
#include <new>

#include "sim/kernel.h"

namespace {

std::size_t g_allocations = 0;

}  // namespace

void* operator new(std::size_t size) {
  ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace streamlab::sim {
namespace {

struct Churn {
  Kernel* kernel;
  Rng* rng;
  void operator()() const {
    kernel->schedule_after(static_cast<std::int64_t>(rng->exponential(100.0)), kKernelNode,
                           EventKind::timer, Churn{*this});
  }
};

TEST(AllocationTest, SteadyTimerChurnAllocatesNothingPerEvent) {
  Kernel kernel(1);
  Rng rng(2);
  for (int i = 0; i < 1000; ++i) {
    kernel.schedule_after(static_cast<std::int64_t>(rng.exponential(100.0)), kKernelNode,
                          EventKind::timer, Churn{&kernel, &rng});
  }
  for (int i = 0; i < 3'000'000; ++i) kernel.step();  // Grow everything to its peak.
  const std::size_t before = g_allocations;
  for (int i = 0; i < 1'000'000; ++i) kernel.step();
  EXPECT_LE(g_allocations - before, 10u) << "allocations in a million events";
  EXPECT_EQ(kernel.pending(), 1000u);
}

}  // namespace
}  // namespace streamlab::sim
