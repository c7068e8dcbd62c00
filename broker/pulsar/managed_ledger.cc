#include "broker/pulsar/managed_ledger.h"

#include <algorithm>
#include <utility>

#include "base/assert.h"

namespace streamlab::pulsar {

using storage::MetaResult;

ManagedLedger::ManagedLedger(Runtime& runtime, storage::MetadataClient& metadata,
                             storage::LedgerClient& ledgers, AddRouter& router, std::string topic,
                             const BrokerConfig& config,
                             std::function<void(std::uint64_t, LedgerError, Pos)> on_append)
    : rt_(runtime),
      metadata_(metadata),
      ledgers_(ledgers),
      router_(router),
      topic_(std::move(topic)),
      info_key_("/topics/" + topic_ + "/ledgers"),
      config_(config),
      on_append_(std::move(on_append)),
      timers_(runtime) {}

ManagedLedger::~ManagedLedger() {
  for (const auto& [ordinal, l] : ledgers_by_ordinal_) {
    const auto it = router_.sinks.find(l.id);
    if (it != router_.sinks.end() && it->second == this) router_.sinks.erase(it);
  }
}

// ---- Opening -------------------------------------------------------------------------------

void ManagedLedger::open(std::function<void(LedgerError)> done) {
  SL_ASSERT_EQ(state_, State::idle);
  state_ = State::opening;
  read_info(std::move(done));
}

void ManagedLedger::read_info(std::function<void(LedgerError)> done) {
  metadata_.get(info_key_, false, life_.guard([this, done](const MetaResult& r) {
    if (state_ != State::opening) return;
    if (r.status == storage::NO_KEY) {
      info_version_ = -1;
      start_ledger(done);
      return;
    }
    ManagedLedgerInfo info;
    if (r.status != storage::META_OK || !info.ParseFromString(r.value)) {
      fail(LedgerError::metadata_error);
      done(LedgerError::metadata_error);
      return;
    }
    info_version_ = r.version;
    for (const auto& l : info.ledgers()) {
      ledgers_by_ordinal_[l.ordinal()] = Ledger{l.ledger_id(), l.entries(), l.size(), l.closed_at_ns()};
      ordinal_by_id_[l.ledger_id()] = l.ordinal();
    }
    recover_last(done);
  }));
}

// The last ledger may still be open, its writer gone or a zombie: recovery fences it and
// fixes its end (REFERENCE.md "BookKeeper", fencing and recovery).
void ManagedLedger::recover_last(std::function<void(LedgerError)> done) {
  if (ledgers_by_ordinal_.empty() || ledgers_by_ordinal_.rbegin()->second.entries >= 0) {
    start_ledger(done);
    return;
  }
  const std::uint64_t ordinal = ledgers_by_ordinal_.rbegin()->first;
  const std::uint64_t id = ledgers_by_ordinal_.rbegin()->second.id;
  ledgers_.open(id, true, life_.guard([this, done, ordinal](LedgerError e, std::int64_t last) {
    if (state_ != State::opening) return;
    if (e != LedgerError::ok) {
      fail(e);
      done(e);
      return;
    }
    // The ledger's metadata holds no length (BookKeeper's entries carry it; ours do not):
    // the closed ledgers' mean entry size stands in. Its retention starts now, as Pulsar's.
    Ledger& l = ledgers_by_ordinal_[ordinal];
    l.entries = last + 1;
    l.size = estimated_size(l.entries);
    l.closed_at = rt_.now();
    rt_.note(topic_ + ": recovered the previous owner's ledger " +
             std::to_string(ledgers_by_ordinal_[ordinal].id) + ", closed at entry " +
             std::to_string(last));
    start_ledger(done);
  }));
}

void ManagedLedger::start_ledger(std::function<void(LedgerError)> done) {
  // Everything the list holds is confirmed: closed ledgers, and the recovered last one.
  for (const auto& [ordinal, l] : ledgers_by_ordinal_) {
    if (l.entries > 0) last_confirmed_ = std::max(last_confirmed_, make_pos(ordinal, l.entries - 1));
  }
  ledgers_.create(config_.ledger_options, life_.guard([this, done](LedgerError e, std::uint64_t id) {
    if (state_ != State::opening && state_ != State::rolling) return;
    if (e != LedgerError::ok) {
      fail(e);
      done(e);
      return;
    }
    publish(done, id);
  }));
}

std::string ManagedLedger::info_bytes(const LedgerList& ledgers) {
  ManagedLedgerInfo info;
  for (const auto& [ordinal, l] : ledgers) {
    auto* out = info.add_ledgers();
    out->set_ledger_id(l.id);
    out->set_entries(l.entries);
    out->set_ordinal(ordinal);
    out->set_size(l.size);
    out->set_closed_at_ns(l.closed_at);
  }
  return info.SerializeAsString();
}

std::uint64_t ManagedLedger::estimated_size(std::int64_t entries) const {
  std::uint64_t bytes = 0;
  std::uint64_t counted = 0;
  for (const auto& [ordinal, l] : ledgers_by_ordinal_) {
    if (l.entries <= 0 || l.size == 0) continue;
    bytes += l.size;
    counted += static_cast<std::uint64_t>(l.entries);
  }
  return counted == 0 ? 0 : bytes / counted * static_cast<std::uint64_t>(entries);
}

// The new ledger joins the list by compare-and-set on the version this owner read: an
// owner that lost the topic finds the version moved and fails, never burying another
// owner's ledger under its own.
void ManagedLedger::publish(std::function<void(LedgerError)> done, std::uint64_t created) {
  if (trimming_) {
    // One change of the list at a time: the trim's new version is needed first.
    timers_.after(config_.retry_ns, [this, done, created] {
      if (state_ == State::opening || state_ == State::rolling) publish(done, created);
    });
    return;
  }
  const std::uint64_t ordinal =
      ledgers_by_ordinal_.empty() ? 1 : ledgers_by_ordinal_.rbegin()->first + 1;
  ledgers_by_ordinal_[ordinal] = Ledger{created, -1, 0, 0};
  ordinal_by_id_[created] = ordinal;
  current_ordinal_ = ordinal;
  current_created_ = rt_.now();
  next_entry_ = 0;
  current_bytes_ = 0;
  router_.sinks[created] = this;
  const std::string value = info_bytes(ledgers_by_ordinal_);
  auto finish = life_.guard([this, done, value](const MetaResult& r) {
    if (state_ != State::opening && state_ != State::rolling) return;
    if (r.status == storage::META_OK) {
      info_version_ = r.version;
      state_ = State::ready;
      rt_.note(topic_ + ": writes to ledger " +
               std::to_string(ledgers_by_ordinal_[current_ordinal_].id) + " (ordinal " +
               std::to_string(current_ordinal_) + ")");
      done(LedgerError::ok);
      flush_queue();
    } else if (r.status == storage::CONNECTION_LOSS) {
      reconcile_publish(done, value);
    } else {
      fail(LedgerError::fenced);
      done(LedgerError::fenced);
    }
  });
  if (info_version_ < 0) {
    metadata_.create(info_key_, value, false, finish);
  } else {
    metadata_.set(info_key_, value, info_version_, finish);
  }
}

// The reply was lost: the list tells whether the change landed.
void ManagedLedger::reconcile_publish(std::function<void(LedgerError)> done, std::string wanted) {
  metadata_.get(info_key_, false, life_.guard([this, done, wanted](const MetaResult& r) {
    if (state_ != State::opening && state_ != State::rolling) return;
    if (r.status == storage::CONNECTION_LOSS) {
      timers_.after(config_.retry_ns, [this, done, wanted] { reconcile_publish(done, wanted); });
      return;
    }
    if (r.status == storage::META_OK && r.value == wanted) {
      info_version_ = r.version;
      state_ = State::ready;
      done(LedgerError::ok);
      flush_queue();
      return;
    }
    fail(LedgerError::fenced);
    done(LedgerError::fenced);
  }));
}

// ---- Appending -----------------------------------------------------------------------------

void ManagedLedger::append(std::string entry, std::uint64_t token) {
  if (state_ == State::failed) {
    const LedgerError error = failure_;
    timers_.after(0, [this, token, error] { on_append_(token, error, 0); });
    return;
  }
  if (state_ != State::ready) {
    queued_.emplace_back(std::move(entry), token);
    return;
  }
  const std::uint64_t id = ledgers_by_ordinal_[current_ordinal_].id;
  ledgers_.append(id, entry, token);
  current_bytes_ += entry.size();
  in_flight_entries_.emplace(token, std::move(entry));
  ++in_flight_;
  ++next_entry_;
  if (static_cast<std::uint64_t>(next_entry_) >= config_.max_entries_per_ledger ||
      current_bytes_ >= config_.max_ledger_bytes ||
      rt_.now() - current_created_ >= config_.max_ledger_age_ns) {
    roll();
  }
}

void ManagedLedger::flush_queue() {
  while (!queued_.empty() && state_ == State::ready) {
    auto [entry, token] = std::move(queued_.front());
    queued_.pop_front();
    append(std::move(entry), token);
  }
}

void ManagedLedger::on_add(const storage::AddResult& result) {
  const auto entry = in_flight_entries_.find(result.token);
  if (entry == in_flight_entries_.end()) return;  // Failed already; the error was reported.
  std::string data = std::move(entry->second);
  in_flight_entries_.erase(entry);
  SL_ASSERT_GT(in_flight_, 0);
  --in_flight_;
  if (result.error != LedgerError::ok) {
    // The write may or may not have reached bookies; the topic must close and reload
    // from storage (REFERENCE.md: on a write error, fence the topic).
    fail(result.error);
    on_append_(result.token, result.error, 0);
    return;
  }
  const auto ordinal = ordinal_by_id_.find(result.ledger_id);
  SL_ASSERT_MSG(ordinal != ordinal_by_id_.end(), "managed ledger: an add to an unknown ledger");
  const Pos p = make_pos(ordinal->second, result.entry_id);
  SL_ASSERT_MSG(p > last_confirmed_, "managed ledger: appends acknowledged out of order");
  last_confirmed_ = p;
  cache_put(p, data);
  on_append_(result.token, LedgerError::ok, p);
}

void ManagedLedger::fail(LedgerError error) {
  if (state_ == State::failed) return;
  state_ = State::failed;
  rt_.note(topic_ + ": managed ledger failed (" + storage::to_string(error) + ")");
  failure_ = error;
  // Queued appends never reached storage, but the topic reports them with the rest.
  std::deque<std::pair<std::string, std::uint64_t>> queued = std::move(queued_);
  queued_.clear();
  for (auto& [entry, token] : queued) {
    timers_.after(0, [this, token = token, error] { on_append_(token, error, 0); });
  }
  // Adds still in flight complete through on_add (with errors, or ok: the client may
  // have acknowledged them to bookies already).
}

// Close the full ledger (after its pending adds) and start the next; appends queue
// meanwhile.
void ManagedLedger::roll() {
  SL_ASSERT_EQ(state_, State::ready);
  state_ = State::rolling;
  const std::uint64_t ordinal = current_ordinal_;
  const std::uint64_t id = ledgers_by_ordinal_[ordinal].id;
  ledgers_.close(id, life_.guard([this, ordinal](LedgerError e) {
    if (state_ != State::rolling) return;
    if (e != LedgerError::ok) {
      fail(e);
      return;
    }
    Ledger& l = ledgers_by_ordinal_[ordinal];
    l.entries = ordinal_of(last_confirmed_) == ordinal ? entry_of(last_confirmed_) + 1 : 0;
    // Every add was answered before the close, and any failure failed the managed ledger.
    l.size = current_bytes_;
    l.closed_at = rt_.now();
    start_ledger([](LedgerError) {});
  }));
}

// ---- Positions and reads -------------------------------------------------------------------

Pos ManagedLedger::first() const {
  for (const auto& [ordinal, l] : ledgers_by_ordinal_) {
    if (l.entries != 0 && (l.entries > 0 || ordinal_of(last_confirmed_) == ordinal)) {
      return make_pos(ordinal, 0);
    }
  }
  return 0;
}

Pos ManagedLedger::next(Pos p) const {
  if (p >= last_confirmed_) return 0;
  auto it = ledgers_by_ordinal_.lower_bound(ordinal_of(p));
  if (it != ledgers_by_ordinal_.end() && it->first == ordinal_of(p)) {
    const std::int64_t entries = it->second.entries;
    if (entries < 0 || entry_of(p) + 1 < entries) return p + 1;
    ++it;
  }
  for (; it != ledgers_by_ordinal_.end(); ++it) {
    if (it->second.entries != 0) return make_pos(it->first, 0);
  }
  return 0;
}

Pos ManagedLedger::pos_of(std::uint64_t ledger_id, std::int64_t entry) const {
  const auto it = ordinal_by_id_.find(ledger_id);
  if (it == ordinal_by_id_.end() || entry < 0) return 0;
  return make_pos(it->second, entry);
}

std::uint64_t ManagedLedger::ledger_id(Pos p) const {
  const auto it = ledgers_by_ordinal_.find(ordinal_of(p));
  SL_ASSERT_MSG(it != ledgers_by_ordinal_.end(), "managed ledger: a position in no ledger");
  return it->second.id;
}

std::uint64_t ManagedLedger::count_between(Pos a, Pos b) const {
  if (b <= a) return 0;
  std::uint64_t n = 0;
  for (const auto& [ordinal, l] : ledgers_by_ordinal_) {
    const std::int64_t entries =
        l.entries >= 0 ? l.entries
                       : (ordinal_of(last_confirmed_) == ordinal ? entry_of(last_confirmed_) + 1 : 0);
    if (entries == 0) continue;
    const Pos lo = std::max(a + 1, make_pos(ordinal, 0));
    const Pos hi = std::min(b, make_pos(ordinal, entries - 1));
    if (hi >= lo) n += hi - lo + 1;
  }
  return n;
}

void ManagedLedger::cache_put(Pos p, const std::string& entry) {
  cache_bytes_ += entry.size();
  cache_.emplace(p, entry);
  while (cache_bytes_ > config_.entry_cache_bytes && !cache_.empty()) {
    cache_bytes_ -= cache_.begin()->second.size();
    cache_.erase(cache_.begin());
  }
}

void ManagedLedger::read(Pos p, ReadDone done) {
  const auto cached = cache_.find(p);
  if (cached != cache_.end()) {
    // A copy keeps the callback safe from eviction meanwhile.
    timers_.after(0, [done = std::move(done), entry = cached->second] {
      done(LedgerError::ok, entry);
    });
    return;
  }
  const auto l = ledgers_by_ordinal_.find(ordinal_of(p));
  if (l == ledgers_by_ordinal_.end() || p > last_confirmed_) {
    timers_.after(0, [done = std::move(done)] { done(LedgerError::no_such_entry, {}); });
    return;
  }
  ledgers_.read(l->second.id, entry_of(p), std::move(done));
}

void ManagedLedger::trim(Pos slowest) {
  if (state_ != State::ready || trimming_) return;
  std::uint64_t total = current_bytes_;
  for (const auto& [ordinal, l] : ledgers_by_ordinal_) total += l.size;
  std::uint64_t to_delete = 0;
  std::vector<std::uint64_t> doomed;
  for (const auto& [ordinal, l] : ledgers_by_ordinal_) {
    if (ordinal == current_ordinal_ || l.entries < 0) break;
    const bool consumed = l.entries == 0 || make_pos(ordinal, l.entries - 1) <= slowest;
    const bool expired =
        config_.retention_ns >= 0 && rt_.now() - l.closed_at >= config_.retention_ns;
    const bool over_quota = config_.retention_bytes >= 0 &&
                            total - to_delete > static_cast<std::uint64_t>(config_.retention_bytes);
    if (!consumed || !(expired || over_quota)) break;
    doomed.push_back(ordinal);
    to_delete += l.size;
  }
  if (doomed.empty()) return;
  // Drop from the list first (by compare-and-set), then delete: a crash in between
  // leaves an orphan ledger, never a listed ledger that is gone.
  LedgerList kept = ledgers_by_ordinal_;
  for (const std::uint64_t o : doomed) kept.erase(o);
  trimming_ = true;
  metadata_.set(info_key_, info_bytes(kept), info_version_,
                life_.guard([this, doomed](const MetaResult& r) {
                  trimming_ = false;
                  if (state_ == State::failed) return;
                  if (r.status != storage::META_OK) {
                    // Lost reply or lost topic: a later append or reload sorts it out.
                    if (r.status != storage::CONNECTION_LOSS) fail(LedgerError::fenced);
                    return;
                  }
                  info_version_ = r.version;
                  for (const std::uint64_t o : doomed) {
                    const std::uint64_t id = ledgers_by_ordinal_[o].id;
                    ledgers_by_ordinal_.erase(o);
                    ordinal_by_id_.erase(id);
                    ledgers_.remove(id, [](LedgerError) {});
                  }
                  while (!cache_.empty() && ordinal_of(cache_.begin()->first) <= doomed.back()) {
                    cache_bytes_ -= cache_.begin()->second.size();
                    cache_.erase(cache_.begin());
                  }
                }));
}

}  // namespace streamlab::pulsar
