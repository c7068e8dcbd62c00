#pragma once

// A topic's log (REFERENCE.md "Managed ledger"): an ordered list of ledgers kept under
// /topics/<topic>/ledgers. Only the owner writes, and only to the last ledger. Opening
// recovers the previous owner's last ledger (fencing that owner off, REFERENCE.md
// "BookKeeper") and starts a new one, published by compare-and-set on the list. The
// current ledger rolls over at max_entries_per_ledger, max_ledger_bytes or max_ledger_age;
// ledgers every cursor has passed are deleted once retention (time or size) allows.
//
// Failure is terminal: an append the storage refuses (fenced: another broker took the
// topic; or any other error) fails the managed ledger, and everything queued with it.
// The topic then closes and a later load starts afresh from storage, which is what makes
// the deduplication state (rebuilt from storage) trustworthy again.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/lifeline.h"
#include "broker/pulsar/broker_config.h"
#include "broker/pulsar/position.h"
#include "broker/pulsar/pulsar.pb.h"
#include "broker/storage/ledger_client.h"
#include "broker/storage/metadata_client.h"
#include "runtime/owned_timers.h"

namespace streamlab::pulsar {

using storage::LedgerError;

// Ledger appends are routed by ledger id to whoever wrote them (the broker owns the one
// LedgerClient, and its single completion callback).
class AddSink {
 public:
  virtual ~AddSink() = default;
  virtual void on_add(const storage::AddResult& result) = 0;
};

struct AddRouter {
  std::map<std::uint64_t, AddSink*> sinks;
};

using ReadDone = std::function<void(LedgerError, std::string_view entry)>;

class ManagedLedger final : public AddSink {
 public:
  enum class State : std::uint8_t { idle, opening, ready, rolling, failed };

  // on_append(token, error, position) for every append(), in append order.
  ManagedLedger(Runtime& runtime, storage::MetadataClient& metadata,
                storage::LedgerClient& ledgers, AddRouter& router, std::string topic,
                const BrokerConfig& config,
                std::function<void(std::uint64_t, LedgerError, Pos)> on_append);
  ~ManagedLedger() override;
  ManagedLedger(const ManagedLedger&) = delete;
  ManagedLedger& operator=(const ManagedLedger&) = delete;

  // Recovers the list and the last ledger, then starts a new ledger; done(ok).
  void open(std::function<void(LedgerError)> done);
  void append(std::string entry, std::uint64_t token);

  State state() const { return state_; }
  LedgerError failure() const { return failure_; }
  std::size_t in_flight() const { return in_flight_ + queued_.size(); }

  // Positions. 0 is "before everything"; next() returns 0 past the end.
  Pos last_confirmed() const { return last_confirmed_; }
  Pos first() const;
  Pos next(Pos p) const;
  // The position of a ledger's entry, 0 if the ledger is not this topic's.
  Pos pos_of(std::uint64_t ledger_id, std::int64_t entry) const;
  std::uint64_t ledger_id(Pos p) const;
  // Entries between two positions (a, b], for backlog reports.
  std::uint64_t count_between(Pos a, Pos b) const;

  void read(Pos p, ReadDone done);
  // Deletes the oldest ledgers that lie wholly at or before `slowest` (every cursor
  // passed them) while each is past the retention time or the topic is over the
  // retention size without it.
  void trim(Pos slowest);

  void on_add(const storage::AddResult& result) override;

 private:
  struct Ledger {
    std::uint64_t id = 0;
    std::int64_t entries = -1;  // -1: the open one we write.
    std::uint64_t size = 0;     // Bytes; known once closed.
    Nanos closed_at = 0;
  };
  using LedgerList = std::map<std::uint64_t, Ledger>;  // By ordinal.

  void read_info(std::function<void(LedgerError)> done);
  void recover_last(std::function<void(LedgerError)> done);
  void start_ledger(std::function<void(LedgerError)> done);
  void publish(std::function<void(LedgerError)> done, std::uint64_t created);
  void reconcile_publish(std::function<void(LedgerError)> done, std::string wanted);
  void roll();
  void fail(LedgerError error);
  void flush_queue();
  static std::string info_bytes(const LedgerList& ledgers);
  std::uint64_t estimated_size(std::int64_t entries) const;
  void cache_put(Pos p, const std::string& entry);

  Runtime& rt_;
  storage::MetadataClient& metadata_;
  storage::LedgerClient& ledgers_;
  AddRouter& router_;
  std::string topic_;
  std::string info_key_;
  const BrokerConfig& config_;
  std::function<void(std::uint64_t, LedgerError, Pos)> on_append_;
  State state_ = State::idle;
  LedgerError failure_ = LedgerError::ok;
  LedgerList ledgers_by_ordinal_;
  std::map<std::uint64_t, std::uint64_t> ordinal_by_id_;
  std::int64_t info_version_ = -1;
  bool trimming_ = false;
  std::uint64_t current_ordinal_ = 0;
  Nanos current_created_ = 0;
  std::int64_t next_entry_ = 0;
  std::uint64_t current_bytes_ = 0;  // Appended to the current ledger.
  Pos last_confirmed_ = 0;
  std::size_t in_flight_ = 0;
  // Appends waiting for a ledger (while opening or rolling), with their tokens.
  std::deque<std::pair<std::string, std::uint64_t>> queued_;
  // Entries this broker wrote, by position, so tailing reads skip the bookies.
  std::map<Pos, std::string> cache_;
  std::map<std::uint64_t, std::string> in_flight_entries_;  // token -> entry, for the cache.
  std::size_t cache_bytes_ = 0;
  OwnedTimers timers_;
  Lifeline life_;
};

}  // namespace streamlab::pulsar
