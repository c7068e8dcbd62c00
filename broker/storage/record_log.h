#pragma once

// Framing for the append-only logs of the storage layer (the metadata store's log, the
// bookies' journals): each record is
//   length u32 | checksum u64 (of the body) | body (length bytes)
// little-endian. Parsing finds every intact record: past a damaged stretch in the middle
// (a misdirected write, a bad sector) it resynchronizes on the next intact frame, so one
// bad record never takes the fsynced records after it along. What follows the last
// intact record is a torn tail, which recovery cuts.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace streamlab::storage {

inline constexpr std::size_t kRecordHeaderBytes = 12;

void append_framed(std::span<const std::uint8_t> body, std::vector<std::uint8_t>& out);

struct FramedRecord {
  std::uint64_t offset = 0;  // Of the record's header in the log.
  std::span<const std::uint8_t> body;
};

struct FramedLog {
  std::vector<FramedRecord> records;  // Bodies point into the parsed bytes.
  std::uint64_t valid_bytes = 0;      // Where the last intact record ends.
  std::uint64_t damaged_bytes = 0;    // Skipped before valid_bytes: holes, not the tail.
};

FramedLog parse_framed(std::span<const std::uint8_t> bytes);

// Checks one record read back on its own (a bookie reading an entry): its body, or
// nullopt when the bytes are not exactly one intact record.
std::optional<std::span<const std::uint8_t>> unframe_one(std::span<const std::uint8_t> bytes);

}  // namespace streamlab::storage
