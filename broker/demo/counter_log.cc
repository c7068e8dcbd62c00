#include "broker/demo/counter_log.h"

namespace streamlab::demo {

namespace {

void put_u64(std::uint64_t v, std::uint8_t* out) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

std::uint64_t get_u64(const std::uint8_t* in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(in[i]) << (8 * i);
  return v;
}

std::uint64_t fnv1a(const std::uint8_t* data, std::size_t n) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (std::size_t i = 0; i < n; ++i) h = (h ^ data[i]) * 0x100000001b3ULL;
  return h;
}

}  // namespace

void append_record(const CounterRecord& record, std::vector<std::uint8_t>& out) {
  const std::size_t at = out.size();
  out.resize(at + kCounterRecordBytes);
  std::uint8_t* p = out.data() + at;
  put_u64(record.client, p);
  put_u64(record.request_id, p + 8);
  put_u64(static_cast<std::uint64_t>(record.amount), p + 16);
  put_u64(fnv1a(p, 24), p + 24);
}

ParsedLog parse_log(std::span<const std::uint8_t> bytes) {
  ParsedLog log;
  while (log.valid_bytes + kCounterRecordBytes <= bytes.size()) {
    const std::uint8_t* p = bytes.data() + log.valid_bytes;
    if (get_u64(p + 24) != fnv1a(p, 24)) break;
    CounterRecord record;
    record.client = static_cast<std::uint32_t>(get_u64(p));
    record.request_id = get_u64(p + 8);
    record.amount = static_cast<std::int64_t>(get_u64(p + 16));
    log.records.push_back(record);
    log.valid_bytes += kCounterRecordBytes;
  }
  return log;
}

}  // namespace streamlab::demo
