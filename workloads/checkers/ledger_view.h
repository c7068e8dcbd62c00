#pragma once

// A ledger as a reader finds it, from the ledger's metadata and the bookies' journals
// (the checkers' view of storage at the end of a run). BookKeeper: a closed ledger holds
// entries 0..last_entry_id; one still open (or in recovery) is read as recovery would
// find it with every bookie up: up to the first entry no bookie of its write set holds
// (REFERENCE.md "BookKeeper", fencing and recovery). Only the bookies of an entry's write
// set count: a copy elsewhere is one no reader asks for.

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "broker/storage/bookie_files.h"
#include "broker/storage/storage.pb.h"

namespace streamlab::workloads {

using JournalsByBookie = std::map<std::string, storage::JournalContents>;

// What the bookies of one entry's write set hold of it.
struct EntryCopies {
  // The payload of the first write-set member (in write-set order) that holds it; it
  // points into the files the journals were read from. Empty when copies is 0.
  std::string_view payload;
  std::uint32_t copies = 0;
};

struct LedgerView {
  storage::LedgerMetadata metadata;
  std::int64_t end = -1;  // The last readable entry.
  // Every entry up to `end`. A closed ledger may list entries with 0 copies (holes no
  // reader can read); an open one never does, since it ends before the first.
  std::map<std::int64_t, EntryCopies> entries;
};

// What every bookie holds, from its files. payload_prefix as in
// storage::read_bookie_files.
JournalsByBookie parse_journals(const std::map<std::string, storage::BookieFiles>& bookie_files,
                                std::size_t payload_prefix = SIZE_MAX);

// Entry e of the ledger as its write set holds it. A stored payload shorter than
// min_payload_bytes counts as absent (a reader could not use it).
EntryCopies read_entry(const storage::LedgerMetadata& metadata, std::uint64_t ledger,
                       std::int64_t entry, const JournalsByBookie& journals,
                       std::size_t min_payload_bytes = 0);

// Ledger `ledger` with the given metadata, as a reader finds it. The view points into
// `journals`, which must outlive it.
LedgerView read_ledger(std::uint64_t ledger, const storage::LedgerMetadata& metadata,
                       const JournalsByBookie& journals, std::size_t min_payload_bytes = 0);

}  // namespace streamlab::workloads
