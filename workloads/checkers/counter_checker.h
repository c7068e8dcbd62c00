#pragma once

// Judges a counter run from the client history and the server's final log:
// - lost-write: an add acknowledged ok is not in the log;
// - duplicate: an add appears in the log more than once;
// - unexpected: the log holds an add no client ever invoked;
// - not-recovered (liveness runs): an add invoked after the recovery deadline did not
//   complete ok.
// Adds that ended as info or never completed may or may not be in the log: both are fine.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "workloads/checkers/check_result.h"
#include "workloads/history/history.h"

namespace streamlab::workloads {

struct CounterCheckInput {
  const std::vector<Op>* history = nullptr;
  std::span<const std::uint8_t> server_log;
  std::function<std::string(std::uint32_t)> process_name;
  std::int64_t duration_ns = 0;
  std::int64_t recover_by_ns = -1;  // < 0: not a liveness run.
  // Adds invoked after this could not finish before the run ended; liveness skips them.
  std::int64_t settle_by_ns = INT64_MAX;
};

CheckResult check_counter(const CounterCheckInput& input);

}  // namespace streamlab::workloads
