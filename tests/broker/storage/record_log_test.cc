#include "broker/storage/record_log.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace streamlab::storage {
namespace {

std::vector<std::uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }

TEST(RecordLog, RoundTripsRecordsAndCutsATornTail) {
  std::vector<std::uint8_t> log;
  append_framed(bytes("first"), log);
  append_framed(bytes(""), log);
  append_framed(bytes("third record"), log);
  const std::size_t whole = log.size();
  log.resize(whole - 3);  // A torn last record.
  const FramedLog parsed = parse_framed(log);
  ASSERT_EQ(parsed.records.size(), 2u);
  EXPECT_EQ(std::string(parsed.records[0].body.begin(), parsed.records[0].body.end()), "first");
  EXPECT_TRUE(parsed.records[1].body.empty());
  EXPECT_EQ(parsed.valid_bytes, 2 * kRecordHeaderBytes + 5);
}

TEST(RecordLog, SkipsADamagedRecordAndFindsTheNextIntactOne) {
  std::vector<std::uint8_t> log;
  append_framed(bytes("good"), log);
  append_framed(bytes("flipped"), log);
  append_framed(bytes("after"), log);
  log[kRecordHeaderBytes + 4 + kRecordHeaderBytes + 2] ^= 0x10;
  const FramedLog parsed = parse_framed(log);
  ASSERT_EQ(parsed.records.size(), 2u);
  EXPECT_EQ(std::string(parsed.records[1].body.begin(), parsed.records[1].body.end()), "after");
  EXPECT_EQ(parsed.damaged_bytes, kRecordHeaderBytes + 7);
  EXPECT_EQ(parsed.valid_bytes, log.size());
}

TEST(RecordLog, ADamagedHeaderIsSkippedToo) {
  std::vector<std::uint8_t> log;
  append_framed(bytes("first"), log);
  const std::size_t second = log.size();
  append_framed(bytes("second"), log);
  append_framed(bytes("third"), log);
  log[second] ^= 0xff;  // The length field.
  const FramedLog parsed = parse_framed(log);
  ASSERT_EQ(parsed.records.size(), 2u);
  EXPECT_EQ(std::string(parsed.records[1].body.begin(), parsed.records[1].body.end()), "third");
  EXPECT_EQ(parsed.valid_bytes, log.size());
}

TEST(RecordLog, UnframesExactlyOneIntactRecord) {
  std::vector<std::uint8_t> log;
  append_framed(bytes("entry"), log);
  const auto body = unframe_one(log);
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ(std::string(body->begin(), body->end()), "entry");
  log.back() ^= 1;
  EXPECT_FALSE(unframe_one(log).has_value());
  log.push_back(0);
  EXPECT_FALSE(unframe_one(log).has_value());
  std::vector<std::uint8_t> empty_body;
  append_framed({}, empty_body);
  ASSERT_TRUE(unframe_one(empty_body).has_value());  // Intact, and empty: not an error.
  EXPECT_TRUE(unframe_one(empty_body)->empty());
}

}  // namespace
}  // namespace streamlab::storage
