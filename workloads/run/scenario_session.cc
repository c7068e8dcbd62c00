#include "workloads/run/scenario_session.h"

#include <algorithm>

#include "base/assert.h"
#include "broker/demo/counter_log.h"
#include "broker/demo/counter_server.h"
#include "broker/pulsar/broker.h"
#include "broker/storage/bookie.h"
#include "broker/storage/metadata_store.h"
#include "workloads/checkers/counter_checker.h"
#include "workloads/clients/counter_client.h"
#include "workloads/checkers/ledger_checker.h"
#include "workloads/clients/ledger_writer.h"
#include "workloads/checkers/queue_checker.h"
#include "workloads/clients/queue_client.h"
#include "workloads/run/resident_memory.h"
#include "workloads/scenario/units.h"

namespace streamlab::workloads {

// The histories of every system; the run's clients record into their system's one.
struct ScenarioSession::System {
  explicit System(sim::World& world)
      : counter([&world] { return world.kernel().now(); }),
        ledger([&world] { return world.kernel().now(); }),
        queue([&world] { return world.kernel().now(); }) {}
  History counter;
  LedgerHistory ledger;
  QueueHistory queue;
  std::int64_t max_client_timeout_ns = 0;  // Counter clients: for the liveness settle time.
};

namespace {

void install_counter(const ScenarioConfig& config, sim::World& world, History& history,
                     std::int64_t& max_timeout_ns) {
  const demo::CounterServerConfig server_config = config.counter.server_config;
  world.set_factory(config.counter.server, [server_config](Runtime& rt) {
    return std::make_unique<demo::CounterServer>(rt, server_config);
  });
  for (const ClientSpec& client : config.clients) {
    const CounterClientConfig client_config = client.config;
    max_timeout_ns = std::max(max_timeout_ns, client_config.timeout_ns);
    world.set_factory(client.node, [client_config, &history](Runtime& rt) {
      return std::make_unique<CounterClient>(rt, client_config, history);
    });
  }
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

void install_bookkeeper(const ScenarioConfig& config, sim::World& world, LedgerHistory& history) {
  install_storage(config.bookkeeper, world);
  for (const WriterSpec& writer : config.writers) {
    const LedgerWriterConfig writer_config = writer.config;
    world.set_factory(writer.node, [writer_config, &history](Runtime& rt) {
      return std::make_unique<LedgerWriter>(rt, writer_config, history);
    });
  }
}

void install_pulsar(const ScenarioConfig& config, sim::World& world, QueueHistory& history) {
  install_storage(config.bookkeeper, world);
  const pulsar::BrokerConfig broker_config = config.pulsar.broker;
  for (const std::uint32_t b : config.pulsar.brokers) {
    world.set_factory(b, [broker_config](Runtime& rt) {
      return std::make_unique<pulsar::Broker>(rt, broker_config);
    });
  }
  for (const QueueClientSpec& spec : config.queue_clients) {
    const QueueClientConfig client_config = spec.config;
    world.set_factory(spec.node, [client_config, &history](Runtime& rt) {
      return std::make_unique<QueueClient>(rt, client_config, history);
    });
  }
}

// The bookies' journals as the world's disks hold them now: views into the disks.
std::map<std::string, std::span<const std::uint8_t>> journals_of(const ScenarioConfig& config,
                                                                  sim::World& world) {
  std::map<std::string, std::span<const std::uint8_t>> journals;
  for (const std::uint32_t b : config.bookkeeper.bookies) {
    SL_ASSERT_MSG(world.disk(b).kept_from(storage::kJournalFile) == 0,
                  "journals of a keep_recent_only run cannot be judged");
    journals[config.topology.nodes[b].name] = world.disk(b).view(storage::kJournalFile);
  }
  return journals;
}

}  // namespace

ScenarioSession::ScenarioSession(const ScenarioConfig& config, const RunOptions& options)
    : config_(config),
      options_(options),
      seed_(options.seed != 0 ? options.seed : config.seed),
      wall_start_(std::chrono::steady_clock::now()) {
  world_ = std::make_unique<sim::World>(config.topology, seed_);
  if (options.observer) world_->kernel().set_observer(options.observer);
  world_->set_trace_sink(options.trace_sink);
  injector_ = std::make_unique<sim::FaultInjector>(*world_);
  system_ = std::make_unique<System>(*world_);
  if (options.queue_ops) system_->queue.stream_to(options.queue_ops);
  if (config.has_swarm && config.swarm.liveness) {
    injector_->schedule_heal_everything(config.swarm.stop_ns);
  }
  switch (config.system) {
    case SystemKind::counter:
      install_counter(config, *world_, system_->counter, system_->max_client_timeout_ns);
      break;
    case SystemKind::bookkeeper:
      install_bookkeeper(config, *world_, system_->ledger);
      break;
    case SystemKind::pulsar:
      install_pulsar(config, *world_, system_->queue);
      break;
  }
  injector_->schedule(scheduled_faults(config, seed_));
  world_->start();
}

ScenarioSession::~ScenarioSession() = default;

void ScenarioSession::run_until(std::int64_t time_ns) {
  SL_ASSERT_MSG(!finished_, "session: run_until after finish");
  SL_ASSERT_GE(time_ns, now());
  world_->run_until(std::min(time_ns, end_ns()));
}

bool ScenarioSession::step() {
  SL_ASSERT_MSG(!finished_, "session: step after finish");
  sim::Kernel& kernel = world_->kernel();
  const std::uint64_t before = kernel.events_executed();
  // run_until, not Kernel::step: the head may be a cancelled or deferred entry, and
  // step would go on to the next live event however late, past the end.
  while (kernel.events_executed() == before && kernel.next_time() <= end_ns()) {
    world_->run_until(std::max(now(), kernel.next_time()));
  }
  if (kernel.events_executed() != before) return true;
  world_->run_until(end_ns());
  return false;
}

std::optional<sim::Fault> ScenarioSession::inject_now(sim::Fault fault) {
  SL_ASSERT_MSG(!finished_, "session: inject after finish");
  sim::Kernel& kernel = world_->kernel();
  // A pending event at the fault's instant would run before it here but after it on
  // replay (a scripted fault is scheduled before the run starts): move on to an instant
  // no pending event shares. At the very end there is none left to take.
  while (now() + 1 < end_ns() && kernel.next_time() <= now() + 1) world_->run_until(now() + 1);
  if (now() + 1 >= end_ns()) return std::nullopt;
  fault.at_ns = now() + 1;
  fault.origin = "gui";
  injector_->schedule({fault});
  world_->run_until(fault.at_ns);
  return fault;
}

CheckResult ScenarioSession::check(std::int64_t duration_ns, bool at_end) const {
  const auto process_name = [this](std::uint32_t id) { return config_.topology.nodes[id].name; };
  switch (config_.system) {
    case SystemKind::counter: {
      CounterCheckInput input;
      input.history = &system_->counter.ops();
      input.server_log = world_->disk(config_.counter.server).view(demo::kCounterLogFile);
      input.process_name = process_name;
      input.duration_ns = duration_ns;
      if (at_end && config_.has_swarm && config_.swarm.liveness) {
        input.recover_by_ns = config_.swarm.stop_ns + config_.recovery_bound_ns;
        input.settle_by_ns = config_.duration_ns - system_->max_client_timeout_ns;
      }
      return check_counter(input);
    }
    case SystemKind::bookkeeper: {
      LedgerCheckInput input;
      input.history = &system_->ledger.ops();
      input.metadata_log = world_->disk(config_.bookkeeper.metadata).view(storage::kMetadataLogFile);
      input.journals = journals_of(config_, *world_);
      input.process_name = process_name;
      input.duration_ns = duration_ns;
      return check_ledgers(input);
    }
    case SystemKind::pulsar: {
      QueueCheckInput input;
      input.history = &system_->queue.ops();
      input.metadata_log = world_->disk(config_.bookkeeper.metadata).view(storage::kMetadataLogFile);
      input.journals = journals_of(config_, *world_);
      input.process_name = process_name;
      input.duration_ns = duration_ns;
      input.topics = config_.pulsar.topics;
      input.subscriptions = config_.pulsar.subscriptions;
      return check_queue(input);
    }
  }
  SL_ASSERT_MSG(false, "session: unknown system");
  return {};
}

CheckResult ScenarioSession::check_so_far() const { return check(now(), false); }

Runaway ScenarioSession::run_to_end_on_budget() {
  const RunBudget& budget = options_.budget;
  // Memory is read between slices: often enough to stop a run that grows by hundreds of
  // megabytes a second, rarely enough to cost nothing next to the events.
  constexpr std::uint64_t kSliceEvents = 1 << 18;
  sim::Kernel& kernel = world_->kernel();
  for (;;) {
    std::uint64_t cap = kernel.events_executed() + kSliceEvents;
    if (budget.max_events != 0) cap = std::min(cap, budget.max_events);
    if (kernel.run_until_capped(end_ns(), cap)) return Runaway::none;
    if (budget.max_events != 0 && kernel.events_executed() >= budget.max_events) {
      return Runaway::events;
    }
    if (budget.max_rss_bytes != 0 && resident_bytes() > budget.max_rss_bytes) {
      return Runaway::memory;
    }
  }
}

RunResult ScenarioSession::runaway_result(Runaway runaway) {
  RunResult result;
  result.seed = seed_;
  result.runaway = runaway;
  result.trace_hash = world_->kernel().trace_hash();
  result.sim_time_ns = now();
  result.events = world_->kernel().events_executed();
  result.fault_log = injector_->log();
  const RunBudget& budget = options_.budget;
  result.failed_expectations.push_back(
      runaway == Runaway::events
          ? "went over its budget of " + std::to_string(budget.max_events) + " events at " +
                format_duration_ns(now()) + " of simulated time"
          : "went over its budget of " + std::to_string(budget.max_rss_bytes >> 20) +
                " MiB of memory at " + format_duration_ns(now()) + " of simulated time, after " +
                std::to_string(result.events) + " events");
  result.expectations_met = false;
  result.wall_time_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start_).count();
  return result;
}

RunResult ScenarioSession::finish() {
  SL_ASSERT_MSG(!finished_, "session: finished twice");
  finished_ = true;
  const Runaway runaway = run_to_end_on_budget();
  if (runaway != Runaway::none) return runaway_result(runaway);
  RunResult result;
  result.seed = seed_;
  result.check = check(config_.duration_ns, true);
  const std::vector<sim::FaultLogEntry>& log = injector_->log();
  result.check.metrics["faults_injected"] = static_cast<double>(
      std::count_if(log.begin(), log.end(), [](const sim::FaultLogEntry& e) { return !e.lifted; }));
  result.check.metrics["messages_dropped"] =
      static_cast<double>(world_->network().stats().messages_dropped);
  if (options_.keep_history) {
    result.history.counter = system_->counter.take();
    result.history.ledger = system_->ledger.take();
    result.history.queue = system_->queue.take();
  }
  result.trace_hash = world_->kernel().trace_hash();
  result.sim_time_ns = now();
  result.events = world_->kernel().events_executed();
  result.fault_log = log;
  result.failed_expectations = failed_expectations(config_, result.check);
  result.expectations_met = result.failed_expectations.empty();
  if (options_.at_end) options_.at_end(*world_);
  result.wall_time_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start_).count();
  return result;
}

}  // namespace streamlab::workloads
