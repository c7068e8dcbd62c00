#pragma once

// One scenario run, one piece at a time: what run_scenario does in a single call, for a
// caller that drives the run itself (the GUI: play, pause, step, act on a node). The
// session builds the world, installs the system's nodes and the clients, schedules the
// faults (scripted and swarm) and starts; then the caller advances it, may inject
// faults at the current instant and judge the run so far, and finally finishes it, which
// runs to the end and judges exactly as run_scenario does. A session that is only
// finished is run_scenario: same events, same trace hash.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include "sim/faults.h"
#include "sim/world.h"
#include "workloads/run/scenario_runner.h"
#include "workloads/systems/system_adapter.h"

namespace streamlab::workloads {

class ScenarioSession {
 public:
  // `config` must outlive the session.
  ScenarioSession(const ScenarioConfig& config, const RunOptions& options);
  ScenarioSession(const ScenarioSession&) = delete;
  ScenarioSession& operator=(const ScenarioSession&) = delete;
  ~ScenarioSession();

  const ScenarioConfig& config() const { return config_; }
  std::uint64_t seed() const { return seed_; }
  sim::World& world() { return *world_; }
  const sim::FaultInjector& injector() const { return *injector_; }
  std::int64_t now() const { return world_->kernel().now(); }
  std::int64_t end_ns() const { return config_.duration_ns; }
  bool at_end() const { return now() >= end_ns(); }
  bool finished() const { return finished_; }

  // Runs every event up to min(time, end); time >= now().
  void run_until(std::int64_t time_ns);
  // Runs the events of the next instant that has one due by the end; false when none is
  // (now() is then the end).
  bool step();
  // Schedules `fault` (its at_ns ignored) at the first instant after now() that no
  // pending event shares, so that the same fault scripted at that instant in the
  // scenario replays this run exactly; runs up to it and returns the fault as scheduled,
  // or nothing when the run is at its end. One case replays differently: the lift of a
  // fault with a duration is scheduled with the fault, so an event due at exactly the
  // lift's nanosecond runs before the lift here and after it on replay (live instants
  // are arbitrary nanoseconds, so this takes a coincidence to the nanosecond).
  std::optional<sim::Fault> inject_now(sim::Fault fault);
  // The checker's verdict on the history so far and the logs as they are now, over
  // [0, now]: provisional (an op in flight is not yet an anomaly; liveness is judged at
  // the end only).
  CheckResult check_so_far() const;
  // Runs to the end and judges the run; once. A run that goes over its budget
  // (RunOptions::budget) stops there and is not judged: RunResult::runaway says why.
  RunResult finish();

 private:
  CheckResult check(std::int64_t duration_ns, bool at_end) const;
  // Runs to the end in slices, checking the budget between them; what stopped it early.
  Runaway run_to_end_on_budget();
  RunResult runaway_result(Runaway runaway);

  const ScenarioConfig& config_;
  RunOptions options_;
  std::uint64_t seed_;
  std::chrono::steady_clock::time_point wall_start_;
  std::unique_ptr<sim::World> world_;
  std::unique_ptr<sim::FaultInjector> injector_;
  std::unique_ptr<SystemRun> system_;
  bool finished_ = false;
};

}  // namespace streamlab::workloads
