#pragma once

// The seeded generator and the few distributions we need. We write our own instead of
// using <random>'s distributions because their output differs between standard libraries,
// and a seed must mean the same run everywhere. Engine: xoshiro256** (Blackman & Vigna),
// seeded through splitmix64 as its authors recommend.

#include <cstdint>
#include <vector>

namespace streamlab::sim {

class Rng {
 public:
  explicit Rng(std::uint64_t seed);

  // An independent stream derived from this generator's seed and a stream id; the same
  // (seed, stream) always gives the same stream, whatever else drew from the parent.
  Rng fork(std::uint64_t stream) const;

  std::uint64_t next_u64();
  // Uniform in [0, bound), bound > 0, unbiased (Lemire's multiply-and-reject).
  std::uint64_t uniform_u64(std::uint64_t bound);
  // Uniform in [lo, hi], inclusive, lo <= hi.
  std::int64_t uniform_i64(std::int64_t lo, std::int64_t hi);
  // Uniform in [0, 1) with 53 bits of precision.
  double uniform_01();
  bool chance(double probability);

  double exponential(double mean);
  double normal(double mean, double stddev);
  // exp(normal(mu, sigma)).
  double lognormal(double mu, double sigma);
  // Pareto type I: scale x_m > 0, shape alpha > 0; values >= scale.
  double pareto(double scale, double shape);

 private:
  std::uint64_t seed_;
  std::uint64_t s_[4];
};

// Zipf over ranks [0, n) with exponent s >= 0: P(k) proportional to 1 / (k + 1)^s.
// The CDF is precomputed once, so a draw is one binary search.
class Zipf {
 public:
  Zipf(std::uint64_t n, double exponent);
  std::uint64_t sample(Rng& rng) const;
  std::uint64_t size() const { return cdf_.size(); }

 private:
  std::vector<double> cdf_;
};

std::uint64_t splitmix64(std::uint64_t& state);

}  // namespace streamlab::sim
