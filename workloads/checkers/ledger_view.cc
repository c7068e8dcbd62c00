#include "workloads/checkers/ledger_view.h"

#include "broker/storage/ledger_rules.h"

namespace streamlab::workloads {

JournalsByBookie parse_journals(const std::map<std::string, storage::BookieFiles>& bookie_files,
                                std::size_t payload_prefix) {
  JournalsByBookie out;
  for (const auto& [bookie, files] : bookie_files) {
    out[bookie] = storage::read_bookie_files(files, payload_prefix);
  }
  return out;
}

EntryCopies read_entry(const storage::LedgerMetadata& metadata, std::uint64_t ledger,
                       std::int64_t entry, const JournalsByBookie& journals,
                       std::size_t min_payload_bytes) {
  const storage::Quorums q = storage::quorums_of(metadata);
  const storage::Fragment& fragment = metadata.fragments(storage::fragment_of(metadata, entry));
  EntryCopies out;
  for (std::uint32_t i = 0; i < q.write_quorum; ++i) {
    const std::string& bookie =
        fragment.bookies(static_cast<int>(storage::write_set_member(entry, i, q)));
    const auto j = journals.find(bookie);
    if (j == journals.end()) continue;
    const auto e = j->second.entries.find({ledger, entry});
    if (e == j->second.entries.end() || e->second.payload.size() < min_payload_bytes) continue;
    if (out.copies == 0) out.payload = e->second.payload;
    ++out.copies;
  }
  return out;
}

LedgerView read_ledger(std::uint64_t ledger, const storage::LedgerMetadata& metadata,
                       const JournalsByBookie& journals, std::size_t min_payload_bytes) {
  LedgerView view;
  view.metadata = metadata;
  const bool closed = metadata.state() == storage::CLOSED;
  const std::int64_t limit = closed ? metadata.last_entry_id() : INT64_MAX;
  for (std::int64_t e = 0; e <= limit; ++e) {
    const EntryCopies found = read_entry(metadata, ledger, e, journals, min_payload_bytes);
    if (found.copies == 0 && !closed) break;  // Recovery would end the ledger here.
    view.entries[e] = found;
    view.end = e;
  }
  return view;
}

}  // namespace streamlab::workloads
