#pragma once

// A durable cursor (REFERENCE.md "Cursor"): a subscription's place in its topic, as a
// mark-delete position (everything at or before it is acknowledged) plus the entries
// acknowledged individually beyond it. The state is written, a little after it changes,
// as an entry of the cursor's own ledger; /topics/<topic>/cursors/<name> names that
// ledger. Only the first max_unacked_ranges_to_persist ranges of individual acks are
// written: beyond them, holes live only in memory, and a crash redelivers messages that
// were acknowledged, as upstream documents.

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "base/lifeline.h"
#include "broker/pulsar/managed_ledger.h"
#include "runtime/owned_timers.h"

namespace streamlab::pulsar {

class ManagedCursor final : public AddSink {
 public:
  ManagedCursor(Runtime& runtime, storage::MetadataClient& metadata,
                storage::LedgerClient& ledgers, AddRouter& router, ManagedLedger& log,
                const std::string& topic, std::string name, const BrokerConfig& config);
  ~ManagedCursor() override;
  ManagedCursor(const ManagedCursor&) = delete;
  ManagedCursor& operator=(const ManagedCursor&) = delete;

  // Loads the persisted state; a new cursor starts with mark-delete `initial` and is
  // recorded at once, so the subscription survives a failover.
  void open(Pos initial, SubscriptionType type, std::function<void(LedgerError)> done);

  const std::string& name() const { return name_; }
  SubscriptionType type() const { return type_; }
  Pos mark_delete() const { return mark_delete_; }
  bool acked(Pos p) const { return p <= mark_delete_ || individually_acked_.count(p) != 0; }
  std::size_t holes() const { return individually_acked_.size(); }

  void ack(Pos p);
  void ack_cumulative(Pos p);
  // The deduplication snapshot (REFERENCE.md "Deduplication"): written with the state.
  void set_sequences(const std::map<std::string, std::int64_t>& sequences);
  const std::map<std::string, std::int64_t>& sequences() const { return sequences_; }

  void on_add(const storage::AddResult& result) override;

 private:
  void load(const CursorInfo& info, std::function<void(LedgerError)> done);
  void restore(const CursorState& state);
  void changed();
  void persist();
  void switch_ledger();
  void write_info(std::uint64_t ledger_id, std::function<void(bool)> done);
  void write_fallback();
  CursorState snapshot() const;
  void advance();

  Runtime& rt_;
  storage::MetadataClient& metadata_;
  storage::LedgerClient& ledgers_;
  AddRouter& router_;
  ManagedLedger& log_;
  std::string name_;
  std::string key_;
  const BrokerConfig& config_;
  SubscriptionType type_ = EXCLUSIVE;
  Pos mark_delete_ = 0;
  std::set<Pos> individually_acked_;
  std::map<std::string, std::int64_t> sequences_;
  bool open_ = false;
  bool failed_ = false;
  std::int64_t info_version_ = -1;
  std::uint64_t ledger_ = 0;  // 0: none yet; the next write starts one.
  std::uint32_t ledger_entries_ = 0;
  bool writing_ = false;
  bool dirty_ = false;
  bool persist_armed_ = false;
  std::uint64_t next_token_ = 1;
  OwnedTimers timers_;
  Lifeline life_;
};

}  // namespace streamlab::pulsar
