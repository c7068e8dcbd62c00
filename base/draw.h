#pragma once

// Draws from a uniform 64-bit word that node code and the simulator share: node code sees
// only Runtime::random(), and must draw the same way the kernel's Rng does.

#include <cstdint>
#include <cstring>

#include "base/assert.h"

namespace streamlab {

// Natural log of x in (0, 1], in plain IEEE arithmetic: the same bits on every platform
// (libm's log may differ in the last bit between versions) and several times faster.
// x = 2^e * m with m in [sqrt(1/2), sqrt(2)); log(m) = 2 atanh(t), t = (m - 1) / (m + 1),
// |t| < 0.172, by its series to t^13: absolute error below 1e-12, far under any
// simulated delay's resolution.
inline double log_unit_interval(double x) {
  SL_ASSERT(x > 0 && x <= 1);
  std::uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  int exponent = static_cast<int>((bits >> 52) & 0x7ff) - 1023;
  SL_ASSERT_MSG(exponent > -1023, "subnormal input");
  bits = (bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;  // m in [1, 2).
  double m;
  std::memcpy(&m, &bits, sizeof m);
  if (m > 1.4142135623730951) {
    m *= 0.5;
    ++exponent;
  }
  const double t = (m - 1) / (m + 1);
  const double t2 = t * t;
  const double series =
      t * (2 + t2 * (2.0 / 3 + t2 * (2.0 / 5 + t2 * (2.0 / 7 + t2 * (2.0 / 9 +
                                                                    t2 * (2.0 / 11 + t2 * (2.0 / 13)))))));
  return exponent * 0.6931471805599453 + series;
}

// Uniform in [0, 1) with 53 bits of precision.
inline double unit_from_bits(std::uint64_t bits) {
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

// Exponential with the given mean, by inversion of one uniform word.
inline double exponential_from_bits(std::uint64_t bits, double mean) {
  // 1 - u lies in (0, 1], so the log is finite.
  return -mean * log_unit_interval(1.0 - unit_from_bits(bits));
}

// Uniform in [0, n), by Lemire's multiply-shift: the bias is below n / 2^64, far under
// anything a simulation can observe.
inline std::uint64_t bounded_from_bits(std::uint64_t bits, std::uint64_t n) {
  SL_ASSERT(n > 0);
  return static_cast<std::uint64_t>((static_cast<unsigned __int128>(bits) * n) >> 64);
}

}  // namespace streamlab
