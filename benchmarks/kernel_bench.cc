// The kernel's hot loop, in the shape of ns-3's utils/bench-scheduler.cc: N pending
// timers; each executed timer schedules one more at now + exponential(mean 100 ns), so
// the queue stays at N. items_per_second = executed events per second.

#include <benchmark/benchmark.h>

#include <cmath>
#include <vector>

#include "sim/kernel.h"

namespace streamlab::sim {
namespace {

// Delays are drawn up front (as ns-3's bench draws from its random variable) so the loop
// measures the queue, not the logarithm.
std::vector<std::int64_t> exponential_delays(std::size_t n, double mean_ns) {
  Rng rng(1);
  std::vector<std::int64_t> delays(n);
  for (auto& d : delays) d = std::llround(rng.exponential(mean_ns));
  return delays;
}

struct Churn {
  Kernel* kernel;
  const std::vector<std::int64_t>* delays;
  std::size_t* cursor;

  void operator()() const {
    const std::int64_t delay = (*delays)[(*cursor)++ & (delays->size() - 1)];
    kernel->schedule_after(delay, kKernelNode, EventKind::timer, Churn{*this});
  }
};

void BM_kernel_timer_events(benchmark::State& state) {
  const auto pending = static_cast<std::size_t>(state.range(0));
  const std::vector<std::int64_t> delays = exponential_delays(1 << 16, 100.0);
  Kernel kernel(1);
  std::size_t cursor = 0;
  for (std::size_t i = 0; i < pending; ++i) {
    kernel.schedule_after(delays[cursor++ & (delays.size() - 1)], kKernelNode,
                          EventKind::timer, Churn{&kernel, &delays, &cursor});
  }
  for (auto _ : state) {
    kernel.step();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(kernel.events_executed()));
  state.counters["pending"] = static_cast<double>(kernel.pending());
}
BENCHMARK(BM_kernel_timer_events)->Arg(1000)->Arg(100000);

// The same churn with each delay drawn as the event runs, from the kernel's own
// generator, as ns-3's bench draws from its random variable per event: the like-for-like
// figure for the peer comparison (benchmarks/peers/ns3_scheduler_churn.cc).
struct DrawingChurn {
  Kernel* kernel;

  void operator()() const {
    const auto delay = static_cast<std::int64_t>(kernel->rng().exponential(100.0));
    kernel->schedule_after(delay, kKernelNode, EventKind::timer, DrawingChurn{*this});
  }
};

void BM_kernel_timer_events_drawing(benchmark::State& state) {
  Kernel kernel(1);
  for (std::int64_t i = 0; i < state.range(0); ++i) {
    kernel.schedule_after(static_cast<std::int64_t>(kernel.rng().exponential(100.0)),
                          kKernelNode, EventKind::timer, DrawingChurn{&kernel});
  }
  for (auto _ : state) {
    kernel.step();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(kernel.events_executed()));
}
BENCHMARK(BM_kernel_timer_events_drawing)->Arg(1000)->Arg(100000);

}  // namespace
}  // namespace streamlab::sim
