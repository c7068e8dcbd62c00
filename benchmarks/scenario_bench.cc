// The macro benchmark: whole shipped scenarios, end to end (load, build the world, run,
// check). Reports events per wall second and how much faster than real time they run.

#include <benchmark/benchmark.h>

#include "workloads/scenario_loader.h"
#include "workloads/scenario_runner.h"

namespace streamlab::workloads {
namespace {

void BM_scenario(benchmark::State& state, const char* file) {
  const auto config = load_scenario(std::string(STREAMLAB_SCENARIOS) + "/" + file);
  if (!config) {
    state.SkipWithError(config.error().c_str());
    return;
  }
  std::uint64_t events = 0;
  double sim_s = 0;
  double acknowledged = 0;
  double delivered = 0;
  for (auto _ : state) {
    const RunResult r = run_scenario(config.value(), RunOptions{});
    events += r.events;
    sim_s += static_cast<double>(r.sim_time_ns) / 1e9;
    acknowledged += r.check.metrics.at("ops_ok");
    const auto deliveries = r.check.metrics.find("deliveries");
    if (deliveries != r.check.metrics.end()) delivered += deliveries->second;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
  state.counters["sim_s_per_wall_s"] = benchmark::Counter(sim_s, benchmark::Counter::kIsRate);
  // Counter adds, ledger appends or published messages acknowledged, per second of wall
  // time.
  state.counters["acked_per_wall_s"] = benchmark::Counter(acknowledged, benchmark::Counter::kIsRate);
  // Broker scenarios: messages delivered to consumers (end to end), per second of wall time.
  if (delivered > 0) {
    state.counters["delivered_per_wall_s"] = benchmark::Counter(delivered, benchmark::Counter::kIsRate);
  }
}
BENCHMARK_CAPTURE(BM_scenario, counter_basic, "counter-basic.textproto")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_scenario, counter_swarm, "counter-swarm.safe.textproto")->Unit(benchmark::kMillisecond);
// E = Qw = 3, Qa = 2: simulated ledger appends per second of wall time.
BENCHMARK_CAPTURE(BM_scenario, ledger_basic, "ledger-basic.textproto")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_scenario, ledger_swarm, "ledger-swarm.safe.textproto")->Unit(benchmark::kMillisecond);
// 3 bookies, 2 brokers, 4 partitions, 10,000 msg/s of 1 KB, one failover subscription:
// simulated messages published and delivered end to end per second of wall time.
BENCHMARK_CAPTURE(BM_scenario, broker_basic, "broker-basic.textproto")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_scenario, broker_swarm, "broker-swarm.safe.textproto")->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace streamlab::workloads
