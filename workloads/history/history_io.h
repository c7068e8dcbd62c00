#pragma once

// Ledger and counter histories as JSON lines, as queue_history_io.h does for queue
// histories, so `streamlab run --history` output can be judged again (`streamlab check`).
// Ledger fields: time, process, type, f (append / recover), seq, ledger, entry, error.
// Counter fields: time, process, type, f (add), request, amount, value, error.

#include <string>
#include <vector>

#include "base/result.h"
#include "workloads/history/history.h"
#include "workloads/history/ledger_history.h"

namespace streamlab::workloads {

std::string ledger_op_to_json(const LedgerOp& op);
Result<LedgerOp> ledger_op_from_json(const std::string& line);
std::string counter_op_to_json(const Op& op);
Result<Op> counter_op_from_json(const std::string& line);

// Whole files; errors name the file and line.
Result<std::vector<LedgerOp>> read_ledger_history(const std::string& path);
Result<std::vector<Op>> read_counter_history(const std::string& path);

}  // namespace streamlab::workloads
