#include "workloads/checkers/ledger_checker.h"

#include <algorithm>
#include <set>
#include <utility>

#include "base/assert.h"
#include "broker/storage/ledger_client.h"
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

std::uint64_t get_le(const std::string& s, std::size_t at, int bytes) {
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
  return Append{static_cast<std::uint32_t>(get_le(*found.payload, 0, 4)),
                get_le(*found.payload, 4, 8)};
}

}  // namespace

CheckResult check_ledgers(const LedgerCheckInput& in) {
  SL_ASSERT_NE(in.history, nullptr);
  CheckResult result;
  std::map<Append, AddSummary> adds;
  std::map<std::uint64_t, std::vector<Recovered>> recoveries;
  OpTally tally;
  OpTimeline timeline;
  std::int64_t last_ns = 0;
  std::uint64_t recoveries_ok = 0;
  for (const LedgerOp& op : *in.history) {
    last_ns = std::max(last_ns, op.time_ns);
    if (op.kind == LedgerOpKind::recover) {
      if (op.type == OpType::ok) {
        recoveries[op.ledger_id].push_back(Recovered{op.process, op.time_ns});
        ++recoveries_ok;
      }
      continue;
    }
    AddSummary& s = adds[Append{op.process, op.seq}];
    if (op.type == OpType::invoke) {
      SL_ASSERT_MSG(s.invoked_ns < 0, "append invoked twice by one writer");
      s.invoked_ns = op.time_ns;
      s.ledger_id = op.ledger_id;
      continue;
    }
    SL_ASSERT_MSG(s.invoked_ns >= 0, "completion without an invoke");
    SL_ASSERT_MSG(s.outcome == OpType::invoke, "append completed twice");
    s.outcome = op.type;
    s.completed_ns = op.time_ns;
    s.entry_id = op.entry_id;
    if (op.type == OpType::ok) {
      tally.latency.record(op.time_ns - s.invoked_ns);
      timeline.ok(op.time_ns, op.time_ns - s.invoked_ns);
    }
  }

  const storage::ReplayedLog replayed = storage::replay_metadata_log(in.metadata_log);
  const JournalsByBookie journals = parse_journals(in.journals, kLedgerPayloadHeader);

  std::map<std::uint64_t, LedgerView> ledgers;
  const std::string prefix = "/ledgers/";
  for (const auto& [key, value] : replayed.state.keys) {
    if (key.rfind(prefix, 0) != 0) continue;
    LedgerMetadata metadata;
    if (!storage::parse_ledger_metadata(value.value, &metadata)) continue;
    const std::uint64_t id = std::stoull(key.substr(prefix.size()));
    ledgers[id] = read_ledger(id, metadata, journals, kLedgerPayloadHeader);
  }

  // The logs' ledger lists (/logs/<log>/ledgers): what a reader of a log reads, in order.
  std::map<std::uint64_t, std::string> log_of;  // Ledger -> its log.
  const std::string logs_prefix = "/logs/";
  const std::string list_suffix = "/ledgers";
  for (const auto& [key, value] : replayed.state.keys) {
    if (key.rfind(logs_prefix, 0) != 0 || key.size() <= list_suffix.size() ||
        key.compare(key.size() - list_suffix.size(), list_suffix.size(), list_suffix) != 0) {
      continue;
    }
    const std::string log =
        key.substr(logs_prefix.size(), key.size() - logs_prefix.size() - list_suffix.size());
    const std::vector<std::uint64_t> list = parse_ledger_list(value.value);
    for (std::size_t i = 0; i < list.size(); ++i) {
      log_of[list[i]] = log;
      const auto l = ledgers.find(list[i]);
      // A ledger is succeeded only once closed (recovered): one still open could still
      // acknowledge its writer while the next ledger's writer acknowledges too.
      if (i + 1 < list.size() && l != ledgers.end() &&
          l->second.metadata.state() != storage::CLOSED) {
        result.add("split-brain", "ledger " + std::to_string(list[i]) + " of log \"" + log +
                                      "\" was followed by ledger " + std::to_string(list[i + 1]) +
                                      " while still open");
      }
    }
  }

  std::map<Append, std::vector<std::pair<std::uint64_t, std::int64_t>>> places;
  std::uint64_t below_write_quorum = 0;
  std::uint64_t below_ack_quorum = 0;
  std::uint64_t entries = 0;
  for (const auto& [id, view] : ledgers) {
    const std::uint32_t qw = view.metadata.write_quorum();
    for (const auto& [e, found] : view.entries) {
      if (found.copies == 0) continue;
      ++entries;
      if (found.copies < qw) ++below_write_quorum;
      if (found.copies < view.metadata.ack_quorum()) ++below_ack_quorum;
      const Append held = append_of(found);
      places[held].push_back({id, e});
      if (adds.find(held) == adds.end()) {
        result.add("unexpected", where(id, e) + " holds " + describe(in, held) +
                                     ", which no writer invoked");
      }
    }
  }
  for (const auto& [append, at] : places) {
    if (at.size() > 1) {
      if (const auto a = adds.find(append); a != adds.end()) {
        const AddSummary& s = a->second;
        timeline.duplicated_ns.push_back(s.outcome == OpType::ok ? s.completed_ns : s.invoked_ns);
      }
      result.add("duplicate", describe(in, append) + " is in the logs " +
                                  std::to_string(at.size()) + " times, first at " +
                                  where(at[0].first, at[0].second) + " and at " +
                                  where(at[1].first, at[1].second));
    }
  }

  for (const auto& [append, s] : adds) {
    tally.count(s.outcome);
    if (s.outcome != OpType::ok) continue;
    const std::string what = describe(in, append) + " acknowledged at " + format_seconds(s.completed_ns) +
                             " as " + where(s.ledger_id, s.entry_id);
    const auto lost = [&](const std::string& why) {
      result.add("lost-write", what + why);
      timeline.lost_ns.push_back(s.completed_ns);
    };
    const auto l = ledgers.find(s.ledger_id);
    if (l == ledgers.end()) {
      lost(", but the ledger does not exist");
    } else if (!log_of.empty() && log_of.find(s.ledger_id) == log_of.end()) {
      lost(", but no log lists that ledger: its readers never see it");
    } else if (s.entry_id > l->second.end) {
      lost(", but the ledger ends at entry " + std::to_string(l->second.end) +
           (l->second.metadata.state() == storage::CLOSED ? " (closed)"
                                                          : " (no bookie holds the next entry)"));
    } else {
      const EntryCopies& found = l->second.entries.at(s.entry_id);
      if (found.copies == 0) {
        lost(", but no bookie of its write set holds it");
      } else if (append_of(found) != append) {
        lost(", but the entry holds " + describe(in, append_of(found)));
      }
    }
    const auto r = recoveries.find(s.ledger_id);
    if (r == recoveries.end()) continue;
    for (const Recovered& rec : r->second) {
      if (rec.process != append.first && rec.time_ns < s.invoked_ns) {
        result.add("split-brain", what + " (invoked at " + format_seconds(s.invoked_ns) + "), after " +
                                      in.process_name(rec.process) +
                                      " had recovered and closed that ledger at " +
                                      format_seconds(rec.time_ns));
        break;
      }
    }
  }

  auto& m = result.metrics;
  report_ops(tally, "add_latency_ms", in.duration_ns, m);
  m["ledgers"] = static_cast<double>(ledgers.size());
  m["ledger_entries"] = static_cast<double>(entries);
  m["entries_below_write_quorum"] = static_cast<double>(below_write_quorum);
  m["entries_below_ack_quorum"] = static_cast<double>(below_ack_quorum);
  m["recoveries"] = static_cast<double>(recoveries_ok);
  report_timeline(timeline, "add_latency_ms", std::max(in.duration_ns, last_ns), result.series);
  return result;
}

}  // namespace streamlab::workloads
