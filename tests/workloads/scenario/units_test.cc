#include "workloads/scenario/units.h"

#include <gtest/gtest.h>

namespace streamlab::workloads {
namespace {

TEST(Units, DurationsInEveryUnit) {
  EXPECT_EQ(parse_duration_ns("60s").value(), 60'000'000'000);
  EXPECT_EQ(parse_duration_ns("1.5ms").value(), 1'500'000);
  EXPECT_EQ(parse_duration_ns("200us").value(), 200'000);
  EXPECT_EQ(parse_duration_ns("7ns").value(), 7);
  EXPECT_EQ(parse_duration_ns("2m").value(), 120'000'000'000);
  EXPECT_EQ(parse_duration_ns("0").value(), 0);
}

TEST(Units, NegativeDurationOnlyWhenAllowed) {
  EXPECT_FALSE(parse_duration_ns("-5s").ok());
  EXPECT_EQ(parse_duration_ns("-5ms", true).value(), -5'000'000);
}

TEST(Units, FormattedDurationsReadBackExactly) {
  EXPECT_EQ(format_duration_ns(0), "0s");
  EXPECT_EQ(format_duration_ns(12'000'000'000), "12s");
  EXPECT_EQ(format_duration_ns(1'500'000), "1.5ms");
  EXPECT_EQ(format_duration_ns(812), "812ns");
  EXPECT_EQ(format_duration_ns(-2'000'000'001), "-2.000000001s");
  const std::int64_t examples[] = {1, 999, 1'000'000'007, 35'147'368'415, -1'234'567'891,
                                   86'400'000'000'123, (std::int64_t{1} << 53) - 1};
  for (const std::int64_t ns : examples) {
    const std::string text = format_duration_ns(ns);
    const auto back = parse_duration_ns(text, true);
    ASSERT_TRUE(back.ok()) << text;
    EXPECT_EQ(back.value(), ns) << text;
  }
}

TEST(Units, BadDurationsSayWhatWasExpected) {
  const auto r = parse_duration_ns("5 parsecs");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("unknown unit"), std::string::npos);
  EXPECT_FALSE(parse_duration_ns("soon").ok());
  EXPECT_FALSE(parse_duration_ns("").ok());
}

TEST(Units, SizesDecimalAndBinary) {
  EXPECT_EQ(parse_bytes("1KB").value(), 1000);
  EXPECT_EQ(parse_bytes("1KiB").value(), 1024);
  EXPECT_EQ(parse_bytes("100GB").value(), 100'000'000'000);
  EXPECT_FALSE(parse_bytes("-1KB").ok());
}

TEST(Units, BandwidthsInBitsAndBytes) {
  EXPECT_EQ(parse_bandwidth("25Gbit").value(), 3'125'000'000);
  EXPECT_EQ(parse_bandwidth("10Gbps").value(), 1'250'000'000);
  EXPECT_EQ(parse_bandwidth("330MB/s").value(), 330'000'000);
  EXPECT_FALSE(parse_bandwidth("0MB/s").ok());
  EXPECT_FALSE(parse_bandwidth("fast").ok());
}

TEST(Units, RatesAndPicoseconds) {
  EXPECT_DOUBLE_EQ(parse_rate_per_s("2000/s").value(), 2000);
  EXPECT_DOUBLE_EQ(parse_rate_per_s("120/min").value(), 2);
  EXPECT_FALSE(parse_rate_per_s("0/s").ok());
  EXPECT_EQ(parse_picoseconds("100ps").value(), 100);
  EXPECT_EQ(parse_picoseconds("0.5ns").value(), 500);
}

}  // namespace
}  // namespace streamlab::workloads
