// Same seed + same scenario = same trace hash, in this build and in every other: the
// golden hash below is checked by the release and the dev (ASan/UBSan, -O0) builds alike.

#include <gtest/gtest.h>

#include "workloads/run/determinism_check.h"
#include "workloads/scenario/scenario_loader.h"
#include "workloads/run/scenario_runner.h"

namespace streamlab::workloads {
namespace {

// counter-basic.textproto, seed 1. A deliberate change of the simulation's behaviour
// changes it: update it in the same commit and say why in the message.
constexpr std::uint64_t kGoldenTraceHash = 0x6abb1c49671f116aULL;
// ledger-fencing.safe.textproto, seed 1: the storage layer (metadata store, bookies,
// ledger clients with a handover and a fencing recovery) under the same guard.
constexpr std::uint64_t kGoldenLedgerTraceHash = 0x079b8bc40856f771ULL;
// zombie-broker-gc-pause.safe, seed 1: brokers, clients, cursors and deduplication.
constexpr std::uint64_t kGoldenBrokerTraceHash = 0x574eadec505bb09eULL;

ScenarioConfig basic() {
  const auto r = load_scenario(std::string(STREAMLAB_SCENARIOS) + "/counter-basic.textproto");
  EXPECT_TRUE(r.ok()) << r.error();
  return r.value();
}

RunResult run(const ScenarioConfig& config, std::uint64_t seed,
              std::function<void(const sim::EventRecord&)> observer = {}) {
  RunOptions options;
  options.seed = seed;
  options.observer = std::move(observer);
  return run_scenario(config, options);
}

TEST(Determinism, SameSeedSameTraceTwice) {
  const ScenarioConfig config = basic();
  const RunResult a = run(config, 7);
  const RunResult b = run(config, 7);
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  EXPECT_EQ(a.events, b.events);
  EXPECT_EQ(a.check.metrics, b.check.metrics);
}

TEST(Determinism, DifferentSeedsDiffer) {
  const ScenarioConfig config = basic();
  EXPECT_NE(run(config, 1).trace_hash, run(config, 2).trace_hash);
}

TEST(Determinism, GoldenTraceHashAcrossBuilds) {
  EXPECT_EQ(run(basic(), 1).trace_hash, kGoldenTraceHash) << std::hex << run(basic(), 1).trace_hash;
}

TEST(Determinism, GoldenLedgerTraceHashAcrossBuilds) {
  const auto r =
      load_scenario(std::string(STREAMLAB_SCENARIOS) + "/ledger-fencing.safe.textproto");
  ASSERT_TRUE(r.ok()) << r.error();
  const RunResult a = run(r.value(), 1);
  EXPECT_EQ(a.trace_hash, kGoldenLedgerTraceHash) << std::hex << a.trace_hash;
  const RunResult b = run(r.value(), 1);
  EXPECT_EQ(a.check.metrics, b.check.metrics);
}

TEST(Determinism, GoldenBrokerTraceHashAcrossBuilds) {
  const auto r =
      load_scenario(std::string(STREAMLAB_SCENARIOS) + "/zombie-broker-gc-pause.safe.textproto");
  ASSERT_TRUE(r.ok()) << r.error();
  const RunResult a = run(r.value(), 1);
  EXPECT_EQ(a.trace_hash, kGoldenBrokerTraceHash) << std::hex << a.trace_hash;
  const RunResult b = run(r.value(), 1);
  EXPECT_EQ(a.check.metrics, b.check.metrics);
}

TEST(Determinism, CheckNamesTheFirstDivergentEvent) {
  const ScenarioConfig config = basic();
  DeterminismCheck check;
  run(config, 1, [&](const sim::EventRecord& e) { check.record(e); });
  run(config, 1, [&](const sim::EventRecord& e) { check.compare(e); });
  EXPECT_FALSE(check.divergence().has_value());
  // A different seed stands in for a nondeterministic run: the check must point at the
  // first event where the traces part, with both sides.
  run(config, 2, [&](const sim::EventRecord& e) { check.compare(e); });
  ASSERT_TRUE(check.divergence().has_value());
  const Divergence& d = *check.divergence();
  EXPECT_EQ(d.first_run.index, d.second_run.index);
  EXPECT_NE(d.first_run.trace_hash, d.second_run.trace_hash);
  EXPECT_GT(d.first_run.index, 0u) << "both runs start the same nodes the same way";
}

}  // namespace
}  // namespace streamlab::workloads
