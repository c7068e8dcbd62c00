// The scenario loader's part for the storage system: `system { bookkeeper { ... } }` and
// the ledger writers of the workload.

#include <set>

#include "broker/storage/ledger_rules.h"
#include "workloads/scenario/load_sections.h"

namespace streamlab::workloads {

bool claim_node(const std::string& name, const char* field, const char* role, int line,
                LoadContext& ctx, ScenarioConfig* out, std::uint32_t* id) {
  const auto it = ctx.node_ids.find(name);
  if (it == ctx.node_ids.end()) {
    ctx.error(line, std::string(field) + ": no node named \"" + name + "\" in the topology");
    return false;
  }
  sim::NodeSpec& node = out->topology.nodes[it->second];
  if (!node.role.empty()) {
    ctx.error(line, std::string(field) + ": node \"" + name + "\" already runs " + node.role);
    return false;
  }
  node.role = role;
  *id = it->second;
  return true;
}

void load_bookkeeper(const scenario::BookKeeperSystem& in, const Place& place, LoadContext& ctx,
                     ScenarioConfig* out) {
  out->system = SystemKind::bookkeeper;
  BookKeeperSystemConfig& bk = out->bookkeeper;
  if (in.metadata().empty()) {
    ctx.error(place.line, "bookkeeper: missing 'metadata' (the node that runs the metadata store)");
  } else {
    claim_node(in.metadata(), "metadata", "metadata-store", place.at("metadata"), ctx, out, &bk.metadata);
  }
  if (in.bookies_size() == 0) ctx.error(place.line, "bookkeeper: missing 'bookies'");
  std::vector<storage::BookieInfo> bookies;
  std::set<std::string> zones;
  for (int i = 0; i < in.bookies_size(); ++i) {
    std::uint32_t id = 0;
    if (!claim_node(in.bookies(i), "bookies", "bookie", place.at("bookies", i), ctx, out, &id)) continue;
    bk.bookies.push_back(id);
    const std::string& zone = out->topology.zones[out->topology.nodes[id].zone].name;
    bookies.push_back(storage::BookieInfo{in.bookies(i), zone});
    zones.insert(zone);
  }

  storage::LedgerOptions options;
  storage::Quorums& q = options.quorums;
  q.ensemble = in.ensemble() != 0 ? in.ensemble() : 3;
  q.write_quorum = in.write_quorum() != 0 ? in.write_quorum() : q.ensemble;
  q.ack_quorum = in.ack_quorum() != 0 ? in.ack_quorum() : std::min<std::uint32_t>(2, q.write_quorum);
  if (const std::string why = storage::check_quorums(q); !why.empty()) {
    const char* field = q.ack_quorum > q.write_quorum ? "ack_quorum" : "write_quorum";
    ctx.error(place.at(field), std::string(field) + ": " + why +
                                   " (a ledger needs ensemble >= write_quorum >= ack_quorum >= 1)");
  }
  if (q.ensemble > 32) ctx.error(place.at("ensemble"), "ensemble: at most 32 bookies");
  // Only when every listed bookie resolved: otherwise the count would mislead.
  if (!bookies.empty() && bookies.size() == static_cast<std::size_t>(in.bookies_size()) &&
      bookies.size() < q.ensemble) {
    ctx.error(place.at("ensemble"), "ensemble: " + std::to_string(q.ensemble) +
                                        " bookies per ledger but only " +
                                        std::to_string(bookies.size()) + " bookies listed");
  }
  storage::PlacementConfig& pc = options.placement;
  pc.policy = in.placement() == scenario::RANDOM ? storage::PlacementPolicy::random
                                                 : storage::PlacementPolicy::zone_aware;
  if (in.min_zones_per_write_quorum() != 0) pc.min_zones_per_write_quorum = in.min_zones_per_write_quorum();
  pc.enforce = !in.has_enforce_placement() || in.enforce_placement();
  const std::uint32_t wanted = std::min(pc.min_zones_per_write_quorum, q.write_quorum);
  if (pc.policy == storage::PlacementPolicy::zone_aware && pc.enforce && !bookies.empty() &&
      zones.size() < wanted) {
    ctx.error(place.at("placement"),
              "placement: enforced zone-aware placement needs bookies in at least " +
                  std::to_string(wanted) + " zones, but they are in " +
                  std::to_string(zones.size()) +
                  "; add zones, set placement: RANDOM, or enforce_placement: false");
  }

  bk.bookie.journal_sync_data = !in.has_journal_sync_data() || in.journal_sync_data();
  bk.bookie.journal_max_group_wait_ns =
      ctx.duration(in.journal_max_group_wait(), place.at("journal_max_group_wait"),
                   "journal_max_group_wait", bk.bookie.journal_max_group_wait_ns);
  const std::int64_t threshold =
      ctx.bytes(in.journal_buffered_writes_threshold(),
                place.at("journal_buffered_writes_threshold"), "journal_buffered_writes_threshold",
                static_cast<std::int64_t>(bk.bookie.journal_buffered_writes_threshold));
  if (threshold <= 0) {
    ctx.error(place.at("journal_buffered_writes_threshold"),
              "journal_buffered_writes_threshold must be > 0");
  }
  bk.bookie.journal_buffered_writes_threshold = static_cast<std::uint64_t>(threshold);
  const auto positive_bytes = [&](const std::string& text, const char* field, std::uint64_t fallback) {
    const std::int64_t v =
        ctx.bytes(text, place.at(field), field, static_cast<std::int64_t>(fallback));
    if (v <= 0) ctx.error(place.at(field), std::string(field) + " must be > 0");
    return static_cast<std::uint64_t>(std::max<std::int64_t>(v, 1));
  };
  bk.bookie.journal_max_bytes =
      positive_bytes(in.journal_max_size(), "journal_max_size", bk.bookie.journal_max_bytes);
  bk.bookie.entry_log_max_bytes =
      positive_bytes(in.entry_log_max_size(), "entry_log_max_size", bk.bookie.entry_log_max_bytes);
  bk.bookie.entry_log_flush_interval_ns =
      ctx.duration(in.entry_log_flush_interval(), place.at("entry_log_flush_interval"),
                   "entry_log_flush_interval", bk.bookie.entry_log_flush_interval_ns);
  if (bk.bookie.entry_log_flush_interval_ns <= 0) {
    ctx.error(place.at("entry_log_flush_interval"), "entry_log_flush_interval must be > 0");
    bk.bookie.entry_log_flush_interval_ns = 1;
  }
  bk.bookie.checkpoint_after_flush = !in.has_checkpoint_after_flush() || in.checkpoint_after_flush();
  bk.bookie.gc_interval_ns =
      ctx.duration(in.gc_interval(), place.at("gc_interval"), "gc_interval", bk.bookie.gc_interval_ns);
  if (bk.bookie.gc_interval_ns <= 0) {
    ctx.error(place.at("gc_interval"), "gc_interval must be > 0");
    bk.bookie.gc_interval_ns = 1;
  }
  if (in.has_compaction_threshold()) {
    const double t = in.compaction_threshold();
    if (!(t >= 0.0 && t <= 1.0)) {
      ctx.error(place.at("compaction_threshold"), "compaction_threshold must be in [0, 1]");
    } else {
      bk.bookie.compaction_threshold = t;
    }
  }

  LedgerWriterConfig& w = bk.writer_defaults;
  w.options = options;
  w.ledger.bookies = bookies;
  w.ledger.placement = options.placement;
  w.ledger.recovery_fencing = !in.has_recovery_fencing() || in.recovery_fencing();
  w.ledger.add_timeout_ns =
      ctx.duration(in.add_timeout(), place.at("add_timeout"), "add_timeout", w.ledger.add_timeout_ns);
  if (w.ledger.add_timeout_ns <= 0) ctx.error(place.at("add_timeout"), "add_timeout must be > 0");
  w.metadata.session_timeout_ns = ctx.duration(in.session_timeout(), place.at("session_timeout"),
                                               "session_timeout", w.metadata.session_timeout_ns);
  if (w.metadata.session_timeout_ns < bk.store.min_session_timeout_ns ||
      w.metadata.session_timeout_ns > bk.store.max_session_timeout_ns) {
    ctx.error(place.at("session_timeout"), "session_timeout must be in [100ms, 60s]");
  }
  if (!in.metadata().empty()) w.metadata.store = in.metadata();
  bk.bookie.gc_metadata = w.metadata;
}

void load_writers(const scenario::Workload& in, const Place& place, LoadContext& ctx,
                  ScenarioConfig* out) {
  if (in.ledger_writer_size() == 0) return;
  if (out->system != SystemKind::bookkeeper) {
    ctx.error(place.at("ledger_writer", 0), "ledger_writer: needs system { bookkeeper { ... } }");
    return;
  }
  for (int i = 0; i < in.ledger_writer_size(); ++i) {
    const scenario::LedgerWriter& lw = in.ledger_writer(i);
    const Place wp = place.nested("ledger_writer", lw, i);
    WriterSpec spec;
    spec.config = out->bookkeeper.writer_defaults;
    if (lw.node().empty()) {
      ctx.error(wp.line, "ledger_writer: missing 'node'");
      continue;
    }
    if (!claim_node(lw.node(), "node", "ledger-writer", wp.at("node"), ctx, out, &spec.node)) continue;
    LedgerWriterConfig& cfg = spec.config;
    if (!lw.log().empty()) cfg.log = lw.log();
    if (lw.rate().empty()) ctx.error(wp.line, "ledger_writer: missing 'rate', e.g. \"1000/s\"");
    cfg.rate_per_s = ctx.rate(lw.rate(), wp.at("rate"), "rate", 1);
    cfg.poisson = lw.arrival() == scenario::POISSON;
    const std::int64_t size = ctx.bytes(lw.entry_size(), wp.at("entry_size"), "entry_size", 1024);
    if (size < static_cast<std::int64_t>(kLedgerPayloadHeader) || size > (64 << 20)) {
      ctx.error(wp.at("entry_size"), "entry_size must be in [12B, 64MiB]");
    }
    cfg.entry_bytes = static_cast<std::size_t>(std::max<std::int64_t>(size, kLedgerPayloadHeader));
    if (lw.max_in_flight() > 0) cfg.max_in_flight = lw.max_in_flight();
    cfg.start_ns = ctx.duration(lw.start(), wp.at("start"), "start", 0);
    cfg.stop_ns = ctx.duration(lw.stop(), wp.at("stop"), "stop", out->duration_ns);
    if (cfg.start_ns > cfg.stop_ns) ctx.error(wp.at("stop"), "stop is before start");
    cfg.max_adds = lw.max_adds();
    out->writers.push_back(std::move(spec));
  }
}

}  // namespace streamlab::workloads
