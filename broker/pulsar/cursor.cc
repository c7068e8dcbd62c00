#include "broker/pulsar/cursor.h"

#include <utility>

#include "base/assert.h"

namespace streamlab::pulsar {

using storage::MetaResult;

ManagedCursor::ManagedCursor(Runtime& runtime, storage::MetadataClient& metadata,
                             storage::LedgerClient& ledgers, AddRouter& router,
                             ManagedLedger& log, const std::string& topic, std::string name,
                             const BrokerConfig& config)
    : rt_(runtime),
      metadata_(metadata),
      ledgers_(ledgers),
      router_(router),
      log_(log),
      name_(std::move(name)),
      key_("/topics/" + topic + "/cursors/" + name_),
      config_(config),
      timers_(runtime) {}

ManagedCursor::~ManagedCursor() {
  const auto it = router_.sinks.find(ledger_);
  if (it != router_.sinks.end() && it->second == this) router_.sinks.erase(it);
}

// ---- Loading -------------------------------------------------------------------------------

void ManagedCursor::open(Pos initial, SubscriptionType type,
                         std::function<void(LedgerError)> done) {
  type_ = type;
  metadata_.get(key_, false, life_.guard([this, initial, done](const MetaResult& r) {
    if (r.status == storage::NO_KEY) {
      mark_delete_ = initial;
      CursorInfo info;
      info.set_type(type_);
      *info.mutable_fallback() = snapshot();
      metadata_.create(key_, info.SerializeAsString(), false,
                       life_.guard([this, done](const MetaResult& c) {
                         if (c.status != storage::META_OK) {
                           done(LedgerError::metadata_error);
                           return;
                         }
                         info_version_ = c.version;
                         open_ = true;
                         done(LedgerError::ok);
                       }));
      return;
    }
    CursorInfo info;
    if (r.status != storage::META_OK || !info.ParseFromString(r.value)) {
      done(LedgerError::metadata_error);
      return;
    }
    info_version_ = r.version;
    type_ = info.type();
    load(info, done);
  }));
}

// The newest state is the last entry of the cursor's ledger, recovered like any ledger
// a crashed writer left open; without one, the fallback in the metadata.
void ManagedCursor::load(const CursorInfo& info, std::function<void(LedgerError)> done) {
  restore(info.fallback());
  if (info.cursor_ledger() == 0) {
    open_ = true;
    done(LedgerError::ok);
    return;
  }
  const std::uint64_t id = info.cursor_ledger();
  ledgers_.open(id, true, life_.guard([this, id, done](LedgerError e, std::int64_t last) {
    if (e == LedgerError::no_such_ledger || (e == LedgerError::ok && last < 0)) {
      open_ = true;
      done(LedgerError::ok);
      return;
    }
    if (e != LedgerError::ok) {
      done(e);
      return;
    }
    ledgers_.read(id, last, life_.guard([this, done](LedgerError re, std::string_view bytes) {
      CursorState state;
      if (re != LedgerError::ok || !state.ParseFromArray(bytes.data(),
                                                        static_cast<int>(bytes.size()))) {
        done(re == LedgerError::ok ? LedgerError::recovery_failed : re);
        return;
      }
      restore(state);
      open_ = true;
      done(LedgerError::ok);
    }));
  }));
}

void ManagedCursor::restore(const CursorState& state) {
  mark_delete_ = state.mark_delete();
  individually_acked_.clear();
  for (const AckRange& range : state.acked()) {
    for (Pos p = range.from(); p != 0 && p <= range.to(); p = log_.next(p)) {
      individually_acked_.insert(p);
    }
  }
  sequences_.clear();
  for (const auto& [producer, seq] : state.sequences()) sequences_[producer] = seq;
  advance();
}

// ---- Acknowledging -------------------------------------------------------------------------

void ManagedCursor::ack(Pos p) {
  SL_ASSERT(open_);
  if (acked(p)) return;
  individually_acked_.insert(p);
  advance();
  changed();
}

void ManagedCursor::ack_cumulative(Pos p) {
  SL_ASSERT(open_);
  if (p <= mark_delete_) return;
  mark_delete_ = p;
  individually_acked_.erase(individually_acked_.begin(), individually_acked_.upper_bound(p));
  advance();
  changed();
}

void ManagedCursor::set_sequences(const std::map<std::string, std::int64_t>& sequences) {
  sequences_ = sequences;
  changed();
}

// Mark-delete moves over every individually acknowledged entry that follows it.
void ManagedCursor::advance() {
  for (;;) {
    const Pos n = log_.next(mark_delete_);
    const auto it = individually_acked_.find(n);
    if (n == 0 || it == individually_acked_.end()) break;
    mark_delete_ = n;
    individually_acked_.erase(it);
  }
  individually_acked_.erase(individually_acked_.begin(),
                            individually_acked_.upper_bound(mark_delete_));
}

// ---- Persisting ----------------------------------------------------------------------------

CursorState ManagedCursor::snapshot() const {
  CursorState state;
  state.set_mark_delete(mark_delete_);
  AckRange* range = nullptr;
  Pos last = 0;
  for (const Pos p : individually_acked_) {
    if (range != nullptr && log_.next(last) == p) {
      range->set_to(p);
    } else {
      if (static_cast<std::uint32_t>(state.acked_size()) >= config_.max_unacked_ranges_to_persist) {
        break;  // Upstream's bound: the rest lives in memory only.
      }
      range = state.add_acked();
      range->set_from(p);
      range->set_to(p);
    }
    last = p;
  }
  for (const auto& [producer, seq] : sequences_) (*state.mutable_sequences())[producer] = seq;
  return state;
}

void ManagedCursor::changed() {
  dirty_ = true;
  if (persist_armed_ || writing_ || failed_) return;
  persist_armed_ = true;
  timers_.after(config_.cursor_persist_delay_ns, [this] {
    persist_armed_ = false;
    persist();
  });
}

void ManagedCursor::persist() {
  if (!dirty_ || writing_ || failed_) return;
  if (ledger_ == 0 || ledger_entries_ >= config_.cursor_ledger_max_entries) {
    switch_ledger();
    return;
  }
  dirty_ = false;
  writing_ = true;
  ++ledger_entries_;
  ledgers_.append(ledger_, snapshot().SerializeAsString(), next_token_++);
}

void ManagedCursor::on_add(const storage::AddResult& result) {
  if (result.ledger_id != ledger_) return;  // A write to a ledger we since left.
  writing_ = false;
  if (result.error != LedgerError::ok) {
    dirty_ = true;
    ledger_ = 0;  // The next write starts a new ledger.
  }
  if (dirty_) changed();
}

// A new ledger, named in the metadata by compare-and-set; then the old one goes.
void ManagedCursor::switch_ledger() {
  writing_ = true;
  ledgers_.create(config_.ledger_options,
                  life_.guard([this](LedgerError e, std::uint64_t id) {
                    if (e != LedgerError::ok) {
                      // No bookies for a ledger: keep the state in the metadata instead.
                      write_fallback();
                      return;
                    }
                    write_info(id, [this, id](bool ok) {
                      writing_ = false;
                      if (!ok) return;
                      const std::uint64_t old = ledger_;
                      const auto it = router_.sinks.find(old);
                      if (it != router_.sinks.end() && it->second == this) router_.sinks.erase(it);
                      if (old != 0) ledgers_.remove(old, [](LedgerError) {});
                      ledger_ = id;
                      ledger_entries_ = 0;
                      router_.sinks[id] = this;
                      persist();
                    });
                  }));
}

void ManagedCursor::write_info(std::uint64_t ledger_id, std::function<void(bool)> done) {
  CursorInfo info;
  info.set_cursor_ledger(ledger_id);
  info.set_type(type_);
  *info.mutable_fallback() = snapshot();
  metadata_.set(key_, info.SerializeAsString(), info_version_,
                life_.guard([this, done](const MetaResult& r) {
                  if (r.status == storage::META_OK) {
                    info_version_ = r.version;
                    done(true);
                    return;
                  }
                  // Another broker owns the topic now (BAD_VERSION), or the reply was
                  // lost: stop writing; the topic reloads from storage if it is still ours.
                  failed_ = true;
                  done(false);
                }));
}

void ManagedCursor::write_fallback() {
  CursorInfo info;
  info.set_cursor_ledger(0);
  info.set_type(type_);
  *info.mutable_fallback() = snapshot();
  dirty_ = false;
  metadata_.set(key_, info.SerializeAsString(), info_version_,
                life_.guard([this](const MetaResult& r) {
                  writing_ = false;
                  if (r.status != storage::META_OK) {
                    failed_ = true;
                    return;
                  }
                  info_version_ = r.version;
                  ledger_ = 0;
                  if (dirty_) changed();
                }));
}

}  // namespace streamlab::pulsar
