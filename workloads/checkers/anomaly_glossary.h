#pragma once

// The one table of anomaly names: each checker's names, which scenario expectations may
// use, and what each means in one line, for readers of the HTML report who do not have
// the checkers' headers open. The lines condense those headers (counter_checker.h,
// ledger_checker.h, queue_checker.h), which stay the definitions: change a checker,
// change its lines here.

#include <string>
#include <string_view>
#include <vector>

namespace streamlab::workloads {

// Empty for a name `checker` ("counter", "ledger", "queue") does not report.
std::string_view anomaly_meaning(std::string_view checker, std::string_view anomaly);
// Every anomaly `checker` can report, in the glossary's order: the names a scenario's
// expectations may use. Empty for an unknown checker.
std::vector<std::string> checker_anomalies(std::string_view checker);

}  // namespace streamlab::workloads
