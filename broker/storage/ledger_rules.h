#pragma once

// The arithmetic of BookKeeper's replication protocol (REFERENCE.md "BookKeeper"), as
// pure functions so each rule is tested on its own and the ledger client reads as the
// protocol does.

#include <cstdint>
#include <string>
#include <vector>

#include "broker/storage/storage.pb.h"

namespace streamlab::storage {

// Ensemble size, write quorum, ack quorum.
struct Quorums {
  std::uint32_t ensemble = 3;
  std::uint32_t write_quorum = 3;
  std::uint32_t ack_quorum = 2;
};

// Empty when E >= Qw >= Qa >= 1 holds (creation requires it); otherwise why not.
std::string check_quorums(const Quorums& q);

// Striping: entry e goes to the Qw consecutive bookies of the ensemble starting at index
// e mod E. Returns the ensemble index of the i-th member of e's write set.
inline std::uint32_t write_set_member(std::int64_t entry, std::uint32_t i, const Quorums& q) {
  return static_cast<std::uint32_t>((static_cast<std::uint64_t>(entry) + i) % q.ensemble);
}

// True when ensemble index `bookie` is in entry e's write set.
bool in_write_set(std::int64_t entry, std::uint32_t bookie, const Quorums& q);

// Fencing completes with (E - Qa) + 1 fenced replies: then fewer than Qa bookies of the
// ensemble are unfenced, so no further entry can reach an ack quorum.
inline std::uint32_t fence_quorum(const Quorums& q) { return q.ensemble - q.ack_quorum + 1; }

// Recovery may call an entry absent only on (Qw - Qa) + 1 "no such entry" replies: an
// acknowledged entry is on Qa of its Qw bookies, so at most Qw - Qa can lack it.
inline std::uint32_t no_entry_quorum(const Quorums& q) {
  return q.write_quorum - q.ack_quorum + 1;
}

enum class RecoveryVerdict : std::uint8_t {
  waiting,      // Not enough replies yet.
  recoverable,  // One positive reply: the entry exists and is rewritten.
  absent,       // Enough "no such entry": the ledger ends before it.
  unknown,      // Every reply is in and neither holds: recovery must stop.
};

// Judges a recovery read of one entry from the replies of its write set.
RecoveryVerdict judge_recovery_read(std::uint32_t ok, std::uint32_t no_entry,
                                    std::uint32_t errors, const Quorums& q);

// The fragment (index into metadata.fragments) that holds entry e: the last one whose
// first entry is <= e.
int fragment_of(const LedgerMetadata& metadata, std::int64_t entry);

Quorums quorums_of(const LedgerMetadata& metadata);

// False when the bytes are not ledger metadata with at least one fragment.
bool parse_ledger_metadata(const std::string& bytes, LedgerMetadata* out);

std::vector<std::string> bookies_of(const Fragment& fragment);

bool same_fragments(const LedgerMetadata& a, const LedgerMetadata& b);

}  // namespace streamlab::storage
