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

  std::uint32_t max_entries_per_ledger = 50'000;             // managedLedgerMaxEntriesPerLedger
  std::int64_t max_ledger_age_ns = 240LL * 60 * 1'000'000'000;  // ...MaxLedgerRolloverTimeMinutes
  // Consumed ledgers are deleted once this old (0: as soon as every cursor passed them).
  std::int64_t retention_ns = 0;  // defaultRetentionTimeInMinutes
  std::uint32_t max_unacked_ranges_to_persist = 1'000;  // managedLedgerMaxUnackedRangesToPersist
  std::int64_t cursor_persist_delay_ns = 100'000'000;   // Batches mark-delete writes.
  std::uint32_t cursor_ledger_max_entries = 1'000;      // A cursor's ledger rolls over after.

  bool dedup = true;  // brokerDeduplicationEnabled (Pulsar's default is off; unsafe off).
  std::uint32_t dedup_snapshot_interval = 1'000;  // brokerDeduplicationEntriesInterval

  std::int64_t keepalive_ns = 30'000'000'000;  // keepAliveIntervalSeconds
  std::int64_t retry_ns = 200'000'000;         // After a failed load step.
  std::size_t entry_cache_bytes = 16u << 20;   // managedLedgerCacheSizeMB
  std::uint32_t max_pending_reads = 100;       // Per subscription: dispatcher read batch.
};

}  // namespace streamlab::pulsar
