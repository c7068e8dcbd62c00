// The scenario loader on the BookKeeper system (test::kBookKeeper): its defaults and knobs,
// the quorums and the ensemble checked against each other and the bookies, the nodes each
// role may run on, enforced zone-aware placement, the ledger writer workload and checker
// that belong to it, and the faults only storage has (wipe).

#include "workloads/scenario/scenario_loader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/workloads/scenario/scenario_texts.h"

namespace streamlab::workloads {
namespace {

using test::error_of;
using test::expect_errors;
using test::kBookKeeper;
using test::kValid;
using test::replace;

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
  EXPECT_EQ(c.bookkeeper.bookie.journal_max_bytes, 64u << 20);
  EXPECT_EQ(c.bookkeeper.bookie.entry_log_max_bytes, 64u << 20);
  EXPECT_EQ(c.bookkeeper.bookie.entry_log_flush_interval_ns, 1'000'000'000);
  EXPECT_TRUE(c.bookkeeper.bookie.checkpoint_after_flush);
  EXPECT_EQ(c.bookkeeper.bookie.gc_interval_ns, 60'000'000'000);
  EXPECT_DOUBLE_EQ(c.bookkeeper.bookie.compaction_threshold, 0.5);
  EXPECT_EQ(c.bookkeeper.bookie.gc_metadata.store, "meta");
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
                             "journal_buffered_writes_threshold: \"64KiB\" "
                             "journal_max_size: \"1MiB\" entry_log_max_size: \"2MiB\" "
                             "entry_log_flush_interval: \"5ms\" checkpoint_after_flush: false "
                             "gc_interval: \"5s\" compaction_threshold: 0.25");
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
  EXPECT_EQ(c.bookkeeper.bookie.journal_max_bytes, 1u << 20);
  EXPECT_EQ(c.bookkeeper.bookie.entry_log_max_bytes, 2u << 20);
  EXPECT_EQ(c.bookkeeper.bookie.entry_log_flush_interval_ns, 5'000'000);
  EXPECT_FALSE(c.bookkeeper.bookie.checkpoint_after_flush);
  EXPECT_EQ(c.bookkeeper.bookie.gc_interval_ns, 5'000'000'000);
  EXPECT_DOUBLE_EQ(c.bookkeeper.bookie.compaction_threshold, 0.25);
  EXPECT_EQ(c.bookkeeper.bookie.gc_metadata.session_timeout_ns, 2'000'000'000);
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

TEST(ScenarioLoader, BookieFileSizesAndFlushIntervalMustBePositive) {
  std::string e = error_of(replace(kBookKeeper, "\"b3\"]", "\"b3\"]\n    journal_max_size: \"0B\""));
  EXPECT_NE(e.find("s.textproto:12: journal_max_size must be > 0"), std::string::npos) << e;
  e = error_of(replace(kBookKeeper, "\"b3\"]", "\"b3\"]\n    entry_log_flush_interval: \"0s\""));
  EXPECT_NE(e.find("s.textproto:12: entry_log_flush_interval must be > 0"), std::string::npos) << e;
  e = error_of(replace(kBookKeeper, "\"b3\"]", "\"b3\"]\n    entry_log_max_size: \"lots\""));
  EXPECT_NE(e.find("s.textproto:12: entry_log_max_size"), std::string::npos) << e;
  e = error_of(replace(kBookKeeper, "\"b3\"]", "\"b3\"]\n    gc_interval: \"0s\""));
  EXPECT_NE(e.find("s.textproto:12: gc_interval must be > 0"), std::string::npos) << e;
  e = error_of(replace(kBookKeeper, "\"b3\"]", "\"b3\"]\n    compaction_threshold: 1.5"));
  EXPECT_NE(e.find("s.textproto:12: compaction_threshold must be in [0, 1]"), std::string::npos)
      << e;
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
  expect_errors({
      {replace(kBookKeeper, "[\"b1\",", "[\"b9\","),
       "s.textproto:11: bookies: no node named \"b9\""},
      {with_bookie("b9"), "s.textproto:14: bookies: no node named \"b9\""},
      {replace(kBookKeeper, "metadata: \"meta\"", "metadata: \"ghost\""),
       "s.textproto:10: metadata: no node named \"ghost\""},
      {replace(kBookKeeper, "metadata: \"meta\"", ""),
       "s.textproto:9: bookkeeper: missing 'metadata'"},
  });
}

TEST(ScenarioLoader, UnknownBookieErrorNamesTheField) {
  expect_errors({
      {replace(kBookKeeper, "[\"b1\",", "[\"b9\","),
       "s.textproto:11: bookies: no node named \"b9\""},
      {replace(kBookKeeper, "metadata: \"meta\"", "metadata: \"ghost\""),
       "s.textproto:10: metadata: no node named \"ghost\""},
  });
}

TEST(ScenarioLoader, ErrorInALaterListElementNamesTheListsLine) {
  const std::string e = error_of(replace(kBookKeeper, "\"b3\"]", "\"b9\"]"));
  EXPECT_NE(e.find("s.textproto:11:"), std::string::npos) << e;
}

TEST(ScenarioLoader, BookieListedTwiceOrNodeAlreadyBusyIsRejected) {
  expect_errors({
      {with_bookie("b1"), "s.textproto:14: bookies: node \"b1\" already runs bookie"},
      {with_bookie("meta"), "s.textproto:14: bookies: node \"meta\" already runs metadata-store"},
      {replace(kBookKeeper, "node: \"w1\"", "node: \"b2\""),
       "s.textproto:14: node: node \"b2\" already runs bookie"},
  });
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

}  // namespace
}  // namespace streamlab::workloads
