// The GUI's run thread (viz/live_run.h) as the window drives it, without a window: a
// fault injected from the UI is recorded as a scenario line, the recorded scenario
// replays the run to the same trace hash, and the knobs write a scenario the loader
// reads back with the knobs changed.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <google/protobuf/text_format.h>

#include "viz/knobs.h"
#include "viz/live_run.h"
#include "workloads/scenario/scenario_loader.h"
#include "workloads/run/scenario_runner.h"

namespace streamlab::viz {
namespace {

constexpr std::int64_t kSec = 1'000'000'000;

std::string scenario_path(const std::string& name) {
  return std::string(STREAMLAB_SCENARIOS) + "/" + name;
}

std::string read(const std::string& path) {
  return workloads::read_scenario_text(path).value();
}

// Waits (up to a minute) until the run's snapshot satisfies `done`.
template <typename Done>
std::shared_ptr<const Snapshot> wait_for(const LiveRun& run, Done done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  auto snap = run.snapshot();
  while (!done(*snap) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    snap = run.snapshot();
  }
  return snap;
}

TEST(LiveRun, AnInjectedFaultIsRecordedAndTheRecordingReplaysTheRun) {
  const std::string file = scenario_path("counter-basic.textproto");
  RunSpec spec;
  spec.scenario_text = read(file);
  spec.config = workloads::parse_scenario(spec.scenario_text, file).value();
  spec.scenario_file = file;
  spec.label = "A";
  spec.recording_file =
      (std::filesystem::temp_directory_path() / "live-run-test.gui-seed1.textproto").string();
  std::filesystem::remove(spec.recording_file);
  const std::uint32_t server = 0;
  ASSERT_EQ(spec.config.topology.nodes[server].name, "server");
  LiveRun run(spec);

  sim::Fault crash;
  crash.kind = sim::FaultKind::crash;
  crash.nodes = {server};
  run.inject(crash, 3 * kSec);
  run.heal_all();
  run.play(0);
  const auto final = wait_for(run, [](const Snapshot& s) { return s.phase == RunPhase::finished; });
  ASSERT_EQ(final->phase, RunPhase::finished);
  ASSERT_EQ(final->recorded_faults.size(), 3u);  // The crash, heal_network, its restart.
  EXPECT_NE(final->recorded_faults[0].find("crash"), std::string::npos);
  EXPECT_NE(final->reproduce_command.find(spec.recording_file), std::string::npos);

  const auto replay = workloads::load_scenario(spec.recording_file);
  ASSERT_TRUE(replay.ok()) << replay.error();
  const workloads::RunResult again = workloads::run_scenario(replay.value(), {});
  EXPECT_EQ(again.trace_hash, final->trace_hash);
  EXPECT_EQ(again.events, final->events);
  EXPECT_EQ(again.check.anomalies, final->check.anomalies);
  EXPECT_NE(workloads::run_scenario(spec.config, {}).trace_hash, final->trace_hash);
}

TEST(Knobs, TheVariantScenarioLoadsWithTheKnobsChanged) {
  const std::string file = scenario_path("broker-basic.textproto");
  const std::string text = read(file);
  const auto config = workloads::parse_scenario(text, file);
  ASSERT_TRUE(config.ok());
  scenario::Scenario proto;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &proto));
  const Knobs base = knobs_of(config.value());
  ASSERT_TRUE(base.has_storage);
  Knobs changed = base;
  changed.ack_quorum = 1;
  changed.fsync = false;
  changed.linger_ns = 10'000'000;
  changed.dedup = false;
  EXPECT_EQ(describe_change(base, changed), "Qa=1, fsync off, linger 10ms, dedup off");
  const auto variant_text = apply_knobs(proto, changed);
  ASSERT_TRUE(variant_text.ok()) << variant_text.error();
  const auto variant = workloads::parse_scenario(variant_text.value(), "variant");
  ASSERT_TRUE(variant.ok()) << variant.error();
  EXPECT_EQ(knobs_of(variant.value()), changed);

  Knobs impossible = base;
  impossible.ack_quorum = impossible.write_quorum + 1;
  const auto refused = apply_knobs(proto, impossible);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("ack"), std::string::npos) << refused.error();
}

}  // namespace
}  // namespace streamlab::viz
