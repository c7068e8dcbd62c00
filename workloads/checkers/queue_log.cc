#include "workloads/checkers/queue_log.h"

#include <algorithm>
#include <set>
#include <utility>

#include "base/assert.h"
#include "broker/pulsar/pulsar.pb.h"
#include "broker/pulsar/wire.h"
#include "broker/storage/ledger_keys.h"
#include "broker/storage/ledger_rules.h"
#include "broker/storage/record_log.h"
#include "broker/storage/storage.pb.h"
#include "workloads/checkers/ledger_view.h"

namespace streamlab::workloads {

std::uint32_t NameTable::intern(std::string_view name) {
  const auto it = ids_.find(name);
  if (it != ids_.end()) return it->second;
  const auto id = static_cast<std::uint32_t>(names_.size());
  names_.emplace_back(name);
  ids_.emplace(std::string(name), id);
  return id;
}

std::optional<std::uint32_t> NameTable::find(std::string_view name) const {
  const auto it = ids_.find(name);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

std::uint32_t MessageTable::intern(const MessageKey& key) {
  const auto [it, inserted] = ids_.try_emplace(key, static_cast<std::uint32_t>(keys_.size()));
  if (inserted) {
    SL_ASSERT_MSG(keys_.size() < kNoIndex, "queue checker: too many messages");
    keys_.push_back(key);
  }
  return it->second;
}

std::optional<std::uint32_t> MessageTable::find(const MessageKey& key) const {
  const auto it = ids_.find(key);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

std::pair<std::uint32_t, std::uint32_t> PartitionLog::entry_range(std::uint64_t ledger,
                                                                  std::int64_t entry) const {
  const auto l = ledger_index.find(ledger);
  if (l == ledger_index.end()) return {0, 0};
  const LogLedger& lg = ledgers[l->second];
  if (entry < 0 || entry > lg.end) return {0, 0};
  const auto e = static_cast<std::size_t>(entry);
  return {lg.entry_first[e], lg.entry_first[e + 1]};
}

std::uint32_t PartitionLog::at(std::uint64_t ledger, std::int64_t entry,
                               std::int32_t batch_index) const {
  const auto [first, last] = entry_range(ledger, entry);
  if (batch_index < 0 || static_cast<std::uint64_t>(batch_index) >= last - first) return kNoIndex;
  return first + static_cast<std::uint32_t>(batch_index);
}

std::optional<std::uint64_t> PartitionLog::ordinal_of(std::uint64_t ledger) const {
  const auto l = ledger_index.find(ledger);
  if (l == ledger_index.end()) return std::nullopt;
  return ledgers[l->second].ordinal;
}

std::string txn_name(std::uint64_t most, std::uint64_t least) {
  return std::to_string(most) + ":" + std::to_string(least);
}

StoredIdentity stored_identity(const std::string& producer_name, const std::string& payload,
                               std::uint64_t sequence_id, bool by_sequence_id) {
  if (by_sequence_id) return StoredIdentity{producer_name, sequence_id};
  const std::string_view name = std::string_view(producer_name).substr(0, producer_name.find('~'));
  std::uint64_t number = 0;
  if (payload.size() >= kPayloadNumberBytes) {
    for (std::size_t i = 0; i < kPayloadNumberBytes; ++i) {
      number |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(payload[i])) << (8 * i);
    }
  }
  return StoredIdentity{name, number};
}

namespace {

// What the metadata log ever said about topics' ledgers.
struct MetadataHistory {
  std::map<std::uint64_t, std::string> last_metadata;  // Ledger -> its last LedgerMetadata.
  std::set<std::uint64_t> removed;  // Ledgers whose metadata key was removed (deleted).
  // Topic (partition) -> ledger -> ordinal, as first listed.
  std::map<std::string, std::map<std::uint64_t, std::uint64_t>> listed;
};

// The topic of a "/topics/<topic>/ledgers" key (not a cursor named "ledgers", nor the
// transaction coordinator's log: listed like a topic's, it holds TxnLogRecords, no batches).
std::optional<std::string_view> topic_of_list_key(std::string_view key) {
  constexpr std::string_view prefix = "/topics/";
  constexpr std::string_view suffix = "/ledgers";
  if (key.size() <= prefix.size() + suffix.size() || !key.starts_with(prefix) ||
      !key.ends_with(suffix)) {
    return std::nullopt;
  }
  const std::string_view topic =
      key.substr(prefix.size(), key.size() - prefix.size() - suffix.size());
  if (topic.find("/cursors") != std::string_view::npos) return std::nullopt;
  if (topic == pulsar::kTxnCoordinator) return std::nullopt;
  return topic;
}

// Every intact put of the log, in order; damaged records are skipped as replay does.
MetadataHistory read_metadata_history(std::span<const std::uint8_t> bytes) {
  MetadataHistory out;
  const storage::FramedLog framed = storage::parse_framed(bytes);
  storage::MetaLogRecord record;
  pulsar::ManagedLedgerInfo info;
  for (const storage::FramedRecord& r : framed.records) {
    if (!record.ParseFromArray(r.body.data(), static_cast<int>(r.body.size()))) continue;
    if (record.has_removed()) {
      if (const auto ledger = storage::ledger_of_key(record.removed())) out.removed.insert(*ledger);
      continue;
    }
    if (!record.has_put()) continue;
    const storage::KeyPut& put = record.put();
    if (const auto ledger = storage::ledger_of_key(put.key())) {
      out.last_metadata[*ledger] = put.value();
      continue;
    }
    const auto topic = topic_of_list_key(put.key());
    if (!topic || !info.ParseFromString(put.value())) continue;
    auto& listed = out.listed[std::string(*topic)];
    for (const auto& l : info.ledgers()) listed.try_emplace(l.ledger_id(), l.ordinal());
  }
  return out;
}

// How ledgers are read into partition logs.
struct Reader {
  const MetadataHistory& history;
  const JournalsByBookie& journals;
  bool by_sequence_id = false;
  const LogNames& names;
  pulsar::EntryData batch;
};

std::uint32_t txn_of(const pulsar::TxnId& id, Reader& reader) {
  return reader.names.txns.intern(txn_name(id.most(), id.least()));
}

// A marker or a pending-ack record: no messages, and nothing a reader is given
// (REFERENCE.md "Pulsar transactions": consumers skip markers).
void read_control(const pulsar::EntryData& control, std::uint64_t ledger, std::int64_t entry,
                  Reader& reader, PartitionLog& log, QueueLog& out) {
  ++out.control_entries;
  if (!control.has_marker()) return;
  const pulsar::TxnMarker& marker = control.marker();
  log.markers.push_back(LogMarker{txn_of(marker.txn(), reader), marker.commit(),
                                  static_cast<std::uint32_t>(log.messages.size()), ledger, entry});
}

// Appends one readable entry's messages to the partition's log.
void read_batch(std::string_view payload, std::uint32_t partition, std::uint32_t ledger_index,
                std::uint64_t ledger, std::int64_t entry, Reader& reader, PartitionLog& log,
                QueueLog& out) {
  pulsar::EntryData& batch = reader.batch;
  if (!batch.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    out.bad_entries.push_back(BadEntry{partition, ledger, entry, "does not parse as a batch"});
    return;
  }
  const bool control = batch.has_marker() || batch.has_pending_ack();
  if (control && batch.messages_size() > 0) {
    out.bad_entries.push_back(
        BadEntry{partition, ledger, entry, "is a transaction's control entry holding messages"});
    return;
  }
  if (control) {
    read_control(batch, ledger, entry, reader, log, out);
    return;
  }
  if (batch.messages_size() == 0) {
    out.bad_entries.push_back(BadEntry{partition, ledger, entry, "holds an empty batch"});
    return;
  }
  const std::uint32_t txn = batch.has_txn() ? txn_of(batch.txn(), reader) : kNoIndex;
  for (int i = 0; i < batch.messages_size(); ++i) {
    const pulsar::SingleMessage& m = batch.messages(i);
    const StoredIdentity id = stored_identity(batch.producer_name(), m.payload(),
                                              m.sequence_id(), reader.by_sequence_id);
    const std::uint32_t message = reader.names.messages.intern(
        MessageKey{partition, reader.names.producers.intern(id.producer), id.seq});
    const auto at = static_cast<std::uint32_t>(log.messages.size());
    log.messages.push_back(LogMessage{message, ledger_index, entry, i, txn});
    if (std::optional<PipelineSource> source = decode_pipeline_source(m.payload())) {
      out.pipeline_outputs.push_back(PipelineOutput{partition, at, std::move(*source)});
    }
  }
  SL_ASSERT_MSG(log.messages.size() < kNoIndex, "queue checker: partition log too long");
}

void read_ledger_into(std::uint32_t partition, std::uint64_t ledger, std::uint64_t ordinal,
                      Reader& reader, QueueLog& out) {
  PartitionLog& log = out.partitions[partition];
  const auto index = static_cast<std::uint32_t>(log.ledgers.size());
  log.ledger_index[ledger] = index;
  LogLedger& lg = log.ledgers.emplace_back();
  lg.id = ledger;
  lg.ordinal = ordinal;
  lg.deleted = reader.history.removed.contains(ledger);
  lg.entry_first.push_back(static_cast<std::uint32_t>(log.messages.size()));
  const auto md = reader.history.last_metadata.find(ledger);
  storage::LedgerMetadata metadata;
  // A listed ledger without metadata has nothing a reader could read.
  if (md == reader.history.last_metadata.end() ||
      !storage::parse_ledger_metadata(md->second, &metadata)) {
    return;
  }
  const LedgerView view = read_ledger(ledger, metadata, reader.journals);
  for (const auto& [e, found] : view.entries) {
    if (found.copies > 0) {
      if (found.copies < metadata.write_quorum()) ++out.entries_below_write_quorum;
      if (found.copies < metadata.ack_quorum()) ++out.entries_below_ack_quorum;
      ++out.entries;
      read_batch(found.payload, partition, index, ledger, e, reader, log, out);
    }
    log.ledgers[index].entry_first.push_back(static_cast<std::uint32_t>(log.messages.size()));
  }
  log.ledgers[index].end = view.end;
}

}  // namespace

QueueLog read_queue_log(std::span<const std::uint8_t> metadata_log,
                        const std::map<std::string, storage::BookieFiles>& bookie_files,
                        bool by_sequence_id, const LogNames& names) {
  const MetadataHistory history = read_metadata_history(metadata_log);
  const JournalsByBookie parsed = parse_journals(bookie_files);
  Reader reader{history, parsed, by_sequence_id, names, {}};
  QueueLog out;
  for (const auto& [topic, listed] : history.listed) {
    const std::uint32_t partition = names.partitions.intern(topic);
    if (out.partitions.size() <= partition) out.partitions.resize(partition + 1);
    std::vector<std::pair<std::uint64_t, std::uint64_t>> order;  // (ordinal, ledger)
    for (const auto& [ledger, ordinal] : listed) order.emplace_back(ordinal, ledger);
    std::sort(order.begin(), order.end());
    for (const auto& [ordinal, ledger] : order) {
      read_ledger_into(partition, ledger, ordinal, reader, out);
    }
    out.messages += out.partitions[partition].messages.size();
  }
  return out;
}

}  // namespace streamlab::workloads
