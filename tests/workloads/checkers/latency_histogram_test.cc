#include "workloads/checkers/latency_histogram.h"

#include <gtest/gtest.h>

namespace streamlab::workloads {
namespace {

TEST(LatencyHistogram, EmptyReportsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.quantile(0.99), 0);
  EXPECT_EQ(h.count(), 0u);
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram h;
  for (int v = 0; v < 100; ++v) h.record(v);
  EXPECT_EQ(h.quantile(0.5), 50);
  EXPECT_EQ(h.max(), 99);
}

TEST(LatencyHistogram, QuantilesWithinOnePercentOverWideRange) {
  LatencyHistogram h;
  for (std::int64_t v = 1; v <= 1'000'000; ++v) h.record(v * 1000);  // 1us .. 1s
  for (const double q : {0.5, 0.9, 0.99, 0.999}) {
    const double expected = q * 1e9;
    EXPECT_NEAR(static_cast<double>(h.quantile(q)), expected, expected * 0.01) << q;
  }
  EXPECT_EQ(h.quantile(1.0), 1'000'000'000);
}

}  // namespace
}  // namespace streamlab::workloads
