// A run on a budget and a run in a process of its own (workloads/run_contained.h): what
// lets explore and shrink name a seed that crashes or runs away and go on with the rest.

#include <gtest/gtest.h>

#include <string>

#include "base/assert.h"
#include "tests/command.h"
#include "workloads/run/run_contained.h"
#include "workloads/scenario/scenario_loader.h"

namespace streamlab::workloads {
namespace {

ScenarioConfig load(const std::string& name) {
  auto config = load_scenario(std::string(STREAMLAB_SCENARIOS) + "/" + name);
  EXPECT_TRUE(config.ok()) << (config.ok() ? "" : config.error());
  return config.value();
}

TEST(RunBudget, ARunPastItsEventBudgetStopsThereUnjudgedAndTheSameEveryTime) {
  const ScenarioConfig config = load("ledger-basic.textproto");
  RunOptions options;
  options.budget.max_events = 20'000;
  const RunResult first = run_scenario(config, options);
  EXPECT_EQ(first.runaway, Runaway::events);
  EXPECT_EQ(first.events, 20'000u);
  EXPECT_LT(first.sim_time_ns, config.duration_ns);
  EXPECT_FALSE(first.expectations_met);
  ASSERT_EQ(first.failed_expectations.size(), 1u);
  EXPECT_NE(first.failed_expectations[0].find("budget of 20000 events"), std::string::npos);
  EXPECT_TRUE(first.check.anomalies.empty());
  const RunResult second = run_scenario(config, options);
  EXPECT_EQ(second.trace_hash, first.trace_hash);
}

TEST(RunBudget, AMemoryBudgetStopsARunThatHoldsMore) {
  const ScenarioConfig config = load("broker-basic.textproto");
  RunOptions options;
  options.budget.max_rss_bytes = 1;  // Any process holds more than a byte.
  const RunResult r = run_scenario(config, options);
  EXPECT_EQ(r.runaway, Runaway::memory);
  EXPECT_NE(r.failed_expectations.at(0).find("MiB of memory"), std::string::npos);
}

TEST(RunBudget, AGenerousBudgetChangesNothing) {
  const ScenarioConfig config = load("ledger-basic.textproto");
  const RunResult free_run = run_scenario(config, RunOptions{});
  RunOptions options;
  options.budget = {1'000'000'000, 16ULL << 30};
  const RunResult budgeted = run_scenario(config, options);
  EXPECT_EQ(budgeted.runaway, Runaway::none);
  EXPECT_EQ(budgeted.trace_hash, free_run.trace_hash);
  EXPECT_EQ(budgeted.events, free_run.events);
  EXPECT_EQ(budgeted.expectations_met, free_run.expectations_met);
}

TEST(RunContained, AContainedRunIsTheSameRun) {
  const ScenarioConfig config = load("zombie-broker-gc-pause.unsafe.textproto");
  const RunResult here = run_scenario(config, RunOptions{});
  const ContainedRun there = run_contained(config, RunOptions{});
  ASSERT_FALSE(there.crashed) << there.crash;
  EXPECT_EQ(there.result.trace_hash, here.trace_hash);
  EXPECT_EQ(there.result.events, here.events);
  EXPECT_EQ(there.result.expectations_met, here.expectations_met);
  EXPECT_EQ(there.result.failed_expectations, here.failed_expectations);
  EXPECT_EQ(there.result.check.anomalies, here.check.anomalies);
  EXPECT_EQ(there.result.check.examples, here.check.examples);
}

TEST(RunContained, ACrashEndsTheChildAndIsToldWithTheValuesItCompared) {
  const ScenarioConfig config = load("ledger-basic.textproto");
  RunOptions options;
  // Stands in for a bug in the code under test: an assertion that fails mid-run.
  options.observer = [](const sim::EventRecord& e) {
    if (e.index == 500) SL_ASSERT_EQ(e.index, 7u);
  };
  const ContainedRun run = run_contained(config, options);
  ASSERT_TRUE(run.crashed);
  EXPECT_NE(run.crash.find("signal 6"), std::string::npos) << run.crash;
  EXPECT_NE(run.crash.find("assertion failed: e.index == 7u: (500 vs 7)"), std::string::npos)
      << run.crash;
  // The caller goes on: another run in the same process works.
  EXPECT_FALSE(run_contained(config, RunOptions{}).crashed);
}

TEST(RunContained, ExploreNamesARunawaySeedWithItsBudgetAndGoesOn) {
  const test_util::Outcome explore = test_util::run(
      STREAMLAB_BIN, "explore " + std::string(STREAMLAB_SCENARIOS) +
                         "/ledger-basic.textproto --seeds 1..3 --jobs 2 --max-events 30000");
  EXPECT_EQ(explore.exit_code, 1) << explore.out;
  EXPECT_NE(explore.out.find("3 failed (0 expectation, 0 crash, 3 runaway)"), std::string::npos)
      << explore.out;
  EXPECT_NE(explore.out.find("seed 2: runaway: went over its budget of 30000 events"),
            std::string::npos)
      << explore.out;
  EXPECT_NE(explore.out.find("--seed 3 --max-events 30000"), std::string::npos) << explore.out;
}

TEST(RunContained, BadBudgetFlagsAreRefused) {
  const test_util::Outcome o = test_util::run(
      STREAMLAB_BIN, "run " + std::string(STREAMLAB_SCENARIOS) +
                         "/ledger-basic.textproto --max-memory lots");
  EXPECT_EQ(o.exit_code, 2) << o.out;
  EXPECT_NE(o.out.find("--max-memory needs a size"), std::string::npos) << o.out;
}

}  // namespace
}  // namespace streamlab::workloads
