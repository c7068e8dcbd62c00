#pragma once

// Judges a ledger run from the writers' history and the final state of the logs: the
// metadata store's log (ledger metadata) and every bookie's journal.
// - lost-write: an append acknowledged ok is not in its ledger as a reader finds it: the
//   ledger is gone, closed before the entry, no bookie of the entry's write set holds
//   it, or the entry holds another append;
// - duplicate: one append appears at more than one place in the logs' ledgers;
// - unexpected: a ledger holds an append no writer invoked;
// - lost-write also: an acknowledged append to a ledger no log lists (/logs/<log>/ledgers);
// - split-brain also: a log's ledger followed by the next while still open;
// - split-brain: an append acknowledged to a writer although it was invoked after another
//   writer's recovery of that ledger had completed. (One invoked before may be
//   acknowledged late, e.g. to a writer that was paused with the reply queued: it may
//   have taken effect before the recovery, which then kept it, and that is correct.)
// A ledger that was never closed is read as recovery would find it with every bookie
// up: up to the first entry no bookie of its write set holds.

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "broker/storage/bookie_files.h"
#include "workloads/checkers/check_result.h"
#include "workloads/history/ledger_history.h"

namespace streamlab::workloads {

struct LedgerCheckInput {
  const std::vector<LedgerOp>* history = nullptr;
  std::span<const std::uint8_t> metadata_log;
  std::map<std::string, storage::BookieFiles> bookie_files;  // By bookie name.
  std::function<std::string(std::uint32_t)> process_name;
  std::int64_t duration_ns = 0;
};

CheckResult check_ledgers(const LedgerCheckInput& input);

}  // namespace streamlab::workloads
