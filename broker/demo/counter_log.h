#pragma once

// The counter server's on-disk log: fixed 32-byte records, little-endian:
//   client node id u32 | reserved u32 | request id u64 | amount i64 | checksum u64
// The checksum (FNV-1a of the first 24 bytes) lets recovery find a torn or corrupted tail.

#include <cstdint>
#include <span>
#include <vector>

namespace streamlab::demo {

inline constexpr std::size_t kCounterRecordBytes = 32;
inline constexpr const char* kCounterLogFile = "counter.log";

struct CounterRecord {
  std::uint32_t client = 0;
  std::uint64_t request_id = 0;
  std::int64_t amount = 0;
};

void append_record(const CounterRecord& record, std::vector<std::uint8_t>& out);

struct ParsedLog {
  std::vector<CounterRecord> records;
  std::uint64_t valid_bytes = 0;  // Length of the prefix of intact records.
};

// Reads records up to the first incomplete or corrupt one.
ParsedLog parse_log(std::span<const std::uint8_t> bytes);

}  // namespace streamlab::demo
