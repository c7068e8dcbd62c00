#pragma once

// Parsing the quantities of scenario files. Each parser accepts a number (integer or
// decimal) followed by a unit, and says what it expected when the text is wrong.

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace streamlab::workloads {

// "60s", "1.5ms", "200us", "100ns", "2m", "1h", "0". Negative only when allowed.
Result<std::int64_t> parse_duration_ns(std::string_view text, bool allow_negative = false);
// The inverse: text parse_duration_ns reads back as exactly `ns`, in the largest unit
// that fits ("12s", "1.5ms", "-2.000000001s", "812ns"), for files the tools write. Exact
// while |ns| < 2^53 (104 days): the parser reads the number as a double.
std::string format_duration_ns(std::int64_t ns);
// "512", "1KB" (1000), "1KiB" (1024), "10MB", "100GB", "1TiB".
Result<std::int64_t> parse_bytes(std::string_view text);
// "25Gbit" / "25Gbit/s" / "25Gbps" (bits), "330MB/s" / "1GiB/s" (bytes) -> bytes per second.
Result<std::int64_t> parse_bandwidth(std::string_view text);
// "2000/s", "50/ms", "120/min" -> per second.
Result<double> parse_rate_per_s(std::string_view text);
// CPU cost per byte: "100ps", "0.1ns" -> picoseconds.
Result<std::int64_t> parse_picoseconds(std::string_view text);

}  // namespace streamlab::workloads
