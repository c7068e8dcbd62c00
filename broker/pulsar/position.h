#pragma once

// A position in a topic's log: (ledger ordinal << 32) | entry. Ledger ids are drawn at
// random, so positions order by the ledger's ordinal in the managed ledger's list (one
// more than its predecessor's), which makes a position one integer that sorts as the
// log does.

#include <cstdint>

#include "base/assert.h"

namespace streamlab::pulsar {

using Pos = std::uint64_t;

inline constexpr std::uint64_t kMaxEntriesPerLedger = 0xffffffffULL;

inline Pos make_pos(std::uint64_t ordinal, std::int64_t entry) {
  SL_ASSERT(entry >= 0 && static_cast<std::uint64_t>(entry) < kMaxEntriesPerLedger);
  SL_ASSERT(ordinal < (1ULL << 31));
  return (ordinal << 32) | static_cast<std::uint64_t>(entry);
}
inline std::uint64_t ordinal_of(Pos p) { return p >> 32; }
inline std::int64_t entry_of(Pos p) { return static_cast<std::int64_t>(p & 0xffffffffULL); }

// The position just before the first entry of a ledger with this ordinal: cursors whose
// mark-delete is here have consumed everything before that ledger.
inline Pos before_ledger(std::uint64_t ordinal) {
  SL_ASSERT_GT(ordinal, 0);
  return make_pos(ordinal - 1, kMaxEntriesPerLedger - 1);
}

}  // namespace streamlab::pulsar
