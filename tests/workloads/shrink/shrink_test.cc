// `streamlab shrink`: the result still fails the same way and is smaller, a swarm written
// out as faults replays the very same run, and there must be something to keep. The
// full shrinks of whole scenarios are in the Scenarios suite (release builds only).

#include "workloads/shrink/shrink.h"

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "workloads/scenario/scenario_loader.h"
#include "workloads/run/scenario_runner.h"
#include "workloads/shrink/shrink_edits.h"
#include "workloads/shrink/shrink_trial.h"

namespace streamlab::workloads {
namespace {

std::string read_scenario(const std::string& name) {
  std::ifstream in(std::string(STREAMLAB_SCENARIOS) + "/" + name);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? text : text.replace(at, from.size(), to);
}

// counter-swarm.safe with fsync off: a LIVENESS swarm whose seed 5 loses acknowledged adds.
std::string counter_swarm_without_fsync() {
  return replace(read_scenario("counter-swarm.safe.textproto"),
                 "system { counter { server: \"server\" } }",
                 "system { counter { server: \"server\" fsync: false } }");
}
constexpr std::uint64_t kFailingSeed = 5;

scenario::Scenario proto_of(const std::string& text) {
  scenario::Scenario s;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &s));
  return s;
}

ScenarioConfig load(const std::string& text) {
  const auto r = parse_scenario(text, "t.textproto");
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? r.value() : ScenarioConfig{};
}

RunResult run(const ScenarioConfig& config, std::uint64_t seed) {
  RunOptions options;
  options.seed = seed;
  return run_scenario(config, options);
}

ShrinkOptions options_for(std::uint64_t seed) {
  ShrinkOptions options;
  options.seed = seed;
  options.jobs = 2;
  options.out_path = "min.textproto";
  return options;
}

bool smaller(const ShrinkSize& a, const ShrinkSize& b) {
  return a.faults < b.faults || a.duration_ns < b.duration_ns ||
         a.workload_entries < b.workload_entries;
}

void expect_swarm_replays(const std::string& text, std::uint64_t seed) {
  const ScenarioConfig config = load(text);
  ASSERT_TRUE(config.has_swarm);
  const scenario::Scenario written = with_swarm_explicit(proto_of(text), config, seed);
  const ScenarioConfig explicit_config = load(print_scenario(written));
  EXPECT_EQ(explicit_config.faults.size(), scheduled_faults(config, seed).size());
  EXPECT_GT(explicit_config.faults.size(), 5u);
  EXPECT_EQ(explicit_config.has_swarm, config.swarm.liveness);
  // The heal-only swarm that stays draws nothing.
  EXPECT_EQ(scheduled_faults(explicit_config, seed).size(), explicit_config.faults.size());
  const RunResult a = run(config, seed);
  const RunResult b = run(explicit_config, seed);
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  EXPECT_EQ(a.events, b.events);
  EXPECT_EQ(a.check.anomalies, b.check.anomalies);
}

TEST(Shrink, LivenessSwarmMadeExplicitReplaysTheSameTrace) {
  const std::string text = counter_swarm_without_fsync();
  expect_swarm_replays(text, kFailingSeed);
  EXPECT_FALSE(run(load(text), kFailingSeed).expectations_met) << "the seed should fail";
}

TEST(Shrink, NothingToKeepIsAnError) {
  const auto r = shrink_scenario(read_scenario("counter-basic.textproto"), "counter-basic",
                                 options_for(1), {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("counter-basic: seed 1 meets every expectation"), std::string::npos)
      << r.error();
  EXPECT_NE(r.error().find("--keep"), std::string::npos) << r.error();
}

// counter-basic expecting a lost write it never has: a miss, which would shrink to nothing.
TEST(Shrink, ARunThatOnlyMissesAnAnomalyIsAnError) {
  const std::string text = read_scenario("counter-basic.textproto") +
                           "\nexpect { anomaly: \"lost-write\" present: true }\n";
  const auto r = shrink_scenario(text, "counter-basic", options_for(1), {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("fails only by finding no lost-write"), std::string::npos) << r.error();
  EXPECT_NE(r.error().find("--keep"), std::string::npos) << r.error();
}

TEST(Shrink, KeepNeedsAKnownAnomalyTheRunFinds) {
  ShrinkOptions options = options_for(1);
  options.keep_anomaly = "meteor";
  const auto unknown =
      shrink_scenario(read_scenario("counter-basic.textproto"), "counter-basic", options, {});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().find("unknown anomaly \"meteor\""), std::string::npos)
      << unknown.error();
  options.keep_anomaly = "lost-write";
  const auto absent =
      shrink_scenario(read_scenario("counter-basic.textproto"), "counter-basic", options, {});
  ASSERT_FALSE(absent.ok());
  EXPECT_NE(absent.error().find("finds no lost-write"), std::string::npos) << absent.error();
}

TEST(Shrink, BadScenarioIsAnErrorNamingTheFile) {
  const auto r = shrink_scenario("name: \"x\"\n", "bad.textproto", options_for(1), {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("bad.textproto"), std::string::npos) << r.error();
}

TEST(Shrink, EditsLeaveTheRestAlone) {
  const scenario::Scenario s = proto_of(read_scenario("broker-failover.unsafe.textproto"));
  const std::vector<WorkloadEntry> entries = workload_entries(s);
  ASSERT_EQ(entries.size(), 5u);  // Two producers, three consumers.
  const scenario::Scenario fewer = without_entry(s, entries[2]);
  ASSERT_EQ(fewer.workload().consumer_size(), 2);
  EXPECT_EQ(fewer.workload().consumer(0).node(), "client-2");
  EXPECT_EQ(fewer.workload().producer_size(), 2);

  const scenario::Scenario shorter = with_duration(s, 15'000'000'000);
  EXPECT_EQ(shorter.duration(), "15s");
  ASSERT_EQ(shorter.fault_size(), 1);  // The restart at 22 s is past the end.
  EXPECT_TRUE(shorter.fault(0).has_crash());

  // Rates and stops of both producers; consumers have neither rate nor stop here.
  const std::vector<WorkloadKnob> knobs = workload_knobs(s);
  ASSERT_EQ(knobs.size(), 4u);
  const auto halved = with_knob_halved(s, knobs[0]);
  ASSERT_TRUE(halved.has_value());
  EXPECT_EQ(halved->workload().producer(0).rate(), "1000/s");
  const auto stop = with_knob_halved(s, knobs[1]);
  ASSERT_TRUE(stop.has_value());
  EXPECT_EQ(stop->workload().producer(0).stop(), "16.5s");
  EXPECT_TRUE(load(print_scenario(*stop)).queue_clients.size() > 0);
}

// The required end-to-end shrink of a shipped unsafe scenario (4 s in a release build).
TEST(Scenarios, ShrinkLedgerFencingUnsafeKeepsItsAnomalies) {
  const auto r = shrink_scenario(read_scenario("ledger-fencing.unsafe.textproto"),
                                 "ledger-fencing.unsafe.textproto", options_for(1), {});
  ASSERT_TRUE(r.ok()) << r.error();
  const ShrinkSummary& s = r.value();
  EXPECT_EQ(s.property, "finds split-brain and lost-write");
  EXPECT_TRUE(smaller(s.after, s.before));
  EXPECT_LT(s.after.duration_ns, 20'000'000'000) << "the pause ends at 18 s";
  EXPECT_FALSE(s.cap_reached);
  EXPECT_EQ(s.text.rfind("# Shrunk by `streamlab shrink` from ledger-fencing.unsafe", 0), 0u);
  EXPECT_NE(s.text.find("# Reproduce: streamlab run min.textproto --seed 1\n"), std::string::npos);
  const ScenarioConfig config = load(s.text);
  EXPECT_EQ(config.seed, 1u);
  EXPECT_EQ(config.name, "ledger-fencing (unsafe) (shrunk)");
  const RunResult again = run(config, 1);
  EXPECT_EQ(again.trace_hash, s.trace_hash);
  EXPECT_GT(again.check.anomalies.count("split-brain"), 0u);
  EXPECT_GT(again.check.anomalies.count("lost-write"), 0u);
}

// A swarm's 20 faults come down to the one crash that loses unsynced adds.
TEST(Scenarios, ShrinkCounterSwarmWithoutFsyncToOneCrash) {
  const auto r = shrink_scenario(counter_swarm_without_fsync(), "counter-swarm-no-fsync",
                                 options_for(kFailingSeed), {});
  ASSERT_TRUE(r.ok()) << r.error();
  const ShrinkSummary& s = r.value();
  EXPECT_EQ(s.property,
            "fails expect { anomaly: \"lost-write\" present: false }: finds lost-write");
  EXPECT_EQ(s.swarm_faults, s.before.faults);
  ASSERT_EQ(s.after.faults, 1u);
  const ScenarioConfig config = load(s.text);
  EXPECT_EQ(config.faults[0].kind, sim::FaultKind::crash);
  EXPECT_EQ(config.seed, kFailingSeed);
  EXPECT_GT(run(config, kFailingSeed).check.anomalies.count("lost-write"), 0u);
}

// The result does not depend on how many runs go in parallel.
TEST(Scenarios, ShrinkGivesTheSameResultForEveryJobCount) {
  ShrinkOptions one = options_for(kFailingSeed);
  one.jobs = 1;
  ShrinkOptions three = options_for(kFailingSeed);
  three.jobs = 3;
  const auto a = shrink_scenario(counter_swarm_without_fsync(), "c", one, {});
  const auto b = shrink_scenario(counter_swarm_without_fsync(), "c", three, {});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a.value().text, b.value().text);
}

TEST(Scenarios, SafetySwarmMadeExplicitReplaysTheSameTrace) {
  expect_swarm_replays(read_scenario("ledger-swarm.safe.textproto"), 3);
}

}  // namespace
}  // namespace streamlab::workloads
