#pragma once

// An HDR-style log-linear histogram of non-negative integer values (nanoseconds): each
// power of two is split into 128 linear sub-buckets, so a recorded value is reported
// within 1/128 (< 0.8%) of itself, in fixed memory and with no allocation per record.

#include <array>
#include <bit>
#include <cstdint>

#include "base/assert.h"

namespace streamlab::workloads {

class LatencyHistogram {
 public:
  void record(std::int64_t value) {
    SL_ASSERT_GE(value, 0);
    ++counts_[bucket_of(static_cast<std::uint64_t>(value))];
    ++total_;
    if (value > max_) max_ = value;
  }

  std::uint64_t count() const { return total_; }
  std::int64_t max() const { return max_; }

  // The smallest recorded-bucket upper bound at or above quantile q in [0, 1].
  std::int64_t quantile(double q) const {
    if (total_ == 0) return 0;
    SL_ASSERT(q >= 0 && q <= 1);
    auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_));
    if (rank >= total_) rank = total_ - 1;
    std::uint64_t seen = 0;
    for (std::size_t b = 0; b < counts_.size(); ++b) {
      seen += counts_[b];
      if (seen > rank) {
        const std::int64_t upper = static_cast<std::int64_t>(upper_bound_of(b));
        return upper < max_ ? upper : max_;
      }
    }
    return max_;
  }

 private:
  static constexpr int kSubBits = 7;
  static constexpr std::uint64_t kSub = 1u << kSubBits;
  static constexpr std::size_t kBuckets = (64 - kSubBits + 1) * kSub;

  static std::size_t bucket_of(std::uint64_t v) {
    if (v < kSub) return static_cast<std::size_t>(v);
    const int shift = std::bit_width(v) - 1 - kSubBits;
    return static_cast<std::size_t>((static_cast<std::uint64_t>(shift + 1) << kSubBits) +
                                    ((v >> shift) - kSub));
  }
  static std::uint64_t upper_bound_of(std::size_t b) {
    if (b < kSub) return b;
    const int shift = static_cast<int>(b >> kSubBits) - 1;
    const std::uint64_t mantissa = kSub + (b & (kSub - 1));
    return ((mantissa + 1) << shift) - 1;
  }

  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t total_ = 0;
  std::int64_t max_ = 0;
};

}  // namespace streamlab::workloads
