#include "workloads/checkers/ledger_checker.h"

#include <algorithm>
#include <optional>
#include <set>
#include <utility>

#include "base/assert.h"
#include "broker/storage/ledger_client.h"
#include "broker/storage/ledger_keys.h"
#include "broker/storage/ledger_rules.h"
#include "broker/storage/metadata_state.h"
#include "workloads/checkers/ledger_view.h"
#include "workloads/history/ledger_list.h"
#include "workloads/checkers/op_report.h"

namespace streamlab::workloads {

namespace {

using storage::LedgerMetadata;
using Append = std::pair<std::uint32_t, std::uint64_t>;  // (writer, seq)

struct AddSummary {
  std::int64_t invoked_ns = -1;
  std::int64_t completed_ns = -1;
  OpType outcome = OpType::invoke;
  std::uint64_t ledger_id = 0;
  std::int64_t entry_id = -1;
};

struct Recovered {
  std::uint32_t process = 0;
  std::int64_t time_ns = 0;
};

std::uint64_t get_le(std::string_view s, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(s[at + i])) << (8 * i);
  }
  return v;
}

std::string describe(const LedgerCheckInput& in, const Append& a) {
  return describe_op(in.process_name(a.first), "append", a.second);
}

std::string where(std::uint64_t ledger, std::int64_t entry) {
  return "ledger " + std::to_string(ledger) + " entry " + std::to_string(entry);
}

// The append an entry's payload names (its header: writer u32, seq u64).
Append append_of(const EntryCopies& found) {
  if (found.copies == 0) return Append{0, 0};
  return Append{static_cast<std::uint32_t>(get_le(found.payload, 0, 4)),
                get_le(found.payload, 4, 8)};
}

// What the writers' history says: each append's invoke and outcome, and each ledger's
// completed recoveries.
struct WriterHistory {
  std::map<Append, AddSummary> adds;
  std::map<std::uint64_t, std::vector<Recovered>> recoveries;
  OpTally tally;
  OpTimeline timeline;
  std::int64_t last_ns = 0;
  std::uint64_t recoveries_ok = 0;
};

// What the logs hold at the end: each ledger as a reader finds it, and the log that lists
// each listed ledger.
struct FinalLogs {
  std::map<std::uint64_t, LedgerView> ledgers;
  std::map<std::uint64_t, std::string> log_of;  // Ledger -> its log.
};

// Where each append is found in the ledgers: (ledger, entry) in ledger and entry order.
using Places = std::map<Append, std::vector<std::pair<std::uint64_t, std::int64_t>>>;

struct EntryCounts {
  std::uint64_t entries = 0;
  std::uint64_t below_write_quorum = 0;
  std::uint64_t below_ack_quorum = 0;
};

void record_add(const LedgerOp& op, WriterHistory& h) {
  AddSummary& s = h.adds[Append{op.process, op.seq}];
  if (op.type == OpType::invoke) {
    SL_ASSERT_MSG(s.invoked_ns < 0, "append invoked twice by one writer");
    s.invoked_ns = op.time_ns;
    s.ledger_id = op.ledger_id;
    return;
  }
  SL_ASSERT_MSG(s.invoked_ns >= 0, "completion without an invoke");
  SL_ASSERT_MSG(s.outcome == OpType::invoke, "append completed twice");
  s.outcome = op.type;
  s.completed_ns = op.time_ns;
  s.entry_id = op.entry_id;
  if (op.type == OpType::ok) {
    h.tally.latency.record(op.time_ns - s.invoked_ns);
    h.timeline.ok(op.time_ns, op.time_ns - s.invoked_ns);
  }
}

WriterHistory read_history(const std::vector<LedgerOp>& history) {
  WriterHistory h;
  for (const LedgerOp& op : history) {
    h.last_ns = std::max(h.last_ns, op.time_ns);
    if (op.kind != LedgerOpKind::recover) {
      record_add(op, h);
    } else if (op.type == OpType::ok) {
      h.recoveries[op.ledger_id].push_back(Recovered{op.process, op.time_ns});
      ++h.recoveries_ok;
    }
  }
  return h;
}

// Every ledger whose metadata (/ledgers/<id>) is in the store, as a reader finds it.
std::map<std::uint64_t, LedgerView> read_ledgers(const storage::ReplayedLog& replayed,
                                                 const JournalsByBookie& journals) {
  std::map<std::uint64_t, LedgerView> ledgers;
  for (const auto& [key, value] : replayed.state.keys) {
    const std::optional<std::uint64_t> id = storage::ledger_of_key(key);
    LedgerMetadata metadata;
    if (!id || !storage::parse_ledger_metadata(value.value, &metadata)) continue;
    ledgers[*id] = read_ledger(*id, metadata, journals, kLedgerPayloadHeader);
  }
  return ledgers;
}

// The log a ledger-list key (/logs/<log>/ledgers) belongs to; nothing for other keys.
std::optional<std::string> log_of_list_key(const std::string& key) {
  const std::string logs_prefix = "/logs/";
  const std::string list_suffix = "/ledgers";
  if (key.rfind(logs_prefix, 0) != 0 || key.size() <= list_suffix.size() ||
      key.compare(key.size() - list_suffix.size(), list_suffix.size(), list_suffix) != 0) {
    return std::nullopt;
  }
  return key.substr(logs_prefix.size(), key.size() - logs_prefix.size() - list_suffix.size());
}

// The logs' ledger lists (/logs/<log>/ledgers): what a reader of a log reads, in order.
// Returns the log of each listed ledger.
std::map<std::uint64_t, std::string> read_log_lists(
    const storage::ReplayedLog& replayed, const std::map<std::uint64_t, LedgerView>& ledgers,
    CheckResult& result) {
  std::map<std::uint64_t, std::string> log_of;
  for (const auto& [key, value] : replayed.state.keys) {
    const std::optional<std::string> log = log_of_list_key(key);
    if (!log) continue;
    const std::vector<std::uint64_t> list = parse_ledger_list(value.value);
    for (std::size_t i = 0; i < list.size(); ++i) {
      log_of[list[i]] = *log;
      const auto l = ledgers.find(list[i]);
      // A ledger is succeeded only once closed (recovered): one still open could still
      // acknowledge its writer while the next ledger's writer acknowledges too.
      if (i + 1 < list.size() && l != ledgers.end() &&
          l->second.metadata.state() != storage::CLOSED) {
        result.add("split-brain", "ledger " + std::to_string(list[i]) + " of log \"" + *log +
                                      "\" was followed by ledger " + std::to_string(list[i + 1]) +
                                      " while still open");
      }
    }
  }
  return log_of;
}

// Counts the entries held, by how many copies; notes where each append is, and reports
// those no writer invoked.
EntryCounts scan_entries(const LedgerCheckInput& in,
                         const std::map<std::uint64_t, LedgerView>& ledgers,
                         const std::map<Append, AddSummary>& adds, Places& places,
                         CheckResult& result) {
  EntryCounts counts;
  for (const auto& [id, view] : ledgers) {
    const std::uint32_t qw = view.metadata.write_quorum();
    for (const auto& [e, found] : view.entries) {
      if (found.copies == 0) continue;
      ++counts.entries;
      if (found.copies < qw) ++counts.below_write_quorum;
      if (found.copies < view.metadata.ack_quorum()) ++counts.below_ack_quorum;
      const Append held = append_of(found);
      places[held].push_back({id, e});
      if (adds.find(held) == adds.end()) {
        result.add("unexpected", where(id, e) + " holds " + describe(in, held) +
                                     ", which no writer invoked");
      }
    }
  }
  return counts;
}

void check_duplicates(const LedgerCheckInput& in, const Places& places, WriterHistory& h,
                      CheckResult& result) {
  for (const auto& [append, at] : places) {
    if (at.size() <= 1) continue;
    if (const auto a = h.adds.find(append); a != h.adds.end()) {
      const AddSummary& s = a->second;
      h.timeline.duplicated_ns.push_back(s.outcome == OpType::ok ? s.completed_ns : s.invoked_ns);
    }
    result.add("duplicate", describe(in, append) + " is in the logs " +
                                std::to_string(at.size()) + " times, first at " +
                                where(at[0].first, at[0].second) + " and at " +
                                where(at[1].first, at[1].second));
  }
}

// Why an acknowledged append is not where a reader of its ledger finds it; empty when it
// is there.
std::string why_lost(const LedgerCheckInput& in, const Append& append, const AddSummary& s,
                     const FinalLogs& logs) {
  const auto l = logs.ledgers.find(s.ledger_id);
  if (l == logs.ledgers.end()) return ", but the ledger does not exist";
  if (!logs.log_of.empty() && logs.log_of.find(s.ledger_id) == logs.log_of.end()) {
    return ", but no log lists that ledger: its readers never see it";
  }
  if (s.entry_id > l->second.end) {
    return ", but the ledger ends at entry " + std::to_string(l->second.end) +
           (l->second.metadata.state() == storage::CLOSED ? " (closed)"
                                                          : " (no bookie holds the next entry)");
  }
  const EntryCopies& found = l->second.entries.at(s.entry_id);
  if (found.copies == 0) return ", but no bookie of its write set holds it";
  if (append_of(found) != append) return ", but the entry holds " + describe(in, append_of(found));
  return "";
}

// BookKeeper: recovery fences and closes the ledger, so an append invoked after another
// writer's recovery of it had completed must never be acknowledged (see ledger_checker.h).
void check_not_after_recovery(const LedgerCheckInput& in, const Append& append,
                              const AddSummary& s, const std::string& what,
                              const std::map<std::uint64_t, std::vector<Recovered>>& recoveries,
                              CheckResult& result) {
  const auto r = recoveries.find(s.ledger_id);
  if (r == recoveries.end()) return;
  for (const Recovered& rec : r->second) {
    if (rec.process != append.first && rec.time_ns < s.invoked_ns) {
      result.add("split-brain", what + " (invoked at " + format_seconds(s.invoked_ns) + "), after " +
                                    in.process_name(rec.process) +
                                    " had recovered and closed that ledger at " +
                                    format_seconds(rec.time_ns));
      return;
    }
  }
}

// Counts every append by outcome, and checks each acknowledged one.
void check_acknowledged(const LedgerCheckInput& in, const FinalLogs& logs, WriterHistory& h,
                        CheckResult& result) {
  for (const auto& [append, s] : h.adds) {
    h.tally.count(s.outcome);
    if (s.outcome != OpType::ok) continue;
    const std::string what = describe(in, append) + " acknowledged at " + format_seconds(s.completed_ns) +
                             " as " + where(s.ledger_id, s.entry_id);
    const std::string lost = why_lost(in, append, s, logs);
    if (!lost.empty()) {
      result.add("lost-write", what + lost);
      h.timeline.lost_ns.push_back(s.completed_ns);
    }
    check_not_after_recovery(in, append, s, what, h.recoveries, result);
  }
}

void report(const LedgerCheckInput& in, WriterHistory& h, std::size_t ledgers,
            const EntryCounts& counts, CheckResult& result) {
  auto& m = result.metrics;
  report_ops(h.tally, "add_latency_ms", in.duration_ns, m);
  m["ledgers"] = static_cast<double>(ledgers);
  m["ledger_entries"] = static_cast<double>(counts.entries);
  m["entries_below_write_quorum"] = static_cast<double>(counts.below_write_quorum);
  m["entries_below_ack_quorum"] = static_cast<double>(counts.below_ack_quorum);
  m["recoveries"] = static_cast<double>(h.recoveries_ok);
  report_timeline(h.timeline, "add_latency_ms", std::max(in.duration_ns, h.last_ns), result.series);
}

}  // namespace

CheckResult check_ledgers(const LedgerCheckInput& in) {
  SL_ASSERT_NE(in.history, nullptr);
  CheckResult result;
  WriterHistory history = read_history(*in.history);
  const storage::ReplayedLog replayed = storage::replay_metadata_log(in.metadata_log);
  // The ledger views point into the journals: they stay here until the checks are done.
  const JournalsByBookie journals = parse_journals(in.bookie_files, kLedgerPayloadHeader);
  FinalLogs logs;
  logs.ledgers = read_ledgers(replayed, journals);
  logs.log_of = read_log_lists(replayed, logs.ledgers, result);
  Places places;
  const EntryCounts counts = scan_entries(in, logs.ledgers, history.adds, places, result);
  check_duplicates(in, places, history, result);
  check_acknowledged(in, logs, history, result);
  report(in, history, logs.ledgers.size(), counts, result);
  return result;
}

}  // namespace streamlab::workloads
