#pragma once

// Series over a run's simulated time, for CheckResult::series (the HTML report plots
// them): the run [0, end] is cut into equal buckets of whole seconds, at most
// kMaxSeriesPoints of them, so that a series costs a few hundred points however long the
// run. Each point is stamped with its bucket's end, and every checker's series share the
// buckets of one end time, so charts of one run line up.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace streamlab::workloads {

using Series = std::vector<std::pair<std::int64_t, double>>;

inline constexpr std::size_t kMaxSeriesPoints = 300;

class TimeBuckets {
 public:
  // end_ns: the run's last instant, >= 0. A run that ends at 0 has no buckets, and its
  // series no points.
  explicit TimeBuckets(std::int64_t end_ns);

  std::size_t count() const { return count_; }
  std::int64_t width_ns() const { return width_ns_; }
  std::int64_t end_ns() const { return end_ns_; }
  // The bucket [k w, (k + 1) w) holding an instant of [0, end]; the run's last instant
  // belongs to the last bucket even when it is a bucket boundary.
  std::size_t index_of(std::int64_t time_ns) const;
  std::int64_t end_of(std::size_t k) const;

 private:
  std::int64_t end_ns_ = 0;
  std::int64_t width_ns_ = 0;
  std::size_t count_ = 0;
};

// Events per second over each bucket, from counts per second of simulated time (second
// s counts the events in [s, s + 1) seconds; none may lie past the buckets' end).
Series rate_series(const TimeBuckets& buckets, const std::vector<std::uint64_t>& per_second);

// At each bucket's end, how many of the instants (in any order) lie in that bucket or an
// earlier one: a running count, e.g. of lost writes by the time they were acknowledged.
Series running_count_series(const TimeBuckets& buckets, std::vector<std::int64_t> times_ns);

// Latency percentiles per bucket. Samples come in any order (a checker may only know
// them from per-message state at the end), so they are kept, 16 bytes each, a small
// fraction of what the history holds per op, and sorted once: one histogram then serves
// every bucket in turn, where a histogram per bucket would cost 59 KB each.
class LatencySeries {
 public:
  void record(std::int64_t time_ns, std::int64_t latency_ns);
  std::size_t size() const { return samples_.size(); }
  // Adds <name>_p50, <name>_p99 and <name>_p999, in milliseconds, to `series`; a bucket
  // without samples has no point (the chart leaves a gap, not a zero).
  void report(const TimeBuckets& buckets, const std::string& name,
              std::map<std::string, Series>& series);

 private:
  std::vector<std::pair<std::int64_t, std::int64_t>> samples_;  // (time, latency)
};

}  // namespace streamlab::workloads
