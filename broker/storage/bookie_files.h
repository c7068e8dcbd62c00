#pragma once

// The files of a bookie's disk and how to read them back (REFERENCE.md "BookKeeper",
// journal and "Checkpoints and GC"):
// - journal.NNNNNN: the journal, in files that rotate at a size limit; a restart starts
//   a new one.
// - entrylog.NNNNNN: the entry logs, which hold the same framed records once the write
//   cache is flushed; they rotate too, and a restart starts a new one.
// - lastmark: checkpoints, appended: every journal record before the newest intact mark
//   is durably in the entry logs, so the journals before it may be deleted.
// What the bookie holds is every entry log in id order, then the journal records from
// the mark on; a newer record of an entry replaces an older one. The bookie's restart and
// the checkers read the files the same way (read_bookie_files).

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/storage/record_log.h"
#include "broker/storage/storage.pb.h"

namespace streamlab::storage {

inline constexpr std::string_view kJournalPrefix = "journal.";
inline constexpr std::string_view kEntryLogPrefix = "entrylog.";
inline constexpr const char* kLastMarkFile = "lastmark";
inline constexpr std::uint32_t kMaxFileId = 999'999;
// A read length that takes a whole file: the runtimes return only the bytes that exist.
inline constexpr std::uint64_t kWholeFile = 1ULL << 40;

std::string journal_file(std::uint32_t id);
std::string entry_log_file(std::uint32_t id);
// The id in a journal's or entry log's name; nullopt for any other name.
std::optional<std::uint32_t> journal_id_of(std::string_view name);
std::optional<std::uint32_t> entry_log_id_of(std::string_view name);

struct JournalMark {
  std::uint32_t journal = 0;
  std::uint64_t offset = 0;
  auto operator<=>(const JournalMark&) const = default;
};

// The newest intact mark of a lastmark file ({0, 0}: none), and where its intact
// records end.
std::pair<JournalMark, std::uint64_t> parse_last_mark(std::span<const std::uint8_t> bytes);
void append_last_mark(const JournalMark& mark, std::vector<std::uint8_t>& out);

// What a bookie holds, as the checkers read it. Payloads are views into the bytes the
// contents were read from (a run's files are most of its memory: no second copy), so
// those must outlive the contents, unless `backing` owns them.
struct StoredEntry {
  std::int64_t lac = -1;
  std::string_view payload;
};
struct JournalContents {
  std::map<std::pair<std::uint64_t, std::int64_t>, StoredEntry> entries;  // (ledger, entry).
  std::map<std::uint64_t, std::int64_t> lac;  // Highest LAC stored per ledger.
  std::set<std::uint64_t> fenced;
  std::uint64_t valid_bytes = 0;  // Of the last file read: where its last intact record ends.
  std::shared_ptr<const void> backing;  // What the payloads point into, when owned here.
};

// Calls visit(framed, record) for every intact record in order, from `from` on. A record
// whose checksum holds but whose body is not a JournalRecord is skipped like a damaged
// one. Returns the framing: where the last intact record ends, and how much was skipped.
template <typename Visit>
FramedLog replay_records(std::span<const std::uint8_t> bytes, std::uint64_t from,
                         JournalRecord& record, Visit&& visit) {
  FramedLog log = parse_framed(bytes);
  for (const FramedRecord& framed : log.records) {
    if (!record.ParseFromArray(framed.body.data(), static_cast<int>(framed.body.size()))) {
      log.damaged_bytes += kRecordHeaderBytes + framed.body.size();
      continue;
    }
    if (framed.offset >= from) visit(framed, record);
  }
  log.records.clear();
  return log;
}

// Adds one file's records (from `from` on) to `contents`; the payloads point into
// `bytes`. payload_prefix: keep only that many bytes of each payload.
void add_records(std::span<const std::uint8_t> bytes, std::uint64_t from,
                 std::size_t payload_prefix, JournalContents& contents);

// One journal file on its own.
JournalContents parse_journal(std::span<const std::uint8_t> bytes,
                              std::size_t payload_prefix = SIZE_MAX);

// A bookie's files by name. The contents point into them.
using BookieFiles = std::map<std::string, std::span<const std::uint8_t>>;
JournalContents read_bookie_files(const BookieFiles& files, std::size_t payload_prefix = SIZE_MAX);
// The same, from files the contents then own (their `backing`).
JournalContents read_bookie_files(std::map<std::string, std::vector<std::uint8_t>> files);

}  // namespace streamlab::storage
