#include "workloads/run/scenario_session.h"

#include <algorithm>

#include "base/assert.h"
#include "workloads/run/resident_memory.h"
#include "workloads/systems/system_adapter.h"
#include "workloads/scenario/units.h"

namespace streamlab::workloads {

ScenarioSession::ScenarioSession(const ScenarioConfig& config, const RunOptions& options)
    : config_(config),
      options_(options),
      seed_(options.seed != 0 ? options.seed : config.seed),
      wall_start_(std::chrono::steady_clock::now()) {
  world_ = std::make_unique<sim::World>(config.topology, seed_);
  if (options.observer) world_->kernel().set_observer(options.observer);
  world_->set_trace_sink(options.trace_sink);
  injector_ = std::make_unique<sim::FaultInjector>(*world_);
  if (config.has_swarm && config.swarm.liveness) {
    injector_->schedule_heal_everything(config.swarm.stop_ns);
  }
  system_ = system_adapter(config.system).install(config, *world_, InstallOptions{options.queue_ops});
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
  WorldFiles files(*world_);
  Result<CheckResult> result = system_->check(JudgeRequest{&config_, &files, duration_ns, at_end});
  // A simulated node's files are always there to read.
  SL_ASSERT_MSG(result.ok(), result.ok() ? "" : result.error().c_str());
  return std::move(result.value());
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
  // What the disks hold at the end (their files' sizes): whether retention, rotation and
  // garbage collection keep a long run's storage bounded.
  std::uint64_t disk_used = 0;
  std::uint64_t disk_used_max = 0;
  for (std::uint32_t node = 0; node < world_->node_count(); ++node) {
    disk_used += world_->disk(node).used_bytes();
    disk_used_max = std::max(disk_used_max, world_->disk(node).used_bytes());
  }
  result.check.metrics["disk_used_bytes_end"] = static_cast<double>(disk_used);
  result.check.metrics["disk_used_bytes_end_max_node"] = static_cast<double>(disk_used_max);
  if (options_.keep_history) system_->take_history(result.history);
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
