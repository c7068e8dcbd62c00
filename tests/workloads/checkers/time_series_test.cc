#include "workloads/checkers/time_series.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace streamlab::workloads {
namespace {

constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kS = 1'000'000'000;

TEST(TimeBuckets, SecondsUpToTheEnd) {
  const TimeBuckets b(2'500 * kMs);
  EXPECT_EQ(b.count(), 3u);
  EXPECT_EQ(b.width_ns(), kS);
  EXPECT_EQ(b.index_of(0), 0u);
  EXPECT_EQ(b.index_of(kS - 1), 0u);
  EXPECT_EQ(b.index_of(kS), 1u);
  EXPECT_EQ(b.end_of(2), 3 * kS);
}

TEST(TimeBuckets, TheLastInstantBelongsToTheLastBucket) {
  const TimeBuckets b(40 * kS);
  EXPECT_EQ(b.count(), 40u);
  EXPECT_EQ(b.index_of(40 * kS), 39u);
  EXPECT_EQ(b.end_of(39), 40 * kS);
}

TEST(TimeBuckets, ALongRunGetsWiderBucketsNotMorePoints) {
  const TimeBuckets b(3'600 * kS);
  EXPECT_LE(b.count(), kMaxSeriesPoints);
  EXPECT_EQ(b.width_ns(), 12 * kS);
  EXPECT_EQ(b.count(), 300u);
  EXPECT_EQ(b.index_of(3'600 * kS), 299u);
}

TEST(TimeBuckets, ARunEndingAtZeroHasNone) {
  const TimeBuckets b(0);
  EXPECT_EQ(b.count(), 0u);
  EXPECT_TRUE(rate_series(b, {}).empty());
  EXPECT_TRUE(running_count_series(b, {}).empty());
}

TEST(TimeSeries, RatesAverageOverWideBuckets) {
  const TimeBuckets b(600 * kS);  // 2-second buckets.
  ASSERT_EQ(b.width_ns(), 2 * kS);
  std::vector<std::uint64_t> per_second(601, 0);
  per_second[0] = 4;
  per_second[1] = 2;
  per_second[600] = 8;  // The run's last instant: in the last bucket.
  const Series s = rate_series(b, per_second);
  ASSERT_EQ(s.size(), 300u);
  EXPECT_EQ(s[0], (std::pair<std::int64_t, double>{2 * kS, 3.0}));
  EXPECT_EQ(s[1].second, 0.0);
  EXPECT_EQ(s[299], (std::pair<std::int64_t, double>{600 * kS, 4.0}));
}

TEST(TimeSeries, RunningCountsTakeInstantsInAnyOrder) {
  const TimeBuckets b(3 * kS);
  EXPECT_EQ(running_count_series(b, {2'500 * kMs, 100 * kMs, 3 * kS, 200 * kMs}),
            (Series{{kS, 2}, {2 * kS, 2}, {3 * kS, 4}}));
}

TEST(TimeSeries, LatencyPercentilesPerBucketLeaveGaps) {
  LatencySeries latency;
  // Recorded out of time order, as a checker reading per-message state does.
  latency.record(2'100 * kMs, 40 * kMs);
  for (int i = 0; i < 99; ++i) latency.record(100 * kMs, 2 * kMs);
  latency.record(900 * kMs, 500 * kMs);
  std::map<std::string, Series> series;
  latency.report(TimeBuckets(3 * kS), "publish", series);
  // Bucket 0: 99 samples of 2 ms and one of 500 ms; bucket 1: none; bucket 2: one.
  const Series& p50 = series.at("publish_p50");
  ASSERT_EQ(p50.size(), 2u);
  EXPECT_EQ(p50[0].first, kS);
  EXPECT_NEAR(p50[0].second, 2.0, 0.02);
  EXPECT_EQ(p50[1].first, 3 * kS);
  EXPECT_NEAR(p50[1].second, 40.0, 0.4);
  EXPECT_NEAR(series.at("publish_p99").at(0).second, 500.0, 5.0);
  EXPECT_NEAR(series.at("publish_p999").at(0).second, 500.0, 5.0);
}

TEST(TimeSeries, NoLatencySamplesStillNameTheSeries) {
  LatencySeries latency;
  std::map<std::string, Series> series;
  latency.report(TimeBuckets(kS), "add", series);
  EXPECT_TRUE(series.at("add_p50").empty());
  EXPECT_TRUE(series.at("add_p99").empty());
  EXPECT_TRUE(series.at("add_p999").empty());
}

}  // namespace
}  // namespace streamlab::workloads
