#include "broker/pulsar/txn_coordinator.h"

#include <algorithm>
#include <utility>

#include "base/assert.h"

namespace streamlab::pulsar {

namespace {

bool ending(TxnLogRecord::State s) {
  return s == TxnLogRecord::COMMITTING || s == TxnLogRecord::ABORTING;
}

const char* state_name(TxnLogRecord::State s) { return TxnLogRecord::State_Name(s).c_str(); }

}  // namespace

TxnCoordinator::TxnCoordinator(BrokerServices& services, MarkerSender markers,
                               std::function<void(bool)> on_closed)
    : services_(services),
      markers_(std::move(markers)),
      on_closed_(std::move(on_closed)),
      log_(services.rt, services.metadata, services.ledgers, services.router, kTxnCoordinator,
           services.config,
           [this](std::uint64_t token, LedgerError e, Pos) { appended(token, e); }),
      replay_(log_),
      waiters_(services.rt),
      timers_(services.rt) {}

std::size_t TxnCoordinator::open_transactions() const {
  return static_cast<std::size_t>(std::count_if(txns_.begin(), txns_.end(), [](const auto& t) {
    return t.second.state == TxnLogRecord::OPEN;
  }));
}

void TxnCoordinator::when_ready(std::function<void(ServerError)> fn) {
  waiters_.add(state_ == State::loading, state_ == State::ready ? NO_ERROR : NOT_COORDINATOR,
               std::move(fn));
}

// ---- Loading: replaying the transaction log ------------------------------------------------

void TxnCoordinator::load() {
  log_.open(life_.guard([this](LedgerError e) {
    if (state_ != State::loading) return;
    if (e != LedgerError::ok) {
      fenced_ = e == LedgerError::fenced;
      close(fenced_);
      return;
    }
    replay_.start(
        0, [this](Pos, std::string_view bytes) { replayed(bytes); },
        life_.guard([this](LedgerError r) {
          if (state_ != State::loading) return;
          if (r != LedgerError::ok) {
            close(r == LedgerError::fenced);
            return;
          }
          resume();
        }));
  }));
}

// The last record of a transaction is its state.
void TxnCoordinator::replayed(std::string_view bytes) {
  TxnLogRecord record;
  if (!record.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return;
  if (record.state() == TxnLogRecord::OWNER_EPOCH) {
    std::uint64_t& epoch = epochs_[record.owner()];
    epoch = std::max(epoch, record.epoch());
    return;
  }
  const TxnKey key = txn_key(record.txn());
  Txn& txn = txns_[key];
  txn.state = record.state();
  txn.owner = record.owner();
  txn.epoch = record.epoch();
  txn.timeout_at_ns = record.timeout_at_ns();
  txn.topics = {record.topics().begin(), record.topics().end()};
  next_least_ = std::max(next_least_, key.least + 1);
}

// What the previous coordinator left: ends it had begun are finished, open transactions
// time out as they would have.
void TxnCoordinator::resume() {
  state_ = State::ready;
  std::size_t finishing = 0;
  for (auto& [key, txn] : txns_) {
    if (ending(txn.state)) {
      ++finishing;
      txn.markers_left = txn.topics;
      if (txn.markers_left.empty()) {
        finish(key);
      } else {
        for (const std::string& topic : txn.topics) send_marker(key, topic);
      }
    } else if (txn.state == TxnLogRecord::OPEN) {
      arm_timeout(key);
    }
  }
  services_.rt.note(std::string("txn coordinator: loaded, ") +
                    std::to_string(open_transactions()) + " open, " +
                    std::to_string(finishing) + " ending");
  waiters_.finish(NO_ERROR);
}

// ---- Requests ------------------------------------------------------------------------------

void TxnCoordinator::handle(NodeId from, const PulsarMessage& message) {
  if (state_ != State::ready) {
    reply(from, coordinator_request_id(message), NOT_COORDINATOR);
    return;
  }
  switch (message.body_case()) {
    case PulsarMessage::kTxnInitOwner:
      init_owner(from, message.txn_init_owner());
      return;
    case PulsarMessage::kTxnNew:
      new_txn(from, message.txn_new());
      return;
    case PulsarMessage::kTxnAddPart:
      add_part(from, message.txn_add_part());
      return;
    case PulsarMessage::kTxnEnd:
      end(from, message.txn_end());
      return;
    default:
      SL_ASSERT_MSG(false, "txn coordinator: not a coordinator request");
  }
}

bool TxnCoordinator::stale(const std::string& owner, std::uint64_t epoch) const {
  if (!services_.config.txn_zombie_fencing || owner.empty()) return false;
  const auto it = epochs_.find(owner);
  return it != epochs_.end() && epoch < it->second;
}

void TxnCoordinator::init_owner(NodeId from, const TxnInitOwner& request) {
  const std::uint64_t request_id = request.request_id();
  if (request.owner().empty()) {
    reply(from, request_id, MALFORMED_REQUEST);
    return;
  }
  if (!services_.config.txn_zombie_fencing) {
    reply(from, request_id, NO_ERROR, {}, 0);
    return;
  }
  const std::uint64_t epoch = ++epochs_[request.owner()];
  services_.rt.note("txn coordinator: " + request.owner() + " takes epoch " +
                    std::to_string(epoch));
  // The earlier instances' open transactions go: they are zombies' now.
  for (auto& [key, txn] : txns_) {
    if (txn.owner == request.owner() && txn.epoch < epoch && txn.state == TxnLogRecord::OPEN) {
      begin_end(key, false);
    }
  }
  TxnLogRecord record;
  record.set_state(TxnLogRecord::OWNER_EPOCH);
  record.set_owner(request.owner());
  record.set_epoch(epoch);
  append(record, [this, from, request_id, epoch] { reply(from, request_id, NO_ERROR, {}, epoch); });
}

void TxnCoordinator::new_txn(NodeId from, const TxnNew& request) {
  if (stale(request.owner(), request.epoch())) {
    reply(from, request.request_id(), TXN_FENCED);
    return;
  }
  if (request.timeout_ns() <= 0) {
    reply(from, request.request_id(), MALFORMED_REQUEST);
    return;
  }
  const TxnKey key{0, next_least_++};
  Txn& txn = txns_[key];
  txn.owner = request.owner();
  txn.epoch = request.epoch();
  txn.timeout_at_ns =
      services_.rt.now() + std::min(request.timeout_ns(), services_.config.txn_max_timeout_ns);
  const std::uint64_t request_id = request.request_id();
  append(record_of(key, txn), [this, from, request_id, key] {
    reply(from, request_id, NO_ERROR, key);
    arm_timeout(key);
  });
}

void TxnCoordinator::add_part(NodeId from, const TxnAddPart& request) {
  const TxnKey key = txn_key(request.txn());
  const auto it = txns_.find(key);
  const std::uint64_t request_id = request.request_id();
  if (it == txns_.end() || it->second.state != TxnLogRecord::OPEN) {
    reply(from, request_id, TXN_NOT_OPEN);
    return;
  }
  if (stale(it->second.owner, request.epoch())) {
    reply(from, request_id, TXN_FENCED);
    return;
  }
  if (request.topic().empty()) {
    reply(from, request_id, MALFORMED_REQUEST);
    return;
  }
  Txn& txn = it->second;
  const auto unlogged = txn.unlogged.find(request.topic());
  if (unlogged != txn.unlogged.end()) {
    unlogged->second.emplace_back(from, request_id);
    return;
  }
  if (!txn.topics.insert(request.topic()).second) {
    reply(from, request_id, NO_ERROR);
    return;
  }
  txn.unlogged[request.topic()].emplace_back(from, request_id);
  append(record_of(key, txn), [this, key, topic = request.topic()] {
    Txn& t = txns_.at(key);
    const auto waiting = t.unlogged.find(topic);
    SL_ASSERT_MSG(waiting != t.unlogged.end(), "txn coordinator: a registration logged twice");
    const std::vector<std::pair<NodeId, std::uint64_t>> requests = std::move(waiting->second);
    t.unlogged.erase(waiting);
    for (const auto& [node, id] : requests) reply(node, id, NO_ERROR);
  });
}

void TxnCoordinator::end(NodeId from, const TxnEnd& request) {
  const TxnKey key = txn_key(request.txn());
  const auto it = txns_.find(key);
  const std::uint64_t request_id = request.request_id();
  if (it == txns_.end()) {
    reply(from, request_id, TXN_NOT_OPEN);
    return;
  }
  Txn& txn = it->second;
  if (stale(txn.owner, request.epoch())) {
    reply(from, request_id, TXN_FENCED);
    return;
  }
  const bool commit = request.commit();
  const TxnLogRecord::State ongoing = commit ? TxnLogRecord::COMMITTING : TxnLogRecord::ABORTING;
  const TxnLogRecord::State done = commit ? TxnLogRecord::COMMITTED : TxnLogRecord::ABORTED;
  if (txn.state == done) {
    reply(from, request_id, NO_ERROR);
  } else if (txn.state == ongoing) {
    txn.waiters.emplace_back(from, request_id);
  } else if (txn.state == TxnLogRecord::OPEN) {
    txn.waiters.emplace_back(from, request_id);
    begin_end(key, commit);
  } else {
    reply(from, request_id, TXN_NOT_OPEN);  // Ending, or ended, the other way.
  }
}

// ---- Ending a transaction ------------------------------------------------------------------

void TxnCoordinator::begin_end(TxnKey key, bool commit) {
  Txn& txn = txns_.at(key);
  SL_ASSERT_EQ(txn.state, TxnLogRecord::OPEN);
  timers_.cancel(txn.timer);
  txn.timer = 0;
  txn.state = commit ? TxnLogRecord::COMMITTING : TxnLogRecord::ABORTING;
  txn.markers_left = txn.topics;
  const auto markers = [this, key] {
    Txn& t = txns_.at(key);
    if (t.markers_left.empty()) {
      finish(key);
      return;
    }
    for (const std::string& topic : t.topics) send_marker(key, topic);
  };
  if (!commit || services_.config.txn_log_committing) {
    append(record_of(key, txn), markers);
  } else {
    markers();
  }
}

void TxnCoordinator::send_marker(TxnKey key, const std::string& topic) {
  const bool commit = txns_.at(key).state == TxnLogRecord::COMMITTING;
  markers_(topic, key, commit, life_.guard([this, key, topic](ServerError e) {
    marker_stored(key, topic, e);
  }));
}

void TxnCoordinator::marker_stored(TxnKey key, const std::string& topic, ServerError error) {
  if (state_ != State::ready) return;
  Txn& txn = txns_.at(key);
  if (!ending(txn.state) || txn.markers_left.count(topic) == 0) return;
  if (error != NO_ERROR) {
    // The topic is moving or its storage is failing: its next owner takes the marker.
    timers_.after(services_.config.retry_ns, [this, key, topic] {
      const Txn& t = txns_.at(key);
      if (state_ == State::ready && ending(t.state) && t.markers_left.count(topic) != 0) {
        send_marker(key, topic);
      }
    });
    return;
  }
  txn.markers_left.erase(topic);
  if (txn.markers_left.empty()) finish(key);
}

void TxnCoordinator::finish(TxnKey key) {
  Txn& txn = txns_.at(key);
  SL_ASSERT(ending(txn.state));
  txn.state = txn.state == TxnLogRecord::COMMITTING ? TxnLogRecord::COMMITTED
                                                    : TxnLogRecord::ABORTED;
  append(record_of(key, txn), [this, key] {
    Txn& t = txns_.at(key);
    std::vector<std::pair<NodeId, std::uint64_t>> waiters = std::move(t.waiters);
    t.waiters.clear();
    for (const auto& [node, request_id] : waiters) reply(node, request_id, NO_ERROR);
  });
}

void TxnCoordinator::arm_timeout(TxnKey key) {
  Txn& txn = txns_.at(key);
  if (txn.state != TxnLogRecord::OPEN || txn.timer != 0) return;
  const Nanos delay = std::max<Nanos>(0, txn.timeout_at_ns - services_.rt.now());
  txn.timer = timers_.after(delay, [this, key] {
    Txn& t = txns_.at(key);
    t.timer = 0;
    if (t.state != TxnLogRecord::OPEN) return;
    services_.rt.note("txn coordinator: " + to_string(key) + " timed out, aborting");
    begin_end(key, false);
  });
}

TxnLogRecord TxnCoordinator::record_of(TxnKey key, const Txn& txn) const {
  TxnLogRecord record;
  record.set_state(txn.state);
  set_txn_id(record.mutable_txn(), key);
  record.set_owner(txn.owner);
  record.set_epoch(txn.epoch);
  record.set_timeout_at_ns(txn.timeout_at_ns);
  for (const std::string& topic : txn.topics) record.add_topics(topic);
  return record;
}

// ---- The log -------------------------------------------------------------------------------

void TxnCoordinator::append(const TxnLogRecord& record, std::function<void()> done) {
  if (state_ != State::ready) return;
  const std::uint64_t token = next_token_++;
  appends_.emplace(token, std::move(done));
  if (record.state() != TxnLogRecord::OWNER_EPOCH) {
    services_.rt.note("txn coordinator: " + to_string(txn_key(record.txn())) + " " +
                      state_name(record.state()));
  }
  log_.append(record.SerializeAsString(), token);
}

void TxnCoordinator::appended(std::uint64_t token, LedgerError error) {
  const auto it = appends_.find(token);
  SL_ASSERT_MSG(it != appends_.end(), "txn coordinator: completion of an unknown append");
  std::function<void()> done = std::move(it->second);
  appends_.erase(it);
  if (error != LedgerError::ok) {
    // Fenced: another coordinator opened the log. Either way this one is done; clients
    // find the next one, which replays what was stored.
    close(error == LedgerError::fenced);
    maybe_finish_close();
    return;
  }
  if (state_ == State::ready) done();
  maybe_finish_close();
}

void TxnCoordinator::reply(NodeId to, std::uint64_t request_id, ServerError error, TxnKey txn,
                           std::uint64_t epoch) {
  out_.Clear();
  TxnResponse* r = out_.mutable_txn_response();
  r->set_request_id(request_id);
  r->set_error(error);
  if (error == NO_ERROR && txn != TxnKey{}) set_txn_id(r->mutable_txn(), txn);
  r->set_epoch(epoch);
  services_.send(to, out_);
}

// ---- Closing -------------------------------------------------------------------------------

void TxnCoordinator::close(bool fenced) {
  fenced_ = fenced_ || fenced;
  if (state_ == State::closing) {
    maybe_finish_close();
    return;
  }
  const bool was_loading = state_ == State::loading;
  state_ = State::closing;
  services_.rt.note(fenced ? "txn coordinator: closed, fenced" : "txn coordinator: closed");
  // Ends and registrations in progress are the next coordinator's; their clients ask it again.
  for (auto& [key, txn] : txns_) {
    for (const auto& [node, request_id] : txn.waiters) reply(node, request_id, NOT_COORDINATOR);
    txn.waiters.clear();
    for (const auto& [topic, requests] : txn.unlogged) {
      for (const auto& [node, request_id] : requests) reply(node, request_id, NOT_COORDINATOR);
    }
    txn.unlogged.clear();
  }
  if (was_loading) waiters_.finish(NOT_COORDINATOR);
  maybe_finish_close();
}

void TxnCoordinator::maybe_finish_close() {
  if (state_ != State::closing || close_reported_ || log_.in_flight() != 0) return;
  close_reported_ = true;
  timers_.after(0, [on_closed = on_closed_, fenced = fenced_] { on_closed(fenced); });
}

}  // namespace streamlab::pulsar
