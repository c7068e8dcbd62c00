#pragma once

// The history of a ledger workload: appends (invoke, then ok / fail / info) and
// recoveries (a writer that took a log over recovered and closed its previous owner's
// ledger). Checkers judge these together with the final metadata and bookie journals.

#include <cstdint>
#include <string>

#include "workloads/history/history.h"

namespace streamlab::workloads {

enum class LedgerOpKind : std::uint8_t { add, recover };

struct LedgerOp {
  std::int64_t time_ns = 0;
  std::uint32_t process = 0;  // The writer node.
  OpType type = OpType::invoke;
  LedgerOpKind kind = LedgerOpKind::add;
  std::uint64_t seq = 0;        // add: the writer's sequence number, in the payload.
  std::uint64_t ledger_id = 0;  // add: the ledger appended to; recover: the one recovered.
  std::int64_t entry_id = -1;   // add ok: the entry; recover ok: the closed ledger's last.
  std::string error;
};

using LedgerHistory = HistoryOf<LedgerOp>;

// The payload of an append starts with (writer node u32, sequence u64), little-endian,
// so the checker knows every entry's origin; the rest is filler up to the entry size.
inline constexpr std::size_t kLedgerPayloadHeader = 12;

}  // namespace streamlab::workloads
