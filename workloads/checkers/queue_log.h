#pragma once

// The queue checker's view of storage at the end of a run: every topic partition's log as
// its readers find it, rebuilt from the metadata store's log and the bookies' journals.
//
// A partition's log is every ledger ever listed under /topics/<partition>/ledgers over the
// metadata log's whole history (a ledger trimmed from the list later still counts, with
// what the bookies still hold of it: its entries were consumed, and garbage collection
// drops them in its own time), in ordinal order (REFERENCE.md
// "Managed ledger": ordinals increase along the log). Each ledger is read with the last
// LedgerMetadata put for /ledgers/<id>, even if the key was removed later, as a reader
// finds it (workloads/ledger_view.h). Each entry is one producer's batch (EntryData);
// message i of the batch sits at (ledger, entry, batch index i). Cursor ledgers are listed
// in no topic's list, so they are never read; the transaction coordinator's log, listed
// like a topic's (pulsar::kTxnCoordinator), is skipped.
//
// Transactions (REFERENCE.md "Pulsar transactions (PIP-31)"): a transactional batch names
// its transaction, and its messages are recorded with it; control entries (a transaction's
// marker, a pending-ack record) hold no messages and are no bad entries: markers are kept
// with their place in log order, pending-ack records only counted. A pipeline's output
// (workloads/pipeline_payload.h) is recorded with the input it names.

#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/storage/bookie_files.h"
#include "workloads/history/pipeline_payload.h"

namespace streamlab::workloads {

inline constexpr std::uint32_t kNoIndex = UINT32_MAX;

// Dense ids for names (producers, brokers, partitions, subscriptions), in first-seen order.
class NameTable {
 public:
  std::uint32_t intern(std::string_view name);
  std::optional<std::uint32_t> find(std::string_view name) const;
  const std::string& name(std::uint32_t id) const { return names_.at(id); }
  std::size_t size() const { return names_.size(); }

 private:
  std::map<std::string, std::uint32_t, std::less<>> ids_;
  std::vector<std::string> names_;
};

// A message's identity: the producer's (name, number) within one partition.
struct MessageKey {
  std::uint32_t partition = 0;
  std::uint32_t producer = 0;
  std::uint64_t seq = 0;
  auto operator<=>(const MessageKey&) const = default;
};

// Dense ids for message identities, in first-seen order. The hash map serves look-ups
// only; nothing iterates it, so its order never reaches a report.
class MessageTable {
 public:
  std::uint32_t intern(const MessageKey& key);
  std::optional<std::uint32_t> find(const MessageKey& key) const;
  const MessageKey& key(std::uint32_t id) const { return keys_[id]; }
  std::size_t size() const { return keys_.size(); }

 private:
  struct Hash {
    std::size_t operator()(const MessageKey& k) const {
      std::uint64_t h = k.seq * 0x9e3779b97f4a7c15ull;
      h ^= (static_cast<std::uint64_t>(k.partition) << 32 | k.producer) + 0x7f4a7c15ull +
           (h << 6) + (h >> 2);
      return static_cast<std::size_t>(h);
    }
  };
  std::unordered_map<MessageKey, std::uint32_t, Hash> ids_;
  std::vector<MessageKey> keys_;
};

// One message of a partition's log.
struct LogMessage {
  std::uint32_t message = 0;  // MessageTable id.
  std::uint32_t ledger = 0;   // Index into PartitionLog::ledgers.
  std::int64_t entry = 0;
  std::int32_t batch_index = 0;
  std::uint32_t txn = kNoIndex;  // Its batch's transaction (a txns NameTable id), if any.
};

// A transaction's marker: it ended here, committed or aborted, on this partition.
struct LogMarker {
  std::uint32_t txn = 0;  // A txns NameTable id.
  bool commit = false;
  // Its place in log order: the messages before it, so the index of the next message.
  std::uint32_t at = 0;
  std::uint64_t ledger = 0;
  std::int64_t entry = 0;
};

struct LogLedger {
  std::uint64_t id = 0;
  std::uint64_t ordinal = 0;
  // Its metadata was removed: the topic's owner deleted it once every subscription had
  // passed it, and the bookies' garbage collection may have taken any of its entries.
  bool deleted = false;
  std::int64_t end = -1;  // The last readable entry.
  // entry_first[e]: index in PartitionLog::messages of entry e's first message; one more
  // element than entries, so entry e holds [entry_first[e], entry_first[e + 1]).
  std::vector<std::uint32_t> entry_first;
};

struct PartitionLog {
  std::vector<LogLedger> ledgers;     // In ordinal order.
  std::vector<LogMessage> messages;   // In log order: the index is the log position.
  std::map<std::uint64_t, std::uint32_t> ledger_index;  // Ledger id -> index in ledgers.
  std::vector<LogMarker> markers;     // In log order.

  // The log index of (ledger, entry, batch_index), kNoIndex when the log has no message
  // there.
  std::uint32_t at(std::uint64_t ledger, std::int64_t entry, std::int32_t batch_index) const;
  // The log indexes of the entry's messages: [first, last); empty when none.
  std::pair<std::uint32_t, std::uint32_t> entry_range(std::uint64_t ledger,
                                                      std::int64_t entry) const;
  std::optional<std::uint64_t> ordinal_of(std::uint64_t ledger) const;
};

// An entry a reader finds but cannot read as a batch.
struct BadEntry {
  std::uint32_t partition = 0;
  std::uint64_t ledger = 0;
  std::int64_t entry = 0;
  const char* why = "";
};

// A log message a pipeline made from `source`.
struct PipelineOutput {
  std::uint32_t partition = 0;
  std::uint32_t at = 0;  // Its log index.
  PipelineSource source;
};

struct QueueLog {
  std::vector<PartitionLog> partitions;  // Indexed by partition id (NameTable).
  std::vector<BadEntry> bad_entries;
  std::vector<PipelineOutput> pipeline_outputs;  // By partition, then in log order.
  std::uint64_t entries = 0;  // Readable entries (held by a bookie), batches or not.
  std::uint64_t messages = 0;
  std::uint64_t control_entries = 0;  // Markers and pending-ack records.
  // Readable entries with fewer copies in their write set than the ledger's quorums:
  // what one more bookie loss could take (as the ledger checker counts them).
  std::uint64_t entries_below_write_quorum = 0;
  std::uint64_t entries_below_ack_quorum = 0;
};

// A transaction's name, as the history writes it: "<most>:<least>".
std::string txn_name(std::uint64_t most, std::uint64_t least);

// How a stored message names itself: the producer name and number the history uses
// (queue_checker.h, QueueIdentity): sequence_id true takes them as stored.
struct StoredIdentity {
  std::string_view producer;
  std::uint64_t seq = 0;
};
inline constexpr std::size_t kPayloadNumberBytes = 8;
StoredIdentity stored_identity(const std::string& producer_name, const std::string& payload,
                               std::uint64_t sequence_id, bool by_sequence_id);

// The names a log read interns, each in first-seen order.
struct LogNames {
  NameTable& partitions;
  NameTable& producers;
  NameTable& txns;  // By txn_name.
  MessageTable& messages;
};

// Reads every topic's log. Partition names, producers and transactions met in the logs
// are interned into `names`, message identities too.
QueueLog read_queue_log(std::span<const std::uint8_t> metadata_log,
                        const std::map<std::string, storage::BookieFiles>& bookie_files,
                        bool by_sequence_id, const LogNames& names);

}  // namespace streamlab::workloads
