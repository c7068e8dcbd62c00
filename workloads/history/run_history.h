#pragma once

// A run's history, taken out of the run for export: only the run's system's vector is
// filled.

#include <vector>

#include "workloads/history/history.h"
#include "workloads/history/ledger_history.h"
#include "workloads/history/queue_history.h"

namespace streamlab::workloads {

struct RunHistory {
  std::vector<Op> counter;
  std::vector<LedgerOp> ledger;
  std::vector<QueueOp> queue;
};

}  // namespace streamlab::workloads
