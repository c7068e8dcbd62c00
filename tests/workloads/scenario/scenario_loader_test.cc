// The scenario loader (workloads/scenario/scenario_loader.h) on what every system shares,
// shown on the counter system's scenario (test::kValid): every field loaded, and errors that
// name file, line and field: unknown fields and names, bad values and units, faults,
// swarms and checkers, every error at once, and a missing file. The BookKeeper system's
// scenarios are in scenario_loader_bookkeeper_test.cc, Pulsar's in
// scenario_loader_pulsar_test.cc.

#include "workloads/scenario/scenario_loader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/workloads/scenario/scenario_texts.h"

namespace streamlab::workloads {
namespace {

using test::error_of;
using test::expect_errors;
using test::kValid;
using test::replace;

TEST(ScenarioLoader, ValidScenarioLoadsEveryField) {
  const auto r = parse_scenario(kValid, "s.textproto");
  ASSERT_TRUE(r.ok()) << r.error();
  const ScenarioConfig& c = r.value();
  EXPECT_EQ(c.duration_ns, 10'000'000'000);
  EXPECT_EQ(c.seed, 1u);
  ASSERT_EQ(c.topology.nodes.size(), 3u);
  EXPECT_EQ(c.topology.nodes[2].clock_offset_ns, -5'000'000);
  EXPECT_EQ(c.topology.nodes[2].clock_drift_ppm, 100);
  EXPECT_EQ(c.topology.nodes[0].hardware.cpu.cores, 2u);
  EXPECT_EQ(c.topology.nodes[0].hardware.nic_bytes_per_s, 125'000'000);
  EXPECT_EQ(c.topology.latency.jitter.kind, sim::Jitter::Kind::uniform);
  EXPECT_FALSE(c.counter.server_config.fsync);
  ASSERT_EQ(c.clients.size(), 1u);
  EXPECT_DOUBLE_EQ(c.clients[0].config.rate_per_s, 100);
  ASSERT_EQ(c.faults.size(), 2u);
  EXPECT_EQ(c.faults[0].kind, sim::FaultKind::pause);  // Sorted by time.
  EXPECT_EQ(c.faults[1].kind, sim::FaultKind::crash);
  EXPECT_TRUE(c.faults[1].torn);
  EXPECT_EQ(c.faults[1].origin, "s.textproto:11");
  ASSERT_EQ(c.expectations.size(), 1u);
  EXPECT_TRUE(c.expectations[0].present);
}

TEST(ScenarioLoader, UnknownFieldNamesFileLineAndField) {
  const std::string e = error_of(kValid + "bogus_field: 3\n");
  EXPECT_NE(e.find("s.textproto:14:"), std::string::npos) << e;
  EXPECT_NE(e.find("bogus_field"), std::string::npos) << e;
}

TEST(ScenarioLoader, WrongTypeIsRejected) {
  const std::string e = error_of(replace(kValid, "duration: \"10s\"", "duration: \"10s\" seed: \"x\""));
  EXPECT_NE(e.find("s.textproto:2:"), std::string::npos) << e;
}

TEST(ScenarioLoader, MissingDurationIsReported) {
  const std::string e = error_of(replace(kValid, "duration: \"10s\"", ""));
  EXPECT_NE(e.find("missing 'duration'"), std::string::npos) << e;
}

TEST(ScenarioLoader, NegativeDurationIsRejectedAtItsLine) {
  const std::string e = error_of(replace(kValid, "\"10s\"", "\"-10s\""));
  EXPECT_NE(e.find("s.textproto:2: duration"), std::string::npos) << e;
  EXPECT_NE(e.find("negative"), std::string::npos) << e;
}

TEST(ScenarioLoader, UnknownZoneInFaultIsRejected) {
  const std::string e = error_of(replace(kValid, "pause { nodes: [\"other\"] }", "zone_kill { zone: \"z\" }"));
  EXPECT_NE(e.find("s.textproto:12: zone: no zone named \"z\""), std::string::npos) << e;
}

TEST(ScenarioLoader, UnknownNodeInFaultIsRejected) {
  const std::string e = error_of(replace(kValid, "nodes: [\"server\"] torn", "nodes: [\"ghost\"] torn"));
  EXPECT_NE(e.find("s.textproto:11: nodes: no node named \"ghost\""), std::string::npos) << e;
}

TEST(ScenarioLoader, PauseNeedsItsLength) {
  const std::string e = error_of(replace(kValid, "for: \"500ms\" pause", "pause"));
  EXPECT_NE(e.find("s.textproto:12: pause: missing 'for'"), std::string::npos) << e;
}

TEST(ScenarioLoader, FaultAfterTheEndIsRejected) {
  const std::string e = error_of(replace(kValid, "at: \"2s\"", "at: \"12s\""));
  EXPECT_NE(e.find("not before the end of the run"), std::string::npos) << e;
}

TEST(ScenarioLoader, UnknownAnomalyListsTheKnownOnes) {
  const std::string e = error_of(replace(kValid, "\"lost-write\"", "\"lost-writes\""));
  EXPECT_NE(e.find("s.textproto:13: anomaly: unknown name \"lost-writes\""), std::string::npos) << e;
  EXPECT_NE(e.find("duplicate"), std::string::npos) << e;
}

TEST(ScenarioLoader, BadUnitsAndJitterAreRejected) {
  expect_errors({
      {replace(kValid, "\"1Gbit\"", "\"1 gigabit\""), "s.textproto:7: nic"},
      {replace(kValid, "uniform(0us,50us)", "gaussian(3)"), "s.textproto:6: jitter"},
  });
}

TEST(ScenarioLoader, DuplicateNodeAndUnknownHardware) {
  expect_errors({
      {replace(kValid, "\"client\"]", "\"server\"]"), "defined twice"},
      {replace(kValid, "name: \"other\"", "name: \"other\" hardware: \"big\""),
       "no profile named \"big\""},
  });
}

TEST(ScenarioLoader, SwarmLivenessNeedsRecoveryBound) {
  const std::string e = error_of(kValid + "swarm { mode: LIVENESS stop: \"5s\" rate { kind: \"crash\" per_minute: 1 } }\n");
  EXPECT_NE(e.find("needs 'recovery_bound'"), std::string::npos) << e;
  const std::string k = error_of(kValid + "swarm { rate { kind: \"meteor\" per_minute: 1 } }\n");
  EXPECT_NE(k.find("unknown fault kind \"meteor\""), std::string::npos) << k;
}

// What `streamlab shrink` writes once a liveness swarm's draw is scripted: no rates, only
// the heal at `stop` and the recovery judgement. A safety swarm without rates is a mistake.
TEST(ScenarioLoader, LivenessSwarmWithoutRatesOnlyHeals) {
  const auto r = parse_scenario(
      kValid + "swarm { mode: LIVENESS stop: \"5s\" recovery_bound: \"1s\" }\n", "s.textproto");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_TRUE(r.value().has_swarm);
  EXPECT_TRUE(r.value().swarm.liveness);
  EXPECT_EQ(r.value().swarm.stop_ns, 5'000'000'000);
  EXPECT_TRUE(r.value().swarm.rate_per_minute.empty());
  const std::string e = error_of(kValid + "swarm { stop: \"5s\" }\n");
  EXPECT_NE(e.find("no 'rate'"), std::string::npos) << e;
}

TEST(ScenarioLoader, EveryErrorIsReportedNotJustTheFirst) {
  std::string text = replace(kValid, "\"1Gbit\"", "\"1 gigabit\"");
  text = replace(text, "\"1ms\" }", "\"slow\" }");
  const std::string e = error_of(text);
  EXPECT_NE(e.find("nic"), std::string::npos) << e;
  EXPECT_NE(e.find("fsync"), std::string::npos) << e;
}

TEST(ScenarioLoader, PartitionsTakeZoneSets) {
  const auto r = parse_scenario(
      replace(kValid, "pause { nodes: [\"other\"] }",
              "partition { zones: [\"a\"] peer_zones: [\"b\"] one_way: true }"),
      "s.textproto");
  ASSERT_TRUE(r.ok()) << r.error();
  const sim::Fault& f = r.value().faults[0];
  EXPECT_EQ(f.kind, sim::FaultKind::partition);
  EXPECT_EQ(f.nodes, (std::vector<std::uint32_t>{0, 1}));
  EXPECT_EQ(f.peers, (std::vector<std::uint32_t>{2}));
  EXPECT_TRUE(f.one_way);
  const std::string e = error_of(
      replace(kValid, "pause { nodes: [\"other\"] }", "partition { zones: [\"mars\"] }"));
  EXPECT_NE(e.find("s.textproto:12: zones: no zone named \"mars\""), std::string::npos) << e;
}

TEST(ScenarioLoader, UnknownCheckerIsRejected) {
  EXPECT_TRUE(parse_scenario(kValid + "checker: \"counter\"\n", "s.textproto").ok());
  const std::string e = error_of(kValid + "checker: \"kafka\"\n");
  EXPECT_NE(e.find("s.textproto:14: checker: unknown checker \"kafka\""), std::string::npos) << e;
}

TEST(ScenarioLoader, MissingFileIsAClearError) {
  const auto r = load_scenario("/nonexistent/x.textproto");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("/nonexistent/x.textproto: cannot open"), std::string::npos);
}

}  // namespace
}  // namespace streamlab::workloads
