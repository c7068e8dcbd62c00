#include "workloads/scenario/units.h"

#include <cmath>
#include <cstdlib>
#include <string>

namespace streamlab::workloads {

namespace {

struct Unit {
  std::string_view suffix;
  double scale;
};

// Splits "1.5ms" into 1.5 and "ms". False when there is no leading number.
bool split_number(std::string_view text, double* number, std::string_view* unit) {
  const std::string copy(text);
  const char* begin = copy.c_str();
  char* end = nullptr;
  *number = std::strtod(begin, &end);
  if (end == begin || !std::isfinite(*number)) return false;
  *unit = text.substr(static_cast<std::size_t>(end - begin));
  return true;
}

template <std::size_t N>
Result<double> parse_with_units(std::string_view text, const Unit (&units)[N],
                                const char* what, const char* examples) {
  double number = 0;
  std::string_view unit;
  if (!split_number(text, &number, &unit)) {
    return Error{"expected " + std::string(what) + " like " + examples + ", got \"" +
                 std::string(text) + "\""};
  }
  for (const Unit& u : units) {
    if (unit == u.suffix) return number * u.scale;
  }
  return Error{"unknown unit \"" + std::string(unit) + "\" in \"" + std::string(text) +
               "\"; expected " + what + " like " + examples};
}

Result<std::int64_t> to_integer(const Result<double>& r, bool allow_negative,
                                std::string_view text) {
  if (!r) return Error{r.error()};
  if (!allow_negative && r.value() < 0) {
    return Error{"\"" + std::string(text) + "\" must not be negative"};
  }
  if (std::fabs(r.value()) > 9e18) return Error{"\"" + std::string(text) + "\" is too large"};
  return static_cast<std::int64_t>(std::llround(r.value()));
}

}  // namespace

Result<std::int64_t> parse_duration_ns(std::string_view text, bool allow_negative) {
  static constexpr Unit kUnits[] = {{"ns", 1},   {"us", 1e3},  {"ms", 1e6},
                                    {"s", 1e9},  {"m", 60e9},  {"min", 60e9},
                                    {"h", 3600e9}};
  if (text == "0") return std::int64_t{0};
  return to_integer(parse_with_units(text, kUnits, "a duration", "\"60s\", \"1.5ms\", \"200us\""),
                    allow_negative, text);
}

std::string format_duration_ns(std::int64_t ns) {
  struct Scale {
    std::int64_t ns;
    int digits;
    const char* suffix;
  };
  static constexpr Scale kScales[] = {
      {1'000'000'000, 9, "s"}, {1'000'000, 6, "ms"}, {1'000, 3, "us"}};
  if (ns == 0) return "0s";
  // Unsigned, so that the most negative value has a magnitude too.
  const std::uint64_t magnitude =
      ns < 0 ? 0 - static_cast<std::uint64_t>(ns) : static_cast<std::uint64_t>(ns);
  for (const Scale& scale : kScales) {
    const auto unit = static_cast<std::uint64_t>(scale.ns);
    if (magnitude < unit) continue;
    std::string fraction = std::to_string(magnitude % unit);
    fraction.insert(0, static_cast<std::size_t>(scale.digits) - fraction.size(), '0');
    fraction.erase(fraction.find_last_not_of('0') + 1);
    std::string text = (ns < 0 ? "-" : "") + std::to_string(magnitude / unit);
    if (!fraction.empty()) text += "." + fraction;
    text += scale.suffix;
    // The parser goes through a double: a long fraction of a large value can round.
    const auto back = parse_duration_ns(text, true);
    if (back && back.value() == ns) return text;
  }
  return std::to_string(ns) + "ns";
}

Result<std::int64_t> parse_bytes(std::string_view text) {
  static constexpr Unit kUnits[] = {{"", 1},          {"B", 1},          {"KB", 1e3},
                                    {"MB", 1e6},      {"GB", 1e9},       {"TB", 1e12},
                                    {"KiB", 1024.0},  {"MiB", 1048576.0}, {"GiB", 1073741824.0},
                                    {"TiB", 1099511627776.0}};
  return to_integer(parse_with_units(text, kUnits, "a size", "\"1KB\", \"64KiB\", \"100GB\""),
                    false, text);
}

Result<std::int64_t> parse_bandwidth(std::string_view text) {
  static constexpr Unit kUnits[] = {
      {"bit", 1 / 8.0},      {"bit/s", 1 / 8.0},   {"bps", 1 / 8.0},
      {"Kbit", 1e3 / 8},     {"Kbit/s", 1e3 / 8},  {"Kbps", 1e3 / 8},
      {"Mbit", 1e6 / 8},     {"Mbit/s", 1e6 / 8},  {"Mbps", 1e6 / 8},
      {"Gbit", 1e9 / 8},     {"Gbit/s", 1e9 / 8},  {"Gbps", 1e9 / 8},
      {"B/s", 1},            {"KB/s", 1e3},        {"MB/s", 1e6},
      {"GB/s", 1e9},         {"KiB/s", 1024.0},    {"MiB/s", 1048576.0},
      {"GiB/s", 1073741824.0}};
  auto r = to_integer(
      parse_with_units(text, kUnits, "a bandwidth", "\"25Gbit\", \"330MB/s\", \"1GiB/s\""),
      false, text);
  if (r && r.value() == 0) return Error{"bandwidth \"" + std::string(text) + "\" must be > 0"};
  return r;
}

Result<double> parse_rate_per_s(std::string_view text) {
  static constexpr Unit kUnits[] = {{"/s", 1}, {"/ms", 1e3}, {"/min", 1 / 60.0}, {"/m", 1 / 60.0}};
  auto r = parse_with_units(text, kUnits, "a rate", "\"2000/s\", \"120/min\"");
  if (r && r.value() <= 0) return Error{"rate \"" + std::string(text) + "\" must be > 0"};
  return r;
}

Result<std::int64_t> parse_picoseconds(std::string_view text) {
  static constexpr Unit kUnits[] = {{"ps", 1}, {"ns", 1e3}, {"us", 1e6}};
  return to_integer(parse_with_units(text, kUnits, "a time per byte", "\"100ps\", \"0.5ns\""),
                    false, text);
}

}  // namespace streamlab::workloads
