// A scenario session (workloads/scenario_session.h) is the run `streamlab run` makes, cut
// into pieces: advancing it in slices and single events changes nothing, and a fault
// injected at the current instant replays exactly from the scenario line it is recorded
// as, which is how the GUI's actions become reproducible.

#include <gtest/gtest.h>

#include <string>

#include "workloads/scenario/fault_text.h"
#include "workloads/scenario/scenario_loader.h"
#include "workloads/run/scenario_session.h"

namespace streamlab::workloads {
namespace {

constexpr std::int64_t kSec = 1'000'000'000;

std::string scenario_text(const std::string& name) {
  return read_scenario_text(std::string(STREAMLAB_SCENARIOS) + "/" + name).value();
}

ScenarioConfig load(const std::string& text) {
  auto config = parse_scenario(text, "test.textproto");
  EXPECT_TRUE(config.ok()) << (config.ok() ? "" : config.error());
  return config.value();
}

TEST(ScenarioSession, RunningInSlicesAndSingleEventsIsRunningInOneGo) {
  const ScenarioConfig config = load(scenario_text("counter-no-fsync-power-loss.unsafe.textproto"));
  const RunResult whole = run_scenario(config, {});
  ScenarioSession session(config, {});
  session.run_until(kSec);
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(session.step());
  session.run_until(3 * kSec);
  session.run_until(3 * kSec);
  EXPECT_FALSE(session.check_so_far().metrics.empty());
  const RunResult pieces = session.finish();
  EXPECT_EQ(pieces.trace_hash, whole.trace_hash);
  EXPECT_EQ(pieces.events, whole.events);
  EXPECT_EQ(pieces.check.anomalies, whole.check.anomalies);
}

TEST(ScenarioSession, StepAndInjectStopAtTheEnd) {
  const ScenarioConfig config = load(scenario_text("counter-basic.textproto"));
  ScenarioSession session(config, {});
  // The server paused across the end: its deferred events sit in the queue.
  sim::Fault pause;
  pause.kind = sim::FaultKind::pause;
  pause.nodes = {session.world().node_id("server")};
  pause.duration_ns = 10 * kSec;
  session.run_until(session.end_ns() - kSec);
  ASSERT_TRUE(session.inject_now(pause).has_value());
  while (session.step()) {
  }
  EXPECT_TRUE(session.at_end());
  EXPECT_EQ(session.now(), session.end_ns());
  EXPECT_FALSE(session.inject_now(pause).has_value());
  EXPECT_TRUE(session.finish().sim_time_ns == session.end_ns());
}

TEST(ScenarioSession, FaultsInjectedNowReplayFromTheirScenarioLines) {
  const std::string text = scenario_text("counter-basic.textproto");
  const ScenarioConfig config = load(text);
  ScenarioSession session(config, {});
  const std::uint32_t broker = session.world().node_id("server");
  const std::uint32_t client = session.world().node_id("client-2");
  session.run_until(2 * kSec + 123);
  sim::Fault crash;
  crash.kind = sim::FaultKind::crash;
  crash.nodes = {broker};
  const sim::Fault crashed = session.inject_now(crash).value();
  EXPECT_GT(crashed.at_ns, 2 * kSec + 123);
  EXPECT_EQ(session.world().state(broker), sim::NodeState::crashed);
  session.run_until(4 * kSec);
  sim::Fault cut;
  cut.kind = sim::FaultKind::partition;
  cut.nodes = {client};
  cut.duration_ns = kSec;
  const sim::Fault isolated = session.inject_now(cut).value();
  sim::Fault restart;
  restart.kind = sim::FaultKind::restart;
  restart.nodes = {broker};
  const sim::Fault restarted = session.inject_now(restart).value();
  const RunResult live = session.finish();

  const std::string replayed_text = text + "\n" + fault_line(crashed, config.topology) + "\n" +
                                    fault_line(isolated, config.topology) + "\n" +
                                    fault_line(restarted, config.topology) + "\n";
  const RunResult replayed = run_scenario(load(replayed_text), {});
  EXPECT_EQ(replayed.trace_hash, live.trace_hash);
  EXPECT_EQ(replayed.events, live.events);
  EXPECT_EQ(replayed.check.anomalies, live.check.anomalies);
  ASSERT_EQ(replayed.fault_log.size(), live.fault_log.size());
  for (std::size_t i = 0; i < live.fault_log.size(); ++i) {
    EXPECT_EQ(replayed.fault_log[i].time_ns, live.fault_log[i].time_ns) << i;
  }
  // Without the faults the run is another one: the replay's equality is not vacuous.
  EXPECT_NE(run_scenario(config, {}).trace_hash, live.trace_hash);
}

}  // namespace
}  // namespace streamlab::workloads
