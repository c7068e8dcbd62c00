// The macro benchmark: whole shipped scenarios, end to end (load, build the world, run,
// check). Reports events per wall second and how much faster than real time they run.

#include <benchmark/benchmark.h>

#include <algorithm>

#include "workloads/scenario/scenario_loader.h"
#include "workloads/run/scenario_runner.h"

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

// Transactions committed per second of wall time, with range(0) messages per transaction:
// txn-basic.textproto (4 transactional producers, one open transaction each, 4
// partitions, a read-committed consumer) with its producers' messages_per_txn replaced.
void BM_transactions(benchmark::State& state) {
  auto config = load_scenario(std::string(STREAMLAB_SCENARIOS) + "/txn-basic.textproto");
  if (!config) {
    state.SkipWithError(config.error().c_str());
    return;
  }
  for (QueueClientSpec& client : config.value().queue_clients) {
    for (TxnProducerConfig& p : client.config.txn_producers) {
      p.messages_per_txn = static_cast<std::uint32_t>(state.range(0));
    }
  }
  double committed = 0;
  double messages = 0;
  double sim_s = 0;
  for (auto _ : state) {
    RunOptions options;
    options.keep_history = true;
    const RunResult r = run_scenario(config.value(), options);
    sim_s += static_cast<double>(r.sim_time_ns) / 1e9;
    for (const QueueOp& op : r.history.queue) {
      if (op.kind == QueueOpKind::commit && op.type == OpType::ok) ++committed;
      if (op.kind == QueueOpKind::send && op.type == OpType::ok) ++messages;
    }
  }
  state.counters["txns_per_wall_s"] = benchmark::Counter(committed, benchmark::Counter::kIsRate);
  state.counters["msgs_per_wall_s"] = benchmark::Counter(messages, benchmark::Counter::kIsRate);
  state.counters["sim_s_per_wall_s"] = benchmark::Counter(sim_s, benchmark::Counter::kIsRate);
  // What the modeled cluster commits per simulated second (the capacity figure).
  state.counters["txns_per_sim_s"] = benchmark::Counter(committed / std::max(sim_s, 1e-9));
}
BENCHMARK(BM_transactions)->Arg(1)->Arg(10)->Arg(100)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace streamlab::workloads
