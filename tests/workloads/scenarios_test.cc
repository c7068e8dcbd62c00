// The shipped scenarios as tests: each loads, meets its expectations, and the unsafe
// ones really reproduce their anomaly.

#include <gtest/gtest.h>

#include <filesystem>

#include "workloads/scenario_loader.h"
#include "workloads/scenario_runner.h"

namespace streamlab::workloads {
namespace {

std::string scenario(const std::string& name) { return std::string(STREAMLAB_SCENARIOS) + "/" + name; }

ScenarioConfig load(const std::string& name) {
  const auto r = load_scenario(scenario(name));
  EXPECT_TRUE(r.ok()) << r.error();
  return r.value();
}

RunResult run(const ScenarioConfig& config, std::uint64_t seed) {
  RunOptions options;
  options.seed = seed;
  return run_scenario(config, options);
}

TEST(Scenarios, EveryShippedScenarioLoadsAndMeetsItsExpectations) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(STREAMLAB_SCENARIOS)) {
    if (entry.path().extension() != ".textproto") continue;
    ++count;
    const auto config = load_scenario(entry.path().string());
    ASSERT_TRUE(config.ok()) << config.error();
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
      const RunResult r = run(config.value(), seed);
      EXPECT_TRUE(r.expectations_met)
          << entry.path() << " seed " << seed << ": " << r.failed_expectations.front();
    }
  }
  EXPECT_GE(count, 4);
}

TEST(Scenarios, NoFsyncPowerLossLosesAcknowledgedAddsOnEverySeed) {
  const ScenarioConfig unsafe = load("counter-no-fsync-power-loss.unsafe.textproto");
  const ScenarioConfig safe = load("counter-no-fsync-power-loss.safe.textproto");
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const RunResult u = run(unsafe, seed);
    EXPECT_TRUE(u.expectations_met) << "seed " << seed;
    EXPECT_GT(u.check.anomalies.count("lost-write"), 0u) << "seed " << seed;
    const RunResult s = run(safe, seed);
    EXPECT_TRUE(s.expectations_met) << "seed " << seed;
    EXPECT_TRUE(s.check.anomalies.empty()) << "seed " << seed;
  }
}

TEST(Scenarios, SwarmOfFiftySeedsFindsNothingInTheSafeCounter) {
  const ScenarioConfig config = load("counter-swarm.safe.textproto");
  double faults = 0;
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    const RunResult r = run(config, seed);
    EXPECT_TRUE(r.expectations_met) << "seed " << seed << ": " << r.failed_expectations.front();
    faults += r.check.metrics.at("faults_injected");
  }
  // 24 faults a minute for 40 s: 16 a run on average.
  EXPECT_GT(faults / 50, 12);
}

TEST(Scenarios, SwarmFindsLostWritesWhenFsyncIsOff) {
  ScenarioConfig config = load("counter-swarm.safe.textproto");
  config.counter.server_config.fsync = false;
  config.swarm.targets = {config.counter.server};
  config.swarm.rate_per_minute[sim::FaultKind::crash] = 6;
  for (auto& node : config.topology.nodes) node.hardware.disk.writeback_delay_ns = 5'000'000'000;
  int found = 0;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    found += run(config, seed).check.anomalies.count("lost-write") > 0 ? 1 : 0;
  }
  EXPECT_GE(found, 8) << "the swarm should crash the server while adds are unsynced";
}

}  // namespace
}  // namespace streamlab::workloads
