#pragma once

// What each anomaly name means, in one line per system, for readers of the HTML report
// who do not have the checkers' headers open. The lines condense those headers
// (workloads/counter_checker.h, ledger_checker.h, queue_checker.h), which stay the
// definitions: change a checker, change its line here (a test holds every name of
// known_anomalies to having one).

#include <string_view>

#include "workloads/scenario_config.h"

namespace streamlab::workloads {

// Empty for a name the system's checker does not report.
std::string_view anomaly_meaning(SystemKind system, std::string_view anomaly);

}  // namespace streamlab::workloads
