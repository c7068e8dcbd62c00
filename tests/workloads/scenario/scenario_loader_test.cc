#include "workloads/scenario/scenario_loader.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace streamlab::workloads {
namespace {

// A valid scenario; tests break one line of it at a time.
const std::string kValid = R"pb(name: "t"
duration: "10s"
topology {
  zone { name: "a" nodes: ["server", "client"] }
  zone { name: "b" node { name: "other" clock_offset: "-5ms" clock_drift_ppm: 100 } }
  latency { within_zone: "100us" across_zones: "1ms" jitter: "uniform(0us,50us)" }
  hardware { name: "default" cores: 2 nic: "1Gbit" disk { fsync: "1ms" } }
}
system { counter { server: "server" fsync: false } }
workload { counter_client { node: "client" rate: "100/s" timeout: "200ms" } }
fault { at: "2s" for: "1s" crash { nodes: ["server"] torn: true } }
fault { at: "1s" for: "500ms" pause { nodes: ["other"] } }
expect { anomaly: "lost-write" present: true }
)pb";

std::string error_of(const std::string& text) {
  const auto r = parse_scenario(text, "s.textproto");
  EXPECT_FALSE(r.ok()) << "expected an error for:\n" << text;
  return r.ok() ? "" : r.error();
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

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
  EXPECT_NE(error_of(replace(kValid, "\"1Gbit\"", "\"1 gigabit\"")).find("s.textproto:7: nic"),
            std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "uniform(0us,50us)", "gaussian(3)")).find("s.textproto:6: jitter"),
            std::string::npos);
}

TEST(ScenarioLoader, DuplicateNodeAndUnknownHardware) {
  EXPECT_NE(error_of(replace(kValid, "\"client\"]", "\"server\"]")).find("defined twice"),
            std::string::npos);
  EXPECT_NE(error_of(replace(kValid, "name: \"other\"", "name: \"other\" hardware: \"big\"")).find("no profile named \"big\""),
            std::string::npos);
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

// A valid storage-system scenario; the line numbers in the comments are the ones the
// errors below name.
const std::string kBookKeeper = R"pb(name: "bk"
duration: "10s"
topology {
  zone { name: "a" nodes: ["meta", "b1", "w1"] }
  zone { name: "b" nodes: ["b2", "w2"] }
  zone { name: "c" nodes: ["b3", "b4"] }
}
system {
  bookkeeper {
    metadata: "meta"
    bookies: ["b1", "b2", "b3"]
  }
}
workload { ledger_writer { node: "w1" rate: "100/s" } }
expect { anomaly: "split-brain" present: false }
)pb";
// Lines: 10 metadata, 11 bookies, 14 workload, 15 expect.

// kBookKeeper with its bookies one per line (lines 11-13) and `extra` after them, on
// line 14. Protobuf records one location per `bookies:`, not per element of a [list].
std::string with_bookie(const std::string& extra) {
  return replace(kBookKeeper, "bookies: [\"b1\", \"b2\", \"b3\"]",
                 "bookies: \"b1\"\n    bookies: \"b2\"\n    bookies: \"b3\"\n    bookies: \"" +
                     extra + "\"");
}

TEST(ScenarioLoader, BookKeeperScenarioLoadsWithDefaults) {
  const auto r = parse_scenario(kBookKeeper, "s.textproto");
  ASSERT_TRUE(r.ok()) << r.error();
  const ScenarioConfig& c = r.value();
  EXPECT_EQ(c.system, SystemKind::bookkeeper);
  EXPECT_EQ(c.bookkeeper.metadata, 0u);
  EXPECT_EQ(c.bookkeeper.bookies, (std::vector<std::uint32_t>{1, 3, 5}));
  EXPECT_EQ(c.topology.nodes[0].role, "metadata-store");
  EXPECT_EQ(c.topology.nodes[1].role, "bookie");
  EXPECT_EQ(c.topology.nodes[2].role, "ledger-writer");
  EXPECT_TRUE(c.topology.nodes[4].role.empty());  // w2 runs nothing.
  EXPECT_TRUE(c.bookkeeper.bookie.journal_sync_data);
  EXPECT_EQ(c.bookkeeper.bookie.journal_max_group_wait_ns, 1'000'000);
  EXPECT_EQ(c.bookkeeper.bookie.journal_buffered_writes_threshold, 512u * 1024);
  const LedgerWriterConfig& d = c.bookkeeper.writer_defaults;
  EXPECT_EQ(d.options.quorums.ensemble, 3u);
  EXPECT_EQ(d.options.quorums.write_quorum, 3u);
  EXPECT_EQ(d.options.quorums.ack_quorum, 2u);
  EXPECT_EQ(d.options.placement.policy, storage::PlacementPolicy::zone_aware);
  EXPECT_TRUE(d.options.placement.enforce);
  EXPECT_EQ(d.options.placement.min_zones_per_write_quorum, 2u);
  EXPECT_TRUE(d.ledger.recovery_fencing);
  EXPECT_EQ(d.ledger.add_timeout_ns, 5'000'000'000);
  EXPECT_EQ(d.metadata.session_timeout_ns, 5'000'000'000);
  EXPECT_EQ(d.metadata.store, "meta");
  ASSERT_EQ(d.ledger.bookies.size(), 3u);
  EXPECT_EQ(d.ledger.bookies[1].name, "b2");
  EXPECT_EQ(d.ledger.bookies[1].zone, "b");
  ASSERT_EQ(c.writers.size(), 1u);
  const WriterSpec& w = c.writers[0];
  EXPECT_EQ(w.node, 2u);
  EXPECT_EQ(w.config.log, "log");
  EXPECT_DOUBLE_EQ(w.config.rate_per_s, 100);
  EXPECT_FALSE(w.config.poisson);
  EXPECT_EQ(w.config.entry_bytes, 1024u);
  EXPECT_EQ(w.config.start_ns, 0);
  EXPECT_EQ(w.config.stop_ns, c.duration_ns);
  EXPECT_EQ(w.config.options.quorums.write_quorum, 3u);  // The system's settings.
  EXPECT_TRUE(w.config.ledger.recovery_fencing);
  ASSERT_EQ(c.expectations.size(), 1u);
  EXPECT_EQ(c.expectations[0].anomaly, "split-brain");
  EXPECT_EQ(c.expectations[0].origin, "s.textproto:15");
}

TEST(ScenarioLoader, BookKeeperKnobsOverrideTheDefaults) {
  std::string text = replace(kBookKeeper, "bookies: [\"b1\", \"b2\", \"b3\"]",
                             "bookies: [\"b1\", \"b2\", \"b3\", \"b4\"] ensemble: 4 write_quorum: 3 "
                             "ack_quorum: 3 journal_sync_data: false recovery_fencing: false "
                             "placement: RANDOM min_zones_per_write_quorum: 3 "
                             "enforce_placement: false session_timeout: \"2s\" add_timeout: \"1s\" "
                             "journal_max_group_wait: \"2ms\" "
                             "journal_buffered_writes_threshold: \"64KiB\"");
  text = replace(text, "rate: \"100/s\"",
                 "rate: \"100/s\" log: \"orders\" arrival: POISSON entry_size: \"100B\" "
                 "max_in_flight: 5 start: \"1s\" stop: \"9s\" max_adds: 50 } "
                 "ledger_writer { node: \"w2\" log: \"orders\" rate: \"10/s\"");
  const auto r = parse_scenario(text, "s.textproto");
  ASSERT_TRUE(r.ok()) << r.error();
  const ScenarioConfig& c = r.value();
  EXPECT_FALSE(c.bookkeeper.bookie.journal_sync_data);
  EXPECT_EQ(c.bookkeeper.bookie.journal_max_group_wait_ns, 2'000'000);
  EXPECT_EQ(c.bookkeeper.bookie.journal_buffered_writes_threshold, 64u * 1024);
  const LedgerWriterConfig& d = c.bookkeeper.writer_defaults;
  EXPECT_EQ(d.options.quorums.ensemble, 4u);
  EXPECT_EQ(d.options.quorums.write_quorum, 3u);
  EXPECT_EQ(d.options.quorums.ack_quorum, 3u);
  EXPECT_EQ(d.options.placement.policy, storage::PlacementPolicy::random);
  EXPECT_FALSE(d.options.placement.enforce);
  EXPECT_EQ(d.options.placement.min_zones_per_write_quorum, 3u);
  EXPECT_FALSE(d.ledger.recovery_fencing);
  EXPECT_EQ(d.ledger.add_timeout_ns, 1'000'000'000);
  EXPECT_EQ(d.metadata.session_timeout_ns, 2'000'000'000);
  ASSERT_EQ(c.writers.size(), 2u);
  const LedgerWriterConfig& w = c.writers[0].config;
  EXPECT_EQ(w.log, "orders");
  EXPECT_TRUE(w.poisson);
  EXPECT_EQ(w.entry_bytes, 100u);
  EXPECT_EQ(w.max_in_flight, 5u);
  EXPECT_EQ(w.start_ns, 1'000'000'000);
  EXPECT_EQ(w.stop_ns, 9'000'000'000);
  EXPECT_EQ(w.max_adds, 50u);
  EXPECT_FALSE(w.ledger.recovery_fencing);  // Each writer carries the system's knobs.
  EXPECT_EQ(w.options.quorums.ensemble, 4u);
  EXPECT_EQ(c.writers[1].node, 4u);
  EXPECT_EQ(c.writers[1].config.log, "orders");
}

TEST(ScenarioLoader, WriteQuorumDefaultsToTheEnsembleAndAckQuorumFollowsIt) {
  auto r = parse_scenario(replace(kBookKeeper, "\"b3\"]", "\"b3\"] ensemble: 2"), "s.textproto");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.value().bookkeeper.writer_defaults.options.quorums.write_quorum, 2u);
  EXPECT_EQ(r.value().bookkeeper.writer_defaults.options.quorums.ack_quorum, 2u);
  r = parse_scenario(replace(kBookKeeper, "\"b3\"]", "\"b3\"] write_quorum: 1"), "s.textproto");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.value().bookkeeper.writer_defaults.options.quorums.ack_quorum, 1u);
}

TEST(ScenarioLoader, AckQuorumAboveWriteQuorumIsRejected) {
  const std::string e =
      error_of(replace(kBookKeeper, "\"b3\"]", "\"b3\"]\n    write_quorum: 2 ack_quorum: 3"));
  EXPECT_NE(e.find("s.textproto:12: ack_quorum: "), std::string::npos) << e;
  EXPECT_NE(e.find("ack quorum (3) must be <= write quorum (2)"), std::string::npos) << e;
}

TEST(ScenarioLoader, WriteQuorumAboveEnsembleIsRejected) {
  const std::string e =
      error_of(replace(kBookKeeper, "\"b3\"]", "\"b3\"]\n    ensemble: 2\n    write_quorum: 3"));
  EXPECT_NE(e.find("s.textproto:13: write_quorum: "), std::string::npos) << e;
  EXPECT_NE(e.find("write quorum (3) must be <= ensemble size (2)"), std::string::npos) << e;
}

TEST(ScenarioLoader, EnsembleLargerThanTheBookiesIsRejected) {
  const std::string e = error_of(replace(kBookKeeper, "\"b3\"]", "\"b3\"]\n    ensemble: 4"));
  EXPECT_NE(e.find("s.textproto:12: ensemble: 4 bookies per ledger but only 3 bookies listed"),
            std::string::npos)
      << e;
  // The default ensemble (3) is checked too, at the bookkeeper block.
  const std::string d = error_of(replace(kBookKeeper, ", \"b3\"]", "]"));
  EXPECT_NE(d.find("s.textproto:9: ensemble: 3 bookies per ledger but only 2"), std::string::npos)
      << d;
}

TEST(ScenarioLoader, UnknownBookieIsRejectedAtItsLine) {
  const std::string first = error_of(replace(kBookKeeper, "[\"b1\",", "[\"b9\","));
  EXPECT_NE(first.find("s.textproto:11: bookies: no node named \"b9\""), std::string::npos) << first;
  const std::string later = error_of(with_bookie("b9"));
  EXPECT_NE(later.find("s.textproto:14: bookies: no node named \"b9\""), std::string::npos) << later;
  const std::string meta = error_of(replace(kBookKeeper, "metadata: \"meta\"", "metadata: \"ghost\""));
  EXPECT_NE(meta.find("s.textproto:10: metadata: no node named \"ghost\""), std::string::npos) << meta;
  const std::string none = error_of(replace(kBookKeeper, "metadata: \"meta\"", ""));
  EXPECT_NE(none.find("s.textproto:9: bookkeeper: missing 'metadata'"), std::string::npos) << none;
}

TEST(ScenarioLoader, UnknownBookieErrorNamesTheField) {
  const std::string e = error_of(replace(kBookKeeper, "[\"b1\",", "[\"b9\","));
  EXPECT_NE(e.find("s.textproto:11: bookies: no node named \"b9\""), std::string::npos) << e;
  const std::string m = error_of(replace(kBookKeeper, "metadata: \"meta\"", "metadata: \"ghost\""));
  EXPECT_NE(m.find("s.textproto:10: metadata: no node named \"ghost\""), std::string::npos) << m;
}

TEST(ScenarioLoader, ErrorInALaterListElementNamesTheListsLine) {
  const std::string e = error_of(replace(kBookKeeper, "\"b3\"]", "\"b9\"]"));
  EXPECT_NE(e.find("s.textproto:11:"), std::string::npos) << e;
}

TEST(ScenarioLoader, BookieListedTwiceOrNodeAlreadyBusyIsRejected) {
  const std::string twice = error_of(with_bookie("b1"));
  EXPECT_NE(twice.find("s.textproto:14: bookies: node \"b1\" already runs bookie"), std::string::npos)
      << twice;
  const std::string meta = error_of(with_bookie("meta"));
  EXPECT_NE(meta.find("s.textproto:14: bookies: node \"meta\" already runs metadata-store"),
            std::string::npos)
      << meta;
  const std::string writer = error_of(replace(kBookKeeper, "node: \"w1\"", "node: \"b2\""));
  EXPECT_NE(writer.find("s.textproto:14: node: node \"b2\" already runs bookie"), std::string::npos)
      << writer;
}

TEST(ScenarioLoader, EnforcedZoneAwarePlacementNeedsSeveralZones) {
  // Every bookie in zone "a".
  const std::string bookies = "bookies: [\"b1\", \"x2\", \"x3\"]";
  std::string one_zone = replace(kBookKeeper, "[\"meta\", \"b1\", \"w1\"]",
                                 "[\"meta\", \"b1\", \"w1\", \"x2\", \"x3\"]");
  one_zone = replace(one_zone, "bookies: [\"b1\", \"b2\", \"b3\"]", bookies);
  const auto random = parse_scenario(replace(one_zone, bookies, bookies + " placement: RANDOM"),
                                     "s.textproto");
  EXPECT_TRUE(random.ok()) << random.error();
  const auto best_effort = parse_scenario(
      replace(one_zone, bookies, bookies + " enforce_placement: false"), "s.textproto");
  EXPECT_TRUE(best_effort.ok()) << best_effort.error();
  const std::string e =
      error_of(replace(one_zone, bookies, bookies + "\n    placement: ZONE_AWARE"));
  EXPECT_NE(e.find("s.textproto:12: placement: enforced zone-aware placement needs bookies in at "
                   "least 2 zones, but they are in 1"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("RANDOM"), std::string::npos) << e;
  EXPECT_NE(e.find("enforce_placement: false"), std::string::npos) << e;
  // Unset, the placement is still zone-aware and enforced: reported at the block.
  const std::string d = error_of(one_zone);
  EXPECT_NE(d.find("s.textproto:9: placement: enforced zone-aware"), std::string::npos) << d;
}

TEST(ScenarioLoader, LedgerWriterNeedsTheBookKeeperSystem) {
  const std::string e =
      error_of(replace(kValid, "counter_client { node: \"client\" rate: \"100/s\" timeout: \"200ms\" }",
                       "ledger_writer { node: \"client\" rate: \"100/s\" }"));
  EXPECT_NE(e.find("s.textproto:10: ledger_writer: needs system { bookkeeper { ... } }"),
            std::string::npos)
      << e;
}

TEST(ScenarioLoader, CounterClientNeedsTheCounterSystem) {
  const std::string e =
      error_of(replace(kBookKeeper, "ledger_writer { node: \"w1\" rate: \"100/s\" }",
                       "counter_client { node: \"w1\" rate: \"100/s\" }"));
  EXPECT_NE(e.find("s.textproto:14: counter_client: needs system { counter { ... } }"),
            std::string::npos)
      << e;
}

TEST(ScenarioLoader, SplitBrainIsALedgerAnomalyOnly) {
  EXPECT_TRUE(parse_scenario(kBookKeeper, "s.textproto").ok());
  const std::string e = error_of(replace(kValid, "\"lost-write\"", "\"split-brain\""));
  EXPECT_NE(e.find("s.textproto:13: anomaly: unknown name \"split-brain\""), std::string::npos) << e;
  // And the counter's own anomaly is not the ledger checker's.
  const std::string n = error_of(replace(kBookKeeper, "\"split-brain\"", "\"not-recovered\""));
  EXPECT_NE(n.find("s.textproto:15: anomaly: unknown name \"not-recovered\""), std::string::npos)
      << n;
}

TEST(ScenarioLoader, LedgerCheckerIsAcceptedForBookKeeper) {
  const auto r = parse_scenario(kBookKeeper + "checker: \"ledger\"\n", "s.textproto");
  EXPECT_TRUE(r.ok()) << r.error();
  const std::string e = error_of(kBookKeeper + "checker: \"counter\"\n");
  EXPECT_NE(e.find("s.textproto:16: checker: unknown checker \"counter\"; this system has: ledger"),
            std::string::npos)
      << e;
  const std::string k = error_of(kValid + "checker: \"ledger\"\n");
  EXPECT_NE(k.find("s.textproto:14: checker: unknown checker \"ledger\""), std::string::npos) << k;
}

TEST(ScenarioLoader, CrashWithWipeAndTornIsRejected) {
  const std::string e =
      error_of(kBookKeeper + "fault { at: \"1s\" crash { nodes: [\"b1\"] torn: true wipe: true } }\n");
  EXPECT_NE(e.find("s.textproto:16: crash: torn and wipe together"), std::string::npos) << e;
  EXPECT_TRUE(parse_scenario(kBookKeeper + "fault { at: \"1s\" crash { nodes: [\"b1\"] wipe: true } }\n",
                             "s.textproto")
                  .ok());
}

TEST(ScenarioLoader, OnlyZoneKillWipes) {
  const std::string e =
      error_of(kBookKeeper + "fault { at: \"1s\" zone_restore { zone: \"a\" wipe: true } }\n");
  EXPECT_NE(e.find("s.textproto:16: wipe: only zone_kill destroys disks"), std::string::npos) << e;
  const auto r =
      parse_scenario(kBookKeeper + "fault { at: \"1s\" zone_kill { zone: \"c\" wipe: true } }\n",
                     "s.textproto");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_TRUE(r.value().faults[0].wipe);
}

// A valid broker-system scenario; the line numbers in the comments are the ones the
// errors below name.
const std::string kPulsar = R"pb(name: "q"
duration: "10s"
topology {
  zone { name: "a" nodes: ["meta", "bk1", "br1", "c1"] }
  zone { name: "b" nodes: ["bk2", "br2", "c2", "bk3"] }
}
system {
  pulsar {
    storage { metadata: "meta" bookies: ["bk1", "bk2"] }
    brokers: ["br1", "br2"]
    topic { name: "orders" partitions: 2 }
    topic { name: "events" }
  }
}
workload {
  producer { node: "c1" topic: "orders" rate: "100/s" }
  consumer { node: "c2" topic: "orders" type: SHARED }
}
expect { anomaly: "duplicate-delivery" present: false }
)pb";
// Lines: 9 storage, 10 brokers, 11-12 topics, 16 producer, 17 consumer, 19 expect.

TEST(ScenarioLoader, PulsarScenarioLoadsWithPulsarDefaults) {
  const auto r = parse_scenario(kPulsar, "s.textproto");
  ASSERT_TRUE(r.ok()) << r.error();
  const ScenarioConfig& c = r.value();
  EXPECT_EQ(c.system, SystemKind::pulsar);
  EXPECT_EQ(c.topology.nodes[0].role, "metadata-store");
  EXPECT_EQ(c.topology.nodes[1].role, "bookie");
  EXPECT_EQ(c.topology.nodes[2].role, "broker");
  EXPECT_EQ(c.topology.nodes[3].role, "queue-client");
  EXPECT_EQ(c.topology.nodes[6].role, "queue-client");
  EXPECT_TRUE(c.topology.nodes[7].role.empty());  // bk3 runs nothing.
  const PulsarSystemConfig& p = c.pulsar;
  EXPECT_EQ(p.brokers, (std::vector<std::uint32_t>{2, 5}));
  EXPECT_EQ(p.client.brokers, (std::vector<std::string>{"br1", "br2"}));
  EXPECT_EQ(p.client.keepalive_ns, 30'000'000'000);
  EXPECT_EQ(p.client.operation_timeout_ns, 30'000'000'000);
  const pulsar::BrokerConfig& b = p.broker;
  EXPECT_EQ(b.ledger_options.quorums.ensemble, 2u);  // Pulsar's 2/2/2, not BookKeeper's 3/3/2.
  EXPECT_EQ(b.ledger_options.quorums.write_quorum, 2u);
  EXPECT_EQ(b.ledger_options.quorums.ack_quorum, 2u);
  EXPECT_EQ(b.ledger_options.placement.policy, storage::PlacementPolicy::zone_aware);
  EXPECT_EQ(b.metadata.store, "meta");
  EXPECT_EQ(b.metadata.session_timeout_ns, 5'000'000'000);
  ASSERT_EQ(b.ledger.bookies.size(), 2u);
  EXPECT_EQ(b.ledger.bookies[1].name, "bk2");
  EXPECT_EQ(b.ledger.bookies[1].zone, "b");
  EXPECT_TRUE(b.ledger.recovery_fencing);
  EXPECT_TRUE(b.dedup);
  EXPECT_EQ(b.dedup_snapshot_interval, 1000u);
  EXPECT_EQ(b.max_entries_per_ledger, 50'000u);
  EXPECT_EQ(b.max_ledger_age_ns, 4LL * 3600 * 1'000'000'000);
  EXPECT_EQ(b.retention_ns, 0);
  EXPECT_EQ(b.max_unacked_ranges_to_persist, 1000u);
  EXPECT_EQ(b.keepalive_ns, 30'000'000'000);
  EXPECT_EQ(b.partitioned_topics, (std::map<std::string, std::uint32_t>{{"orders", 2}}));
  EXPECT_EQ(p.topics, (std::map<std::string, std::uint32_t>{{"events", 0}, {"orders", 2}}));
  EXPECT_EQ(p.subscriptions,
            (std::map<std::string, pulsar::SubscriptionType>{{"sub", pulsar::SHARED}}));
  EXPECT_TRUE(c.bookkeeper.bookie.journal_sync_data);

  ASSERT_EQ(c.queue_clients.size(), 2u);
  const QueueClientSpec& pc = c.queue_clients[0];
  EXPECT_EQ(pc.node, 3u);
  EXPECT_EQ(pc.config.client.brokers, p.client.brokers);
  ASSERT_EQ(pc.config.producers.size(), 1u);
  EXPECT_TRUE(pc.config.consumers.empty());
  const QueueProducerConfig& w = pc.config.producers[0];
  EXPECT_EQ(w.topic, "orders");
  EXPECT_DOUBLE_EQ(w.rate_per_s, 100);
  EXPECT_EQ(w.arrival, ProducerArrival::constant);
  EXPECT_EQ(w.size_min, 1024u);
  EXPECT_EQ(w.size_max, 1024u);
  EXPECT_EQ(w.keys, KeyDistribution::none);
  EXPECT_EQ(w.key_count, 100u);
  EXPECT_DOUBLE_EQ(w.zipf_exponent, 1.0);
  EXPECT_EQ(w.start_ns, 0);
  EXPECT_EQ(w.stop_ns, c.duration_ns);
  EXPECT_EQ(w.max_messages, 0u);
  EXPECT_EQ(w.producer.topic, "orders");
  EXPECT_EQ(w.producer.name, "c1-p0");
  EXPECT_EQ(w.producer.batching_max_publish_delay_ns, 1'000'000);
  EXPECT_EQ(w.producer.batching_max_messages, 1000u);
  EXPECT_EQ(w.producer.batching_max_bytes, 128u * 1024);
  EXPECT_EQ(w.producer.max_pending_messages, 1000u);
  EXPECT_EQ(w.producer.send_timeout_ns, 30'000'000'000);
  EXPECT_TRUE(w.producer.resend);
  EXPECT_TRUE(w.producer.idempotent);

  const QueueClientSpec& cc = c.queue_clients[1];
  EXPECT_EQ(cc.node, 6u);
  ASSERT_EQ(cc.config.consumers.size(), 1u);
  const QueueConsumerConfig& r0 = cc.config.consumers[0];
  EXPECT_EQ(r0.consumer.topic, "orders");
  EXPECT_EQ(r0.consumer.subscription, "sub");
  EXPECT_EQ(r0.consumer.type, pulsar::SHARED);
  EXPECT_EQ(r0.consumer.name, "c2-c0");
  EXPECT_EQ(r0.consumer.initial_position, pulsar::EARLIEST);
  EXPECT_EQ(r0.consumer.receiver_queue_size, 1000u);
  EXPECT_EQ(r0.consumer.ack_timeout_ns, 0);
  EXPECT_EQ(r0.consumer.nack_redelivery_delay_ns, 1'000'000'000);
  EXPECT_EQ(r0.processing_ns, 0);
  EXPECT_FALSE(r0.cumulative);
  EXPECT_EQ(r0.nack_probability, 0);
  EXPECT_EQ(r0.slow_probability, 0);
  EXPECT_EQ(r0.start_ns, 0);
  EXPECT_EQ(r0.stop_ns, c.duration_ns);
  ASSERT_EQ(c.expectations.size(), 1u);
  EXPECT_EQ(c.expectations[0].origin, "s.textproto:19");
}

TEST(ScenarioLoader, PulsarKnobsOverrideTheDefaults) {
  std::string text = replace(
      kPulsar, "bookies: [\"bk1\", \"bk2\"] }",
      "bookies: [\"bk1\", \"bk2\", \"bk3\"] ensemble: 3 ack_quorum: 1 recovery_fencing: false "
      "journal_sync_data: false }\n"
      "    dedup: false dedup_snapshot_interval: 50 max_entries_per_ledger: 10\n"
      "    max_ledger_age: \"30s\" retention: \"1m\" max_unacked_ranges_to_persist: 7\n"
      "    keepalive: \"5s\" operation_timeout: \"2s\"");
  text =
      replace(text, "producer { node: \"c1\" topic: \"orders\" rate: \"100/s\" }",
              "producer { node: \"c1\" topic: \"orders\" rate: \"2000/s\" name: \"orders-writer\" "
              "arrival: RAMP ramp_from: \"10/s\" ramp_over: \"2s\" size: \"uniform(100B, 2KB)\" "
              "keys: ZIPF key_count: 7 zipf_exponent: 1.5 batching_max_delay: \"0s\" "
              "batching_max_messages: 10 batching_max_bytes: \"64KiB\" max_pending: 20 "
              "send_timeout: \"3s\" resend: false idempotent: false start: \"1s\" stop: \"8s\" "
              "max_messages: 500 }\n"
              "  producer { node: \"c1\" topic: \"events\" rate: \"5/s\" arrival: BURST "
              "burst_on: \"1s\" burst_off: \"2s\" size: \"8B\" keys: UNIFORM }\n"
              "  consumer { node: \"c1\" topic: \"events\" subscription: \"audit\" "
              "type: FAILOVER name: \"auditor\" processing_time: \"2ms\" receiver_queue: 5 "
              "ack_timeout: \"10s\" cumulative: true nack_probability: 0.1 nack_delay: \"50ms\" "
              "slow_probability: 0.25 slow_time: \"3s\" latest: true start: \"2s\" stop: \"9s\" }");
  const auto r = parse_scenario(text, "s.textproto");
  ASSERT_TRUE(r.ok()) << r.error();
  const ScenarioConfig& c = r.value();
  const pulsar::BrokerConfig& b = c.pulsar.broker;
  EXPECT_EQ(b.ledger_options.quorums.ensemble, 3u);
  EXPECT_EQ(b.ledger_options.quorums.write_quorum, 2u);  // Pulsar's, set apart from the ensemble.
  EXPECT_EQ(b.ledger_options.quorums.ack_quorum, 1u);
  EXPECT_FALSE(b.ledger.recovery_fencing);
  EXPECT_FALSE(c.bookkeeper.bookie.journal_sync_data);
  EXPECT_FALSE(b.dedup);
  EXPECT_EQ(b.dedup_snapshot_interval, 50u);
  EXPECT_EQ(b.max_entries_per_ledger, 10u);
  EXPECT_EQ(b.max_ledger_age_ns, 30'000'000'000);
  EXPECT_EQ(b.retention_ns, 60'000'000'000);
  EXPECT_EQ(b.max_unacked_ranges_to_persist, 7u);
  EXPECT_EQ(b.keepalive_ns, 5'000'000'000);
  EXPECT_EQ(c.pulsar.client.keepalive_ns, 5'000'000'000);
  EXPECT_EQ(c.pulsar.client.operation_timeout_ns, 2'000'000'000);
  EXPECT_EQ(c.pulsar.subscriptions, (std::map<std::string, pulsar::SubscriptionType>{
                                        {"audit", pulsar::FAILOVER}, {"sub", pulsar::SHARED}}));

  ASSERT_EQ(c.queue_clients.size(), 2u);  // c1 hosts two producers and a consumer.
  const QueueClientConfig& q = c.queue_clients[0].config;
  EXPECT_EQ(c.queue_clients[0].node, 3u);
  EXPECT_EQ(q.client.keepalive_ns, 5'000'000'000);
  EXPECT_EQ(q.client.operation_timeout_ns, 2'000'000'000);
  ASSERT_EQ(q.producers.size(), 2u);
  ASSERT_EQ(q.consumers.size(), 1u);
  const QueueProducerConfig& w = q.producers[0];
  EXPECT_EQ(w.producer.name, "orders-writer");
  EXPECT_DOUBLE_EQ(w.rate_per_s, 2000);
  EXPECT_EQ(w.arrival, ProducerArrival::ramp);
  EXPECT_DOUBLE_EQ(w.ramp_from_per_s, 10);
  EXPECT_EQ(w.ramp_over_ns, 2'000'000'000);
  EXPECT_EQ(w.size_min, 100u);
  EXPECT_EQ(w.size_max, 2000u);
  EXPECT_EQ(w.keys, KeyDistribution::zipf);
  EXPECT_EQ(w.key_count, 7u);
  EXPECT_DOUBLE_EQ(w.zipf_exponent, 1.5);
  EXPECT_EQ(w.producer.batching_max_publish_delay_ns, 0);
  EXPECT_EQ(w.producer.batching_max_messages, 10u);
  EXPECT_EQ(w.producer.batching_max_bytes, 64u * 1024);
  EXPECT_EQ(w.producer.max_pending_messages, 20u);
  EXPECT_EQ(w.producer.send_timeout_ns, 3'000'000'000);
  EXPECT_FALSE(w.producer.resend);
  EXPECT_FALSE(w.producer.idempotent);
  EXPECT_EQ(w.start_ns, 1'000'000'000);
  EXPECT_EQ(w.stop_ns, 8'000'000'000);
  EXPECT_EQ(w.max_messages, 500u);
  const QueueProducerConfig& burst = q.producers[1];
  EXPECT_EQ(burst.producer.name, "c1-p1");  // Its index within the node.
  EXPECT_EQ(burst.arrival, ProducerArrival::burst);
  EXPECT_EQ(burst.burst_on_ns, 1'000'000'000);
  EXPECT_EQ(burst.burst_off_ns, 2'000'000'000);
  EXPECT_EQ(burst.size_min, 8u);
  EXPECT_EQ(burst.size_max, 8u);
  EXPECT_EQ(burst.keys, KeyDistribution::uniform);
  const QueueConsumerConfig& r0 = q.consumers[0];
  EXPECT_EQ(r0.consumer.topic, "events");
  EXPECT_EQ(r0.consumer.subscription, "audit");
  EXPECT_EQ(r0.consumer.type, pulsar::FAILOVER);
  EXPECT_EQ(r0.consumer.name, "auditor");
  EXPECT_EQ(r0.consumer.initial_position, pulsar::LATEST);
  EXPECT_EQ(r0.consumer.receiver_queue_size, 5u);
  EXPECT_EQ(r0.consumer.ack_timeout_ns, 10'000'000'000);
  EXPECT_EQ(r0.consumer.nack_redelivery_delay_ns, 50'000'000);
  EXPECT_EQ(r0.processing_ns, 2'000'000);
  EXPECT_TRUE(r0.cumulative);
  EXPECT_DOUBLE_EQ(r0.nack_probability, 0.1);
  EXPECT_DOUBLE_EQ(r0.slow_probability, 0.25);
  EXPECT_EQ(r0.slow_ns, 3'000'000'000);
  EXPECT_EQ(r0.start_ns, 2'000'000'000);
  EXPECT_EQ(r0.stop_ns, 9'000'000'000);
  EXPECT_EQ(c.queue_clients[1].config.consumers[0].consumer.name, "c2-c0");
}

TEST(ScenarioLoader, PulsarProducerOnAnUndeclaredTopicIsRejected) {
  const std::string e =
      error_of(replace(kPulsar, "topic: \"orders\" rate", "topic: \"ghost\" rate"));
  EXPECT_NE(e.find("s.textproto:16: topic: no topic named \"ghost\""), std::string::npos) << e;
  EXPECT_NE(e.find("known: \"events\", \"orders\""), std::string::npos) << e;
  const std::string m = error_of(replace(kPulsar, "topic: \"orders\" rate", "rate"));
  EXPECT_NE(m.find("s.textproto:16: producer: missing 'topic'"), std::string::npos) << m;
  const std::string t = error_of(replace(kPulsar, "topic: \"orders\" type", "topic: \"x\" type"));
  EXPECT_NE(t.find("s.textproto:17: topic: no topic named \"x\""), std::string::npos) << t;
}

TEST(ScenarioLoader, PulsarBadSizeRangeIsRejected) {
  const std::string producer = "rate: \"100/s\" }";
  const auto with_size = [&](const std::string& size) {
    return error_of(replace(kPulsar, producer, "rate: \"100/s\" size: \"" + size + "\" }"));
  };
  const std::string backwards = with_size("uniform(2KB,100B)");
  EXPECT_NE(backwards.find("s.textproto:16: size: uniform low (2KB) is above high (100B)"),
            std::string::npos)
      << backwards;
  const std::string tiny = with_size("4B");
  EXPECT_NE(tiny.find("s.textproto:16: size: message sizes must be in [8B, 5MiB]"),
            std::string::npos)
      << tiny;
  const std::string huge = with_size("uniform(1KB,6MiB)");
  EXPECT_NE(huge.find("s.textproto:16: size: message sizes must be in [8B, 5MiB]"),
            std::string::npos)
      << huge;
  const std::string half = with_size("uniform(1KB)");
  EXPECT_NE(half.find("s.textproto:16: size: uniform needs two sizes"), std::string::npos) << half;
  const std::string unit = with_size("1 kilobyte");
  EXPECT_NE(unit.find("s.textproto:16: size: "), std::string::npos) << unit;
}

TEST(ScenarioLoader, PulsarCumulativeAcksNeedAnOrderedSubscription) {
  const std::string e = error_of(replace(kPulsar, "type: SHARED", "type: SHARED cumulative: true"));
  EXPECT_NE(e.find("s.textproto:17: cumulative: only with type EXCLUSIVE or FAILOVER, not SHARED"),
            std::string::npos)
      << e;
  EXPECT_TRUE(
      parse_scenario(replace(kPulsar, "type: SHARED", "cumulative: true"), "s.textproto").ok());
}

TEST(ScenarioLoader, PulsarConflictingSubscriptionTypesAreRejected) {
  const std::string e = error_of(
      replace(kPulsar, "type: SHARED }",
              "type: SHARED }\n  consumer { node: \"c1\" topic: \"events\" type: FAILOVER }"));
  EXPECT_NE(e.find("s.textproto:18: type: subscription \"sub\" is FAILOVER here but SHARED at "
                   "s.textproto:17"),
            std::string::npos)
      << e;
  // Consumers of one subscription that agree share it.
  const auto r = parse_scenario(
      replace(kPulsar, "type: SHARED }",
              "type: SHARED }\n  consumer { node: \"c2\" topic: \"orders\" type: SHARED }"),
      "s.textproto");
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r.value().queue_clients.size(), 2u);
  ASSERT_EQ(r.value().queue_clients[1].config.consumers.size(), 2u);
  EXPECT_EQ(r.value().queue_clients[1].config.consumers[1].consumer.name, "c2-c1");
}

TEST(ScenarioLoader, PulsarNodeUsedTwiceIsRejected) {
  const std::string broker = error_of(replace(kPulsar, "[\"br1\", \"br2\"]", "[\"br1\", \"bk1\"]"));
  EXPECT_NE(broker.find("s.textproto:10: brokers: node \"bk1\" already runs bookie"),
            std::string::npos)
      << broker;
  const std::string twice = error_of(replace(kPulsar, "[\"br1\", \"br2\"]", "[\"br1\", \"br1\"]"));
  EXPECT_NE(twice.find("s.textproto:10: brokers: node \"br1\" already runs broker"),
            std::string::npos)
      << twice;
  const std::string client = error_of(replace(kPulsar, "node: \"c2\"", "node: \"br2\""));
  EXPECT_NE(client.find("s.textproto:17: node: node \"br2\" already runs broker"),
            std::string::npos)
      << client;
  const std::string ghost = error_of(replace(kPulsar, "node: \"c1\"", "node: \"ghost\""));
  EXPECT_NE(ghost.find("s.textproto:16: node: no node named \"ghost\" in the topology"),
            std::string::npos)
      << ghost;
  const std::string names = error_of(replace(kPulsar, "rate: \"100/s\" }",
                                             "rate: \"100/s\" }\n  producer { node: \"c2\" topic: "
                                             "\"orders\" rate: \"1/s\" name: \"c1-p0\" }"));
  EXPECT_NE(names.find("s.textproto:17: name: two producers are named \"c1-p0\""),
            std::string::npos)
      << names;
}

TEST(ScenarioLoader, PulsarNeedsBrokersAndStorage) {
  const std::string e = error_of(replace(kPulsar, "brokers: [\"br1\", \"br2\"]", ""));
  EXPECT_NE(e.find("s.textproto:8: pulsar: missing 'brokers'"), std::string::npos) << e;
  const std::string s =
      error_of(replace(kPulsar, "storage { metadata: \"meta\" bookies: [\"bk1\", \"bk2\"] }", ""));
  EXPECT_NE(s.find("s.textproto:8: pulsar: missing 'storage"), std::string::npos) << s;
  const std::string b = error_of(replace(kPulsar, "\"br2\"]", "\"nobody\"]"));
  EXPECT_NE(b.find("s.textproto:10: brokers: no node named \"nobody\""), std::string::npos) << b;
}

TEST(ScenarioLoader, PulsarAckQuorumAboveWriteQuorumIsRejected) {
  const std::string e = error_of(replace(kPulsar, "\"bk2\"] }", "\"bk2\"]\n      ack_quorum: 3 }"));
  EXPECT_NE(e.find("s.textproto:10: ack_quorum: "), std::string::npos) << e;
  EXPECT_NE(e.find("ack quorum (3) must be <= write quorum (2)"), std::string::npos) << e;
  // Pulsar's default ensemble (2) is checked against the bookies, at the storage block.
  const std::string d = error_of(replace(kPulsar, ", \"bk2\"] }", "] placement: RANDOM }"));
  EXPECT_NE(d.find("s.textproto:9: ensemble: 2 bookies per ledger but only 1"), std::string::npos)
      << d;
  // A smaller ensemble brings the defaulted quorums down with it.
  const auto r = parse_scenario(
      replace(kPulsar, "\"bk2\"] }", "\"bk2\"] ensemble: 1 enforce_placement: false }"),
      "s.textproto");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.value().pulsar.broker.ledger_options.quorums.write_quorum, 1u);
  EXPECT_EQ(r.value().pulsar.broker.ledger_options.quorums.ack_quorum, 1u);
}

TEST(ScenarioLoader, PulsarDuplicateTopicIsRejected) {
  const std::string e = error_of(replace(kPulsar, "name: \"events\"", "name: \"orders\""));
  EXPECT_NE(e.find("s.textproto:12: name: topic \"orders\" is declared twice"), std::string::npos)
      << e;
}

TEST(ScenarioLoader, PulsarArrivalSettingsBelongToTheirKind) {
  const std::string producer = "rate: \"100/s\" }";
  const auto with = [&](const std::string& extra) {
    return error_of(replace(kPulsar, producer, "rate: \"100/s\" " + extra + " }"));
  };
  const std::string ramp = with("arrival: RAMP ramp_over: \"1s\"");
  EXPECT_NE(ramp.find("s.textproto:16: arrival: RAMP needs 'ramp_from'"), std::string::npos)
      << ramp;
  const std::string burst = with("arrival: BURST burst_on: \"1s\" burst_off: \"0s\"");
  EXPECT_NE(burst.find("s.textproto:16: burst_off must be > 0"), std::string::npos) << burst;
  const std::string stray = with("burst_on: \"1s\"");
  EXPECT_NE(stray.find("s.textproto:16: burst_on: only with arrival: BURST"), std::string::npos)
      << stray;
  const std::string zero = error_of(replace(kPulsar, "\"100/s\"", "\"0/s\""));
  EXPECT_NE(zero.find("s.textproto:16: rate: rate \"0/s\" must be > 0"), std::string::npos) << zero;
  const std::string late = with("start: \"5s\" stop: \"2s\"");
  EXPECT_NE(late.find("s.textproto:16: stop is before start"), std::string::npos) << late;
}

TEST(ScenarioLoader, PulsarConsumerOddsAreChecked) {
  const std::string nack =
      error_of(replace(kPulsar, "type: SHARED", "type: SHARED nack_probability: 1.5"));
  EXPECT_NE(nack.find("s.textproto:17: nack_probability must be in [0, 1]"), std::string::npos)
      << nack;
  const std::string slow =
      error_of(replace(kPulsar, "type: SHARED", "type: SHARED slow_probability: 0.5"));
  EXPECT_NE(slow.find("s.textproto:17: slow_probability: needs 'slow_time'"), std::string::npos)
      << slow;
}

TEST(ScenarioLoader, PulsarQueueWorkloadNeedsThePulsarSystem) {
  const std::string e =
      error_of(replace(kBookKeeper, "ledger_writer { node: \"w1\" rate: \"100/s\" }",
                       "producer { node: \"w1\" topic: \"t\" rate: \"1/s\" }"));
  EXPECT_NE(e.find("s.textproto:14: producer: needs system { pulsar { ... } }"), std::string::npos)
      << e;
  const std::string c =
      error_of(replace(kBookKeeper, "ledger_writer { node: \"w1\" rate: \"100/s\" }",
                       "consumer { node: \"w1\" topic: \"t\" }"));
  EXPECT_NE(c.find("s.textproto:14: consumer: needs system { pulsar { ... } }"), std::string::npos)
      << c;
  // And the storage layer's own workload is not the broker system's.
  const std::string w =
      error_of(replace(kPulsar, "consumer { node: \"c2\" topic: \"orders\" type: SHARED }",
                       "ledger_writer { node: \"c2\" rate: \"1/s\" }"));
  EXPECT_NE(w.find("s.textproto:17: ledger_writer: needs system { bookkeeper { ... } }"),
            std::string::npos)
      << w;
}

TEST(ScenarioLoader, PulsarIsJudgedByTheQueueChecker) {
  EXPECT_EQ(std::string(checker_name(SystemKind::pulsar)), "queue");
  const auto r = parse_scenario(kPulsar + "checker: \"queue\"\n", "s.textproto");
  EXPECT_TRUE(r.ok()) << r.error();
  const std::string e = error_of(kPulsar + "checker: \"ledger\"\n");
  EXPECT_NE(e.find("s.textproto:20: checker: unknown checker \"ledger\"; this system has: queue"),
            std::string::npos)
      << e;
  for (const char* anomaly :
       {"lost-write", "duplicate", "duplicate-delivery", "unseen", "poll-skip", "nonmonotonic-poll",
        "nonmonotonic-send", "inconsistent-offsets", "unexpected", "split-brain"}) {
    EXPECT_TRUE(parse_scenario(
                    replace(kPulsar, "\"duplicate-delivery\"", "\"" + std::string(anomaly) + "\""),
                    "s.textproto")
                    .ok())
        << anomaly;
  }
  const std::string n = error_of(replace(kPulsar, "\"duplicate-delivery\"", "\"not-recovered\""));
  EXPECT_NE(n.find("s.textproto:19: anomaly: unknown name \"not-recovered\""), std::string::npos)
      << n;
  // The queue checker's anomalies are not the ledger checker's.
  const std::string l = error_of(replace(kBookKeeper, "\"split-brain\"", "\"poll-skip\""));
  EXPECT_NE(l.find("s.textproto:15: anomaly: unknown name \"poll-skip\""), std::string::npos) << l;
}

TEST(ScenarioLoader, MissingFileIsAClearError) {
  const auto r = load_scenario("/nonexistent/x.textproto");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("/nonexistent/x.textproto: cannot open"), std::string::npos);
}

}  // namespace
}  // namespace streamlab::workloads
