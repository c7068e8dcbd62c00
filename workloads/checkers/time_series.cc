#include "workloads/checkers/time_series.h"

#include <algorithm>
#include <memory>

#include "base/assert.h"
#include "workloads/checkers/latency_histogram.h"

namespace streamlab::workloads {

namespace {

constexpr std::int64_t kSecondNs = 1'000'000'000;

double ms(std::int64_t ns) { return static_cast<double>(ns) / 1e6; }

}  // namespace

TimeBuckets::TimeBuckets(std::int64_t end_ns) : end_ns_(end_ns) {
  SL_ASSERT_GE(end_ns, 0);
  const std::int64_t seconds = (end_ns + kSecondNs - 1) / kSecondNs;
  if (seconds == 0) return;
  const auto max_points = static_cast<std::int64_t>(kMaxSeriesPoints);
  const std::int64_t width_s = (seconds + max_points - 1) / max_points;
  width_ns_ = width_s * kSecondNs;
  count_ = static_cast<std::size_t>((seconds + width_s - 1) / width_s);
  SL_ASSERT_LE(count_, kMaxSeriesPoints);
}

std::size_t TimeBuckets::index_of(std::int64_t time_ns) const {
  SL_ASSERT_GT(count_, 0);
  SL_ASSERT_GE(time_ns, 0);
  SL_ASSERT_MSG(time_ns <= end_ns_, "an instant after the run's end");
  return std::min(static_cast<std::size_t>(time_ns / width_ns_), count_ - 1);
}

std::int64_t TimeBuckets::end_of(std::size_t k) const {
  SL_ASSERT_LT(k, count_);
  return static_cast<std::int64_t>(k + 1) * width_ns_;
}

Series rate_series(const TimeBuckets& buckets, const std::vector<std::uint64_t>& per_second) {
  if (buckets.count() == 0) return {};
  std::vector<std::uint64_t> sums(buckets.count(), 0);
  for (std::size_t s = 0; s < per_second.size(); ++s) {
    if (per_second[s] == 0) continue;
    sums[buckets.index_of(static_cast<std::int64_t>(s) * kSecondNs)] += per_second[s];
  }
  const double width_s = static_cast<double>(buckets.width_ns()) / 1e9;
  Series out;
  out.reserve(sums.size());
  for (std::size_t k = 0; k < sums.size(); ++k) {
    out.emplace_back(buckets.end_of(k), static_cast<double>(sums[k]) / width_s);
  }
  return out;
}

Series running_count_series(const TimeBuckets& buckets, std::vector<std::int64_t> times_ns) {
  std::sort(times_ns.begin(), times_ns.end());
  Series out;
  out.reserve(buckets.count());
  std::size_t next = 0;
  for (std::size_t k = 0; k < buckets.count(); ++k) {
    while (next < times_ns.size() && buckets.index_of(times_ns[next]) <= k) ++next;
    out.emplace_back(buckets.end_of(k), static_cast<double>(next));
  }
  return out;
}

void LatencySeries::record(std::int64_t time_ns, std::int64_t latency_ns) {
  SL_ASSERT_GE(latency_ns, 0);
  samples_.emplace_back(time_ns, latency_ns);
}

void LatencySeries::report(const TimeBuckets& buckets, const std::string& name,
                           std::map<std::string, Series>& series) {
  Series& p50 = series[name + "_p50"];
  Series& p99 = series[name + "_p99"];
  Series& p999 = series[name + "_p999"];
  std::sort(samples_.begin(), samples_.end());
  // On the heap: the histogram is 59 KB.
  auto histogram = std::make_unique<LatencyHistogram>();
  std::size_t next = 0;
  for (std::size_t k = 0; k < buckets.count() && next < samples_.size(); ++k) {
    *histogram = LatencyHistogram{};
    while (next < samples_.size() && buckets.index_of(samples_[next].first) <= k) {
      histogram->record(samples_[next++].second);
    }
    if (histogram->count() == 0) continue;
    const std::int64_t at = buckets.end_of(k);
    p50.emplace_back(at, ms(histogram->quantile(0.50)));
    p99.emplace_back(at, ms(histogram->quantile(0.99)));
    p999.emplace_back(at, ms(histogram->quantile(0.999)));
  }
}

}  // namespace streamlab::workloads
