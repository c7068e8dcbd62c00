#pragma once

// What each anomaly name means, in one line per system, for readers of the HTML report
// who do not have the checkers' headers open. The lines condense those headers
// (workloads/counter_checker.h, ledger_checker.h, queue_checker.h), which stay the
// definitions: change a checker, change its line here (a test holds every name of
// known_anomalies to having one).

#include <string_view>

namespace streamlab::workloads {

// Empty for a name `checker` ("counter", "ledger", "queue") does not report.
std::string_view anomaly_meaning(std::string_view checker, std::string_view anomaly);

}  // namespace streamlab::workloads
