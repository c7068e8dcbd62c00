#include "workloads/scenario_runner.h"

#include <algorithm>
#include <chrono>
#include <memory>

#include "base/assert.h"
#include "broker/demo/counter_log.h"
#include "broker/demo/counter_server.h"
#include "broker/storage/bookie.h"
#include "broker/storage/metadata_store.h"
#include "sim/swarm.h"
#include "sim/world.h"
#include "workloads/counter_checker.h"
#include "workloads/counter_client.h"
#include "workloads/ledger_checker.h"
#include "workloads/ledger_writer.h"
#include "broker/pulsar/broker.h"
#include "workloads/queue_checker.h"
#include "workloads/queue_client.h"

namespace streamlab::workloads {

namespace {

constexpr std::uint64_t kSwarmStream = 7;


// Each system installs its nodes, lets `run` drive the world, and judges the outcome.
CheckResult run_counter(const ScenarioConfig& config, sim::World& world,
                        const std::function<void()>& run, RunHistory* keep) {
  History history([&world] { return world.kernel().now(); });
  const demo::CounterServerConfig server_config = config.counter.server_config;
  world.set_factory(config.counter.server, [server_config](Runtime& rt) {
    return std::make_unique<demo::CounterServer>(rt, server_config);
  });
  std::int64_t max_timeout_ns = 0;
  for (const ClientSpec& client : config.clients) {
    const CounterClientConfig client_config = client.config;
    max_timeout_ns = std::max(max_timeout_ns, client_config.timeout_ns);
    world.set_factory(client.node, [client_config, &history](Runtime& rt) {
      return std::make_unique<CounterClient>(rt, client_config, history);
    });
  }
  run();
  const std::vector<std::uint8_t> log = world.disk(config.counter.server).contents(
      demo::kCounterLogFile);
  CounterCheckInput input;
  input.history = &history.ops();
  input.server_log = log;
  input.process_name = [&config](std::uint32_t id) { return config.topology.nodes[id].name; };
  input.duration_ns = config.duration_ns;
  if (config.has_swarm && config.swarm.liveness) {
    input.recover_by_ns = config.swarm.stop_ns + config.recovery_bound_ns;
    input.settle_by_ns = config.duration_ns - max_timeout_ns;
  }
  CheckResult check = check_counter(input);
  if (keep != nullptr) keep->counter = history.take();
  return check;
}

// The storage nodes both storage-backed systems share.
void install_storage(const BookKeeperSystemConfig& bk, sim::World& world) {
  const storage::MetadataStoreConfig store_config = bk.store;
  world.set_factory(bk.metadata, [store_config](Runtime& rt) {
    return std::make_unique<storage::MetadataStore>(rt, store_config);
  });
  const storage::BookieConfig bookie_config = bk.bookie;
  for (const std::uint32_t b : bk.bookies) {
    world.set_factory(b, [bookie_config](Runtime& rt) {
      return std::make_unique<storage::Bookie>(rt, bookie_config);
    });
  }
}

CheckResult run_bookkeeper(const ScenarioConfig& config, sim::World& world,
                           const std::function<void()>& run, RunHistory* keep) {
  const BookKeeperSystemConfig& bk = config.bookkeeper;
  LedgerHistory history([&world] { return world.kernel().now(); });
  install_storage(bk, world);
  for (const WriterSpec& writer : config.writers) {
    const LedgerWriterConfig writer_config = writer.config;
    world.set_factory(writer.node, [writer_config, &history](Runtime& rt) {
      return std::make_unique<LedgerWriter>(rt, writer_config, history);
    });
  }
  run();
  // The world outlives the check: its disks are read in place.
  LedgerCheckInput input;
  input.history = &history.ops();
  input.metadata_log = world.disk(bk.metadata).view(storage::kMetadataLogFile);
  for (const std::uint32_t b : bk.bookies) {
    input.journals[config.topology.nodes[b].name] = world.disk(b).view(storage::kJournalFile);
  }
  input.process_name = [&config](std::uint32_t id) { return config.topology.nodes[id].name; };
  input.duration_ns = config.duration_ns;
  CheckResult check = check_ledgers(input);
  if (keep != nullptr) keep->ledger = history.take();
  return check;
}

CheckResult run_pulsar(const ScenarioConfig& config, sim::World& world,
                       const std::function<void()>& run, RunHistory* keep) {
  const BookKeeperSystemConfig& bk = config.bookkeeper;
  install_storage(bk, world);
  const pulsar::BrokerConfig broker_config = config.pulsar.broker;
  for (const std::uint32_t b : config.pulsar.brokers) {
    world.set_factory(b, [broker_config](Runtime& rt) {
      return std::make_unique<pulsar::Broker>(rt, broker_config);
    });
  }
  QueueHistory history([&world] { return world.kernel().now(); });
  for (const QueueClientSpec& spec : config.queue_clients) {
    const QueueClientConfig client_config = spec.config;
    world.set_factory(spec.node, [client_config, &history](Runtime& rt) {
      return std::make_unique<QueueClient>(rt, client_config, history);
    });
  }
  run();
  QueueCheckInput input;
  input.history = &history.ops();
  input.metadata_log = world.disk(bk.metadata).view(storage::kMetadataLogFile);
  for (const std::uint32_t b : bk.bookies) {
    input.journals[config.topology.nodes[b].name] = world.disk(b).view(storage::kJournalFile);
  }
  input.process_name = [&config](std::uint32_t id) { return config.topology.nodes[id].name; };
  input.duration_ns = config.duration_ns;
  input.topics = config.pulsar.topics;
  input.subscriptions = config.pulsar.subscriptions;
  CheckResult check = check_queue(input);
  if (keep != nullptr) keep->queue = history.take();
  return check;
}

}  // namespace

std::vector<std::string> failed_expectations(const ScenarioConfig& config,
                                             const CheckResult& check) {
  std::vector<std::string> failed;
  for (const Expectation& e : config.expectations) {
    const auto it = check.anomalies.find(e.anomaly);
    const std::uint64_t count = it == check.anomalies.end() ? 0 : it->second;
    if (e.present && count == 0) {
      failed.push_back("expected " + e.anomaly + " but found none (" + e.origin + ")");
    } else if (!e.present && count > 0) {
      failed.push_back("expected no " + e.anomaly + " but found " + std::to_string(count) +
                       " (" + e.origin + ")");
    }
  }
  return failed;
}

std::vector<sim::Fault> scheduled_faults(const ScenarioConfig& config, std::uint64_t seed) {
  std::vector<sim::Fault> faults = config.faults;
  if (!config.has_swarm) return faults;
  // The world's kernel seeds its generator with `seed`, and fork depends on the seed
  // alone, so this is the stream the run's own generator would fork.
  std::vector<sim::Fault> drawn =
      sim::draw_swarm(config.swarm, config.topology, sim::Rng(seed).fork(kSwarmStream));
  faults.insert(faults.end(), drawn.begin(), drawn.end());
  std::stable_sort(faults.begin(), faults.end(), [](const sim::Fault& a, const sim::Fault& b) {
    return a.at_ns < b.at_ns;
  });
  return faults;
}

RunResult run_scenario(const ScenarioConfig& config, const RunOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  RunResult result;
  result.seed = options.seed != 0 ? options.seed : config.seed;
  sim::World world(config.topology, result.seed);
  if (options.observer) world.kernel().set_observer(options.observer);
  world.set_trace_sink(options.trace_sink);

  sim::FaultInjector injector(world);
  const std::vector<sim::Fault> faults = scheduled_faults(config, result.seed);
  if (config.has_swarm && config.swarm.liveness) {
    injector.schedule_heal_everything(config.swarm.stop_ns);
  }
  const auto run = [&] {
    injector.schedule(faults);
    world.start();
    world.run_until(config.duration_ns);
  };
  RunHistory* keep = options.keep_history ? &result.history : nullptr;
  switch (config.system) {
    case SystemKind::counter:
      result.check = run_counter(config, world, run, keep);
      break;
    case SystemKind::bookkeeper:
      result.check = run_bookkeeper(config, world, run, keep);
      break;
    case SystemKind::pulsar:
      result.check = run_pulsar(config, world, run, keep);
      break;
  }
  result.check.metrics["faults_injected"] = static_cast<double>(
      std::count_if(injector.log().begin(), injector.log().end(),
                    [](const sim::FaultLogEntry& e) { return !e.lifted; }));
  result.check.metrics["messages_dropped"] =
      static_cast<double>(world.network().stats().messages_dropped);

  result.trace_hash = world.kernel().trace_hash();
  result.sim_time_ns = world.kernel().now();
  result.events = world.kernel().events_executed();
  result.fault_log = injector.log();
  result.failed_expectations = failed_expectations(config, result.check);
  result.expectations_met = result.failed_expectations.empty();
  if (options.at_end) options.at_end(world);
  result.wall_time_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return result;
}

}  // namespace streamlab::workloads
