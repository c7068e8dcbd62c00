#include "sim/rng.h"

#include <algorithm>
#include <cmath>

#include "base/assert.h"
#include "base/draw.h"

namespace streamlab::sim {

namespace {

std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// Marsaglia & Tsang's ziggurat for the standard exponential ("The Ziggurat Method for
// Generating Random Variables", JSS 2000), 256 layers. Nearly every draw costs one word,
// one table load, one compare and one multiply: the kernel's timer churn draws one per
// event. The tables are built once from libm's exp and log; they are constants.
struct ExponentialZiggurat {
  static constexpr int kLayers = 256;
  static constexpr double kTail = 7.697117470131487;  // Start of the tail, r.
  static constexpr double kArea = 3.949659822581572e-3;  // Area of each layer, v.
  static constexpr double kScale = 4294967296.0;  // 2^32: magnitudes are 32-bit.

  std::uint32_t k[kLayers];  // Below k[i], a draw of layer i is inside it: accept at once.
  double w[kLayers];         // Layer i's width per unit of the 32-bit magnitude.
  double f[kLayers];         // exp(-x_i), the density at layer i's edge.

  ExponentialZiggurat() {
    double d = kTail;
    double t = d;
    const double q = kArea / std::exp(-d);
    k[0] = static_cast<std::uint32_t>((d / q) * kScale);
    k[1] = 0;
    w[0] = q / kScale;
    w[kLayers - 1] = d / kScale;
    f[0] = 1.0;
    f[kLayers - 1] = std::exp(-d);
    for (int i = kLayers - 2; i >= 1; --i) {
      d = -std::log(kArea / d + std::exp(-d));
      k[i + 1] = static_cast<std::uint32_t>((d / t) * kScale);
      t = d;
      f[i] = std::exp(-d);
      w[i] = d / kScale;
    }
  }
};

const ExponentialZiggurat& exponential_ziggurat() {
  static const ExponentialZiggurat table;
  return table;
}

}  // namespace

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

Rng::Rng(std::uint64_t seed) : seed_(seed) {
  std::uint64_t state = seed;
  for (auto& word : s_) word = splitmix64(state);
}

Rng Rng::fork(std::uint64_t stream) const {
  std::uint64_t state = seed_ ^ (stream * 0xd1b54a32d192ed03ULL);
  return Rng(splitmix64(state));
}

std::uint64_t Rng::next_u64() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

std::uint64_t Rng::uniform_u64(std::uint64_t bound) {
  SL_ASSERT_GT(bound, 0);
  unsigned __int128 m = static_cast<unsigned __int128>(next_u64()) * bound;
  auto low = static_cast<std::uint64_t>(m);
  if (low < bound) {
    const std::uint64_t threshold = (0 - bound) % bound;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(next_u64()) * bound;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<std::uint64_t>(m >> 64);
}

std::int64_t Rng::uniform_i64(std::int64_t lo, std::int64_t hi) {
  SL_ASSERT_LE(lo, hi);
  const auto span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
  if (span == UINT64_MAX) return static_cast<std::int64_t>(next_u64());
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) + uniform_u64(span + 1));
}

double Rng::uniform_01() { return unit_from_bits(next_u64()); }

bool Rng::chance(double probability) {
  if (probability <= 0) return false;
  if (probability >= 1) return true;
  return uniform_01() < probability;
}

double Rng::exponential(double mean) {
  SL_ASSERT_GE(mean, 0);
  const ExponentialZiggurat& z = exponential_ziggurat();
  while (true) {
    const std::uint64_t bits = next_u64();
    const int layer = static_cast<int>(bits & 0xff);
    const auto magnitude = static_cast<std::uint32_t>(bits >> 32);
    const double x = magnitude * z.w[layer];
    if (magnitude < z.k[layer]) return mean * x;
    if (layer == 0) return mean * (ExponentialZiggurat::kTail - log_unit_interval(1.0 - uniform_01()));
    // The wedge between the layer's rectangle and the curve: accept under the density.
    if (z.f[layer] + uniform_01() * (z.f[layer - 1] - z.f[layer]) < std::exp(-x)) return mean * x;
  }
}

double Rng::normal(double mean, double stddev) {
  SL_ASSERT_GE(stddev, 0);
  // Box-Muller, one value per call: simpler to keep deterministic than a cached pair.
  const double u1 = 1.0 - uniform_01();
  const double u2 = uniform_01();
  const double z = std::sqrt(-2.0 * log_unit_interval(u1)) * std::cos(2.0 * M_PI * u2);
  return mean + stddev * z;
}

double Rng::lognormal(double mu, double sigma) { return std::exp(normal(mu, sigma)); }

double Rng::pareto(double scale, double shape) {
  SL_ASSERT_GT(scale, 0);
  SL_ASSERT_GT(shape, 0);
  return scale / std::pow(1.0 - uniform_01(), 1.0 / shape);
}

Zipf::Zipf(std::uint64_t n, double exponent) {
  SL_ASSERT_GT(n, 0);
  SL_ASSERT_GE(exponent, 0);
  cdf_.resize(n);
  double sum = 0;
  for (std::uint64_t k = 0; k < n; ++k) {
    sum += 1.0 / std::pow(static_cast<double>(k + 1), exponent);
    cdf_[k] = sum;
  }
  for (auto& c : cdf_) c /= sum;
  cdf_.back() = 1.0;
}

std::uint64_t Zipf::sample(Rng& rng) const {
  const double u = rng.uniform_01();
  const auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
  return static_cast<std::uint64_t>(std::min<std::ptrdiff_t>(it - cdf_.begin(),
                                                             cdf_.size() - 1));
}

}  // namespace streamlab::sim
