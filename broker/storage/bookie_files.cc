#include "broker/storage/bookie_files.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include "base/assert.h"

namespace streamlab::storage {

namespace {

std::string numbered(std::string_view prefix, std::uint32_t id) {
  SL_ASSERT_LE(id, kMaxFileId);
  char digits[8];
  std::snprintf(digits, sizeof digits, "%06u", id);
  return std::string(prefix) + digits;
}

std::optional<std::uint32_t> id_of(std::string_view name, std::string_view prefix) {
  if (!name.starts_with(prefix) || name.size() != prefix.size() + 6) return std::nullopt;
  std::uint32_t id = 0;
  const char* first = name.data() + prefix.size();
  const auto [end, error] = std::from_chars(first, name.data() + name.size(), id);
  if (error != std::errc{} || end != name.data() + name.size()) return std::nullopt;
  return id;
}

// Where the payload's bytes lie in a JournalRecord's encoding, which protobuf has
// already parsed: the view the contents keep instead of a copy. As protobuf does, the
// last occurrence of the field wins.
std::string_view payload_in(std::span<const std::uint8_t> body) {
  using google::protobuf::internal::WireFormatLite;
  google::protobuf::io::CodedInputStream in(body.data(), static_cast<int>(body.size()));
  std::string_view found;
  while (const std::uint32_t tag = in.ReadTag()) {
    if (WireFormatLite::GetTagFieldNumber(tag) == JournalRecord::kPayloadFieldNumber &&
        WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      std::uint32_t length = 0;
      SL_ASSERT(in.ReadVarint32(&length));
      const int at = in.CurrentPosition();
      found = std::string_view(reinterpret_cast<const char*>(body.data()) + at, length);
      SL_ASSERT(in.Skip(static_cast<int>(length)));
      continue;
    }
    SL_ASSERT(WireFormatLite::SkipField(&in, tag));
  }
  return found;
}

}  // namespace

std::string journal_file(std::uint32_t id) { return numbered(kJournalPrefix, id); }
std::string entry_log_file(std::uint32_t id) { return numbered(kEntryLogPrefix, id); }

std::optional<std::uint32_t> journal_id_of(std::string_view name) {
  return id_of(name, kJournalPrefix);
}
std::optional<std::uint32_t> entry_log_id_of(std::string_view name) {
  return id_of(name, kEntryLogPrefix);
}

// Marks only move forward, so the newest is the greatest: a rewrite of the file from its
// start that a crash cut short leaves older marks after it, and they must not win.
std::pair<JournalMark, std::uint64_t> parse_last_mark(std::span<const std::uint8_t> bytes) {
  const FramedLog log = parse_framed(bytes);
  JournalMark newest;
  LastMark record;
  for (const FramedRecord& framed : log.records) {
    if (!record.ParseFromArray(framed.body.data(), static_cast<int>(framed.body.size()))) continue;
    newest = std::max(newest, JournalMark{record.journal_id(), record.offset()});
  }
  return {newest, log.valid_bytes};
}

void append_last_mark(const JournalMark& mark, std::vector<std::uint8_t>& out) {
  LastMark record;
  record.set_journal_id(mark.journal);
  record.set_offset(mark.offset);
  const std::string body = record.SerializeAsString();
  append_framed(std::span(reinterpret_cast<const std::uint8_t*>(body.data()), body.size()), out);
}

void add_records(std::span<const std::uint8_t> bytes, std::uint64_t from,
                 std::size_t payload_prefix, JournalContents& contents) {
  JournalRecord record;
  contents.valid_bytes =
      replay_records(bytes, from, record, [&contents, payload_prefix](const FramedRecord& framed,
                                                                      const JournalRecord& r) {
        if (r.fence()) {
          contents.fenced.insert(r.ledger_id());
          return;
        }
        // A recovery add rewrites an entry; the newest record is the one the index serves.
        StoredEntry& entry = contents.entries[{r.ledger_id(), r.entry_id()}];
        entry.lac = r.lac();
        const std::string_view payload = payload_in(framed.body);
        SL_ASSERT_EQ(payload.size(), r.payload().size());
        entry.payload = payload.substr(0, payload_prefix);
        const auto [lac, inserted] = contents.lac.try_emplace(r.ledger_id(), r.lac());
        if (!inserted) lac->second = std::max(lac->second, r.lac());
      }).valid_bytes;
}

JournalContents parse_journal(std::span<const std::uint8_t> bytes, std::size_t payload_prefix) {
  JournalContents contents;
  add_records(bytes, 0, payload_prefix, contents);
  return contents;
}

JournalContents read_bookie_files(const BookieFiles& files, std::size_t payload_prefix) {
  JournalMark mark;
  if (const auto it = files.find(kLastMarkFile); it != files.end()) {
    mark = parse_last_mark(it->second).first;
  }
  std::map<std::uint32_t, std::span<const std::uint8_t>> entry_logs;
  std::map<std::uint32_t, std::span<const std::uint8_t>> journals;
  for (const auto& [name, bytes] : files) {
    if (const auto id = entry_log_id_of(name)) entry_logs[*id] = bytes;
    if (const auto id = journal_id_of(name); id && *id >= mark.journal) journals[*id] = bytes;
  }
  JournalContents contents;
  for (const auto& [id, bytes] : entry_logs) add_records(bytes, 0, payload_prefix, contents);
  for (const auto& [id, bytes] : journals) {
    add_records(bytes, id == mark.journal ? mark.offset : 0, payload_prefix, contents);
  }
  return contents;
}

JournalContents read_bookie_files(std::map<std::string, std::vector<std::uint8_t>> files) {
  auto owned = std::make_shared<const std::map<std::string, std::vector<std::uint8_t>>>(
      std::move(files));
  BookieFiles views;
  for (const auto& [name, bytes] : *owned) views[name] = bytes;
  JournalContents contents = read_bookie_files(views);
  contents.backing = std::move(owned);
  return contents;
}

}  // namespace streamlab::storage
