#pragma once

// A broker's settings (REFERENCE.md "Pulsar"; Pulsar's names in comments). Each unsafe
// knob defaults to the safe choice.

#include <cstdint>
#include <map>
#include <string>

#include "broker/storage/ledger_client.h"
#include "broker/storage/metadata_client.h"

namespace streamlab::pulsar {

struct BrokerConfig {
  storage::MetadataClientConfig metadata;
  storage::LedgerClientConfig ledger;  // Bookies, timeouts, recovery_fencing.
  // The topics' ledgers (managedLedgerDefaultEnsembleSize / WriteQuorum / AckQuorum =
  // 2/2/2); an ack quorum of 1 is an unsafe knob.
  storage::LedgerOptions ledger_options{storage::Quorums{2, 2, 2}, {}};
  // Partitioned topics by name; every other topic is not partitioned.
  std::map<std::string, std::uint32_t> partitioned_topics;

  // The current ledger rolls over at whichever of these comes first.
  std::uint32_t max_entries_per_ledger = 50'000;             // managedLedgerMaxEntriesPerLedger
  std::uint64_t max_ledger_bytes = 2048ULL << 20;            // ...MaxSizePerLedgerMbytes
  std::int64_t max_ledger_age_ns = 240LL * 60 * 1'000'000'000;  // ...MaxLedgerRolloverTimeMinutes
  // A ledger every cursor has passed is deleted once it is older than retention_ns or
  // the topic holds more than retention_bytes without it (defaultRetentionTimeInMinutes,
  // defaultRetentionSizeInMB). -1: no limit of that kind; both 0: at once. Only one of
  // them 0 would delete everything consumed at once whatever the other says, which is
  // why the loader refuses it, as Pulsar does.
  std::int64_t retention_ns = 0;
  std::int64_t retention_bytes = 0;
  std::uint32_t max_unacked_ranges_to_persist = 1'000;  // managedLedgerMaxUnackedRangesToPersist
  std::int64_t cursor_persist_delay_ns = 100'000'000;   // Batches mark-delete writes.
  std::uint32_t cursor_ledger_max_entries = 1'000;      // A cursor's ledger rolls over after.

  bool dedup = true;  // brokerDeduplicationEnabled (Pulsar's default is off; unsafe off).
  std::uint32_t dedup_snapshot_interval = 1'000;  // brokerDeduplicationEntriesInterval

  // Transactions (REFERENCE.md "Pulsar transactions (PIP-31)"): the coordinator and the
  // topics' transaction buffers (transactionCoordinatorEnabled; off as in Pulsar).
  bool transactions = false;
  // Unsafe off: the coordinator sends a commit's markers without first logging
  // COMMITTING, so one that dies midway leaves a transaction its successor aborts on the
  // partitions the markers did not reach.
  bool txn_log_committing = true;
  // Zombie fencing. Unsafe off: a new instance of an owner (transactional id) neither
  // fences the earlier ones nor aborts their open transactions, stale epochs are
  // accepted, and an ack inside a transaction of an entry already acknowledged is taken
  // (Pulsar refuses it with a conflict): a paused instance that resumes can commit work
  // its successor already committed.
  bool txn_zombie_fencing = true;
  std::int64_t txn_max_timeout_ns = 300'000'000'000;  // transactionCoordinator max timeout.
  std::int64_t txn_marker_timeout_ns = 2'000'000'000;  // A marker request unanswered: again.

  std::int64_t keepalive_ns = 30'000'000'000;  // keepAliveIntervalSeconds
  std::int64_t retry_ns = 200'000'000;         // After a failed load step.
  std::size_t entry_cache_bytes = 16u << 20;   // managedLedgerCacheSizeMB
  std::uint32_t max_pending_reads = 100;       // Per subscription: dispatcher read batch.
  // A subscription whose read failed reads again only after this backoff, doubled on each
  // failure in a row up to the maximum (dispatcherReadFailureBackoffInitialTimeInMs /
  // ...MaxTimeInMs; Pulsar's 15 s and 60 s are longer than our runs' recovery bounds).
  std::int64_t read_failure_backoff_ns = 100'000'000;
  std::int64_t read_failure_backoff_max_ns = 5'000'000'000;
};

}  // namespace streamlab::pulsar
