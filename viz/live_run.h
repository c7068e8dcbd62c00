#pragma once

// One scenario run on its own thread, driven by the UI: play at a pace (simulated
// seconds per wall second, or as fast as it goes), pause, step one event, run to a
// time, inject a fault now. The thread owns the session and everything it touches; the
// UI talks to it through commands and reads what it publishes: an immutable Snapshot
// and the event log's new entries. Nothing here changes the simulation: pacing only
// decides where run_until stops, which does not change what happens.

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sim/faults.h"
#include "viz/run_collector.h"
#include "viz/snapshot.h"
#include "workloads/scenario/scenario_config.h"

namespace streamlab::viz {

struct RunSpec {
  workloads::ScenarioConfig config;
  std::string scenario_text;  // The file's text, to which recorded faults are appended.
  std::string scenario_file;  // As the user named it, for the reproduce command.
  std::string label;
  std::uint64_t seed = 0;  // 0: the scenario's own.
  // Where the scenario with the UI's faults is written, once there is one.
  std::string recording_file;
};

class LiveRun {
 public:
  explicit LiveRun(RunSpec spec);
  LiveRun(const LiveRun&) = delete;
  LiveRun& operator=(const LiveRun&) = delete;
  ~LiveRun();

  // The newest snapshot; never null.
  std::shared_ptr<const Snapshot> snapshot() const;
  // Appends the event log's entries from index `from` on to `out`; returns how many.
  std::size_t events_since(std::size_t from, std::vector<LogEvent>& out) const;

  // pace: simulated seconds per wall second; 0: as fast as possible.
  void play(double pace);
  void pause();
  void step();
  void run_to(std::int64_t time_ns);
  // Injects the fault at the first free instant at or after max(now, at_least_ns), so
  // that two runs given one time get the fault at the same simulated instant.
  void inject(sim::Fault fault, std::int64_t at_least_ns = 0);
  // Lifts every network fault and restarts every crashed node, as faults injected now.
  void heal_all();
  const RunSpec& spec() const { return spec_; }

 private:
  struct Command {
    enum class Kind : std::uint8_t { play, pause, step, run_to, inject, heal_all } kind;
    double pace = 0;
    std::int64_t time_ns = 0;
    sim::Fault fault;
  };

  // The run thread's state and loop (live_run.cc).
  class Loop;

  void send(Command command);
  void main();

  RunSpec spec_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::vector<Command> commands_;  // Guarded by mu_.
  bool quit_ = false;             // Guarded by mu_.
  std::shared_ptr<const Snapshot> snapshot_;  // Guarded by mu_.
  std::vector<LogEvent> events_;              // Guarded by mu_: the log published so far.
  std::thread thread_;
};

}  // namespace streamlab::viz
