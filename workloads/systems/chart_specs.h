#pragma once

// The charts the HTML report draws for the checkers' series, shared by the systems judged
// by one checker: the queue checker's (workloads/checkers/queue_metrics.cc) and the op
// timeline of the ledger and counter checkers (workloads/checkers/op_report.h).

#include <string>
#include <vector>

#include "workloads/systems/system_adapter.h"

namespace streamlab::workloads {

std::vector<ChartSpec> queue_charts();
// `ops` names the operations ("appends", "adds").
std::vector<ChartSpec> op_charts(const std::string& ops);

}  // namespace streamlab::workloads
