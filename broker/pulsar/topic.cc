#include "broker/pulsar/topic.h"

#include <algorithm>
#include <utility>

#include "base/assert.h"

namespace streamlab::pulsar {

namespace {

constexpr std::int64_t kTrimPeriodNs = 1'000'000'000;
constexpr std::size_t kReplayWindow = 32;

ServerError load_error(LedgerError e) {
  return e == LedgerError::fenced ? TOPIC_FENCED : SERVICE_NOT_READY;
}

}  // namespace

Topic::Topic(BrokerServices& services, std::string name, std::uint32_t partition,
             std::function<void(bool)> on_closed)
    : services_(services),
      name_(std::move(name)),
      partition_(partition),
      on_closed_(std::move(on_closed)),
      log_(services.rt, services.metadata, services.ledgers, services.router, name_,
           services.config,
           [this](std::uint64_t token, LedgerError e, Pos p) { appended(token, e, p); }),
      dedup_(services.config.dedup, services.config.dedup_snapshot_interval),
      txn_replay_(log_),
      waiters_(services.rt),
      timers_(services.rt) {}

void Topic::when_ready(std::function<void(ServerError)> fn) {
  waiters_.add(state_ == State::loading, state_ == State::ready ? NO_ERROR : TOPIC_NOT_OWNED,
               std::move(fn));
}

// ---- Loading -------------------------------------------------------------------------------

void Topic::load() {
  log_.open(life_.guard([this](LedgerError e) {
    if (state_ != State::loading) return;
    if (e != LedgerError::ok) {
      loaded(load_error(e));
      return;
    }
    open_dedup();
  }));
}

void Topic::open_dedup() {
  if (!dedup_.enabled()) {
    open_subscriptions();
    return;
  }
  dedup_cursor_ = std::make_unique<ManagedCursor>(services_.rt, services_.metadata,
                                                  services_.ledgers, services_.router, log_, name_,
                                                  kDedupCursor, services_.config);
  dedup_cursor_->open(0, EXCLUSIVE, life_.guard([this](LedgerError e) {
    if (state_ != State::loading) return;
    if (e != LedgerError::ok) {
      loaded(load_error(e));
      return;
    }
    dedup_.restore(dedup_cursor_->sequences());
    replay_dedup(dedup_cursor_->mark_delete());
  }));
}

// Every entry after the snapshot raises its producer's sequence id. Order does not
// matter for a maximum, so reads go out a window at a time.
void Topic::replay_dedup(Pos from) {
  replay_next_ = log_.next(from);
  pump_replay();
}

void Topic::pump_replay() {
  while (!replay_failed_ && replay_next_ != 0 && replay_in_flight_ < kReplayWindow) {
    const Pos p = replay_next_;
    replay_next_ = log_.next(p);
    ++replay_in_flight_;
    log_.read(p, life_.guard([this](LedgerError e, std::string_view bytes) {
      --replay_in_flight_;
      EntryData entry;
      if (e != LedgerError::ok) {
        replay_failed_ = true;
      } else if (entry.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        dedup_.replayed(entry.producer_name(), entry.highest_sequence_id());
      }
      pump_replay();
    }));
  }
  if (replay_in_flight_ != 0 || state_ != State::loading) return;
  if (replay_failed_) {
    loaded(SERVICE_NOT_READY);
  } else if (replay_next_ == 0) {
    open_subscriptions();
  }
}

void Topic::open_subscriptions() {
  const std::string prefix = "/topics/" + name_ + "/cursors/";
  services_.metadata.list(prefix, life_.guard([this, prefix](const storage::MetaResult& r) {
    if (state_ != State::loading) return;
    if (r.status != storage::META_OK) {
      loaded(METADATA_ERROR);
      return;
    }
    std::vector<std::string> names;
    for (const std::string& key : r.keys) {
      const std::string name = key.substr(prefix.size());
      if (name != kDedupCursor) names.push_back(name);
    }
    if (names.empty()) {
      subscriptions_opened(NO_ERROR);
      return;
    }
    auto remaining = std::make_shared<std::size_t>(names.size());
    auto failed = std::make_shared<ServerError>(NO_ERROR);
    for (const std::string& name : names) {
      // The type is the stored one; the initial position is unused for existing cursors.
      open_cursor(name, 0, EXCLUSIVE, [this, remaining, failed](ServerError e) {
        if (e != NO_ERROR) *failed = e;
        if (--*remaining == 0 && state_ == State::loading) subscriptions_opened(*failed);
      });
    }
  }));
}

void Topic::open_cursor(const std::string& name, Pos initial, SubscriptionType type,
                        std::function<void(ServerError)> done) {
  auto cursor = std::make_unique<ManagedCursor>(services_.rt, services_.metadata,
                                                services_.ledgers, services_.router, log_, name_,
                                                name, services_.config);
  ManagedCursor* raw = cursor.get();
  opening_[name] = std::move(cursor);
  raw->open(initial, type, life_.guard([this, name, done](LedgerError e) {
    auto it = opening_.find(name);
    SL_ASSERT_NE(it, opening_.end());
    std::unique_ptr<ManagedCursor> cursor = std::move(it->second);
    opening_.erase(it);
    if (e != LedgerError::ok) {
      done(load_error(e));
      return;
    }
    subscriptions_[name] = std::make_unique<Subscription>(
        services_, log_, std::move(cursor), partition_,
        services_.config.transactions ? &txns_ : nullptr);
    done(NO_ERROR);
  }));
}

void Topic::subscriptions_opened(ServerError error) {
  if (error == NO_ERROR && services_.config.transactions) {
    replay_txns();
  } else {
    loaded(error);
  }
}

// ---- Loading: the transaction buffer -------------------------------------------------------

// The whole retained log, in order: trimming keeps every open transaction's entries, and
// what was trimmed was consumed by every subscription.
void Topic::replay_txns() {
  txn_replay_.start(
      0, [this](Pos p, std::string_view bytes) { replayed_txn_entry(p, bytes); },
      [this](LedgerError e) {
        if (state_ != State::loading) return;
        if (e != LedgerError::ok) {
          loaded(load_error(e));
          return;
        }
        services_.rt.note(name_ + ": transaction buffer replayed, " +
                          std::to_string(txns_.open_transactions()) + " open");
        loaded(NO_ERROR);
      });
}

void Topic::replayed_txn_entry(Pos p, std::string_view bytes) {
  EntryData entry;
  if (!entry.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return;
  if (entry.has_marker()) {
    apply_end(txn_key(entry.marker().txn()), entry.marker().commit(), p);
  } else if (entry.has_pending_ack()) {
    const TxnKey txn = txn_key(entry.pending_ack().txn());
    if (txns_.is_ended(txn)) return;
    txns_.hold(txn, entry.pending_ack().subscription(),
               {entry.pending_ack().positions().begin(), entry.pending_ack().positions().end()});
    txns_.held_record(txn, p);
  } else if (entry.has_txn()) {
    txns_.wrote(txn_key(entry.txn()), p);
  }
}

// A marker is in the log at `marker`: the transaction's held acks take effect or return.
void Topic::apply_end(TxnKey txn, bool commit, Pos marker) {
  const TxnBuffer::HeldAcks acks = txns_.ended(txn, commit, marker);
  for (const auto& [name, positions] : acks) {
    const auto sub = subscriptions_.find(name);
    if (sub == subscriptions_.end()) continue;
    if (commit) {
      sub->second->txn_acked(positions);
    } else {
      sub->second->txn_released(positions);
    }
  }
}

void Topic::loaded(ServerError error) {
  if (error != NO_ERROR) {
    state_ = State::closing;
    waiters_.finish(error);
    maybe_finish_close();
    return;
  }
  state_ = State::ready;
  services_.rt.note(name_ + ": loaded, serving");
  waiters_.finish(NO_ERROR);
  timers_.after(kTrimPeriodNs, [this] { trim(); });
}

// ---- Producers -----------------------------------------------------------------------------

ServerError Topic::add_producer(ClientRef producer, const std::string& name) {
  if (state_ != State::ready) return TOPIC_NOT_OWNED;
  for (const auto& [ref, other] : producers_) {
    // The same client reconnecting replaces itself; another client may not take the name.
    if (other == name && ref.node != producer.node) return PRODUCER_BUSY;
  }
  for (auto it = producers_.begin(); it != producers_.end();) {
    it = it->second == name ? producers_.erase(it) : std::next(it);
  }
  producers_[producer] = name;
  return NO_ERROR;
}

std::int64_t Topic::last_sequence(const std::string& producer) const {
  return dedup_.last_sequence(producer);
}

void Topic::remove_producer(ClientRef producer) { producers_.erase(producer); }

void Topic::send_error(ClientRef producer, std::uint64_t sequence_id, ServerError error) {
  out_.Clear();
  SendError* e = out_.mutable_send_error();
  e->set_producer_id(producer.id);
  e->set_sequence_id(sequence_id);
  e->set_error(error);
  services_.send(producer.node, out_);
}

void Topic::publish(ClientRef producer, const Send& send) {
  const auto it = producers_.find(producer);
  if (state_ != State::ready || it == producers_.end()) {
    send_error(producer, send.sequence_id(), state_ == State::closing ? TOPIC_FENCED : TOPIC_NOT_OWNED);
    return;
  }
  if (send.has_txn()) {
    if (!services_.config.transactions) {
      send_error(producer, send.sequence_id(), TXN_DISABLED);
      return;
    }
    // The marker is written only after every send the client made in the transaction
    // was acknowledged: a later one is a zombie's, or came after a timeout's abort.
    if (txns_.is_closing(txn_key(send.txn()))) {
      send_error(producer, send.sequence_id(), TXN_NOT_OPEN);
      return;
    }
  }
  switch (dedup_.check(it->second, send.sequence_id(), send.highest_sequence_id())) {
    case Deduplication::Verdict::stored: {
      out_.Clear();
      SendReceipt* r = out_.mutable_send_receipt();
      r->set_producer_id(producer.id);
      r->set_sequence_id(send.sequence_id());
      r->set_highest_sequence_id(send.highest_sequence_id());
      r->set_broker(services_.name);
      r->set_duplicate(true);
      services_.send(producer.node, out_);
      return;
    }
    case Deduplication::Verdict::in_flight:
      // Its first copy is still being written: the producer retries after that.
      send_error(producer, send.sequence_id(), PERSISTENCE_ERROR);
      return;
    case Deduplication::Verdict::accept:
      break;
  }
  const std::uint64_t token = next_token_++;
  PendingSend pending;
  pending.producer = producer;
  pending.sequence_id = send.sequence_id();
  pending.highest = send.highest_sequence_id();
  pending.producer_name = it->second;
  if (send.has_txn()) {
    pending.transactional = true;
    pending.txn = txn_key(send.txn());
  }
  sends_.emplace(token, std::move(pending));
  services_.rt.charge(Work::publish, send.entry().size());
  log_.append(send.entry(), token);
}

void Topic::append_control(const EntryData& entry, std::function<void(LedgerError, Pos)> done) {
  const std::uint64_t token = next_token_++;
  PendingSend pending;
  pending.done = std::move(done);
  sends_.emplace(token, std::move(pending));
  log_.append(entry.SerializeAsString(), token);
}

void Topic::appended(std::uint64_t token, LedgerError error, Pos p) {
  const auto it = sends_.find(token);
  SL_ASSERT_MSG(it != sends_.end(), "topic: completion of an unknown append");
  const PendingSend send = std::move(it->second);
  sends_.erase(it);
  if (send.done) {
    send.done(error, p);
    if (error != LedgerError::ok) close(error == LedgerError::fenced);
    maybe_finish_close();
    return;
  }
  if (error != LedgerError::ok) {
    dedup_.reset_pushed_to_persisted();
    send_error(send.producer, send.sequence_id,
               error == LedgerError::fenced ? TOPIC_FENCED : PERSISTENCE_ERROR);
    close(error == LedgerError::fenced);
    maybe_finish_close();
    return;
  }
  if (send.transactional) txns_.wrote(send.txn, p);
  if (dedup_.persisted(send.producer_name, send.highest) && dedup_cursor_ != nullptr) {
    // The snapshot holds every sequence id up to this entry (appends confirm in order).
    dedup_cursor_->set_sequences(dedup_.persisted_map());
    dedup_cursor_->ack_cumulative(p);
    dedup_.snapshot_taken();
  }
  out_.Clear();
  SendReceipt* r = out_.mutable_send_receipt();
  r->set_producer_id(send.producer.id);
  r->set_sequence_id(send.sequence_id);
  r->set_highest_sequence_id(send.highest);
  r->mutable_message_id()->set_ledger_id(log_.ledger_id(p));
  r->mutable_message_id()->set_entry_id(entry_of(p));
  r->mutable_message_id()->set_batch_index(-1);
  r->mutable_message_id()->set_partition(partition_);
  r->set_broker(services_.name);
  services_.send(send.producer.node, out_);
  if (state_ == State::ready) {
    for (auto& [name, sub] : subscriptions_) sub->dispatch();
  }
  maybe_finish_close();
}

// ---- Consumers -----------------------------------------------------------------------------

void Topic::subscribe(ClientRef consumer, const Subscribe& request,
                      std::function<void(ServerError)> done) {
  if (state_ != State::ready) {
    timers_.after(0, [done = std::move(done)] { done(TOPIC_NOT_OWNED); });
    return;
  }
  const std::string& name = request.subscription();
  if (name == kDedupCursor || name.empty()) {
    timers_.after(0, [done = std::move(done)] { done(MALFORMED_REQUEST); });
    return;
  }
  const bool read_uncommitted = request.read_uncommitted();
  auto attach = [this, consumer, name, done, read_uncommitted](ServerError e) {
    if (e != NO_ERROR || state_ != State::ready) {
      done(e != NO_ERROR ? e : TOPIC_NOT_OWNED);
      return;
    }
    // The same client subscribing again to this subscription under the same consumer name
    // replaces its earlier attempt, as a producer does: the client gave that one up (its close may have been
    // lost with the connection), and an exclusive subscription would refuse the new one
    // for as long as the old one held it.
    std::vector<ClientRef> replaced;
    for (const auto& [ref, subscription] : consumers_) {
      if (ref.node == consumer.node && ref != consumer && subscription == name &&
          consumer_names_[ref] == consumer_names_[consumer]) {
        replaced.push_back(ref);
      }
    }
    for (const ClientRef& ref : replaced) remove_consumer(ref);
    Subscription& sub = *subscriptions_.at(name);
    sub.set_read_uncommitted(read_uncommitted);
    const ServerError added = sub.add_consumer(consumer, consumer_names_[consumer]);
    if (added == NO_ERROR) consumers_[consumer] = name;
    done(added);
  };
  consumer_names_[consumer] = request.consumer_name();
  const auto existing = subscriptions_.find(name);
  if (existing != subscriptions_.end()) {
    if (existing->second->type() != request.type()) {
      timers_.after(0, [done = std::move(done)] { done(INCOMPATIBLE_SUBSCRIPTION); });
      return;
    }
    timers_.after(0, [attach] { attach(NO_ERROR); });
    return;
  }
  if (opening_.count(name) != 0) {
    // Another consumer is creating it: try again shortly.
    timers_.after(services_.config.retry_ns, [this, consumer, request, done] {
      subscribe(consumer, request, done);
    });
    return;
  }
  const Pos initial = request.initial_position() == LATEST ? log_.last_confirmed() : 0;
  open_cursor(name, initial, request.type(), attach);
}

Subscription* Topic::subscription_of(ClientRef consumer) {
  const auto it = consumers_.find(consumer);
  if (it == consumers_.end()) return nullptr;
  const auto sub = subscriptions_.find(it->second);
  return sub == subscriptions_.end() ? nullptr : sub->second.get();
}

void Topic::remove_consumer(ClientRef consumer) {
  if (Subscription* sub = subscription_of(consumer)) sub->remove_consumer(consumer);
  consumers_.erase(consumer);
  consumer_names_.erase(consumer);
}

void Topic::client_lost(NodeId node) {
  for (auto it = producers_.begin(); it != producers_.end();) {
    it = it->first.node == node ? producers_.erase(it) : std::next(it);
  }
  std::vector<ClientRef> gone;
  for (const auto& [ref, sub] : consumers_) {
    if (ref.node == node) gone.push_back(ref);
  }
  for (const ClientRef& ref : gone) remove_consumer(ref);
}

// ---- Transactions --------------------------------------------------------------------------

void Topic::answer_later(std::function<void(ServerError)> done, ServerError error) {
  timers_.after(0, [done = std::move(done), error] { done(error); });
}

void Topic::txn_ack(ClientRef consumer, const Ack& ack, std::function<void(ServerError)> done) {
  Subscription* sub = subscription_of(consumer);
  if (state_ != State::ready || sub == nullptr) {
    return answer_later(std::move(done), TOPIC_NOT_OWNED);
  }
  if (!services_.config.transactions) return answer_later(std::move(done), TXN_DISABLED);
  // Pending acks are per entry here; a cumulative one would hold a range.
  if (ack.type() == CUMULATIVE) return answer_later(std::move(done), MALFORMED_REQUEST);
  const TxnKey txn = txn_key(ack.txn());
  if (txns_.is_closing(txn)) return answer_later(std::move(done), TXN_NOT_OPEN);
  std::vector<Pos> positions;
  for (const MessageId& id : ack.message_ids()) {
    const Pos p = log_.pos_of(id.ledger_id(), id.entry_id());
    if (p == 0) continue;
    // Acked already, by a committed transaction or outside one: a zombie redoing work.
    if (sub->cursor().acked(p)) {
      if (services_.config.txn_zombie_fencing) return answer_later(std::move(done), TXN_CONFLICT);
      continue;
    }
    const TxnKey* holder = txns_.holder(sub->name(), p);
    if (holder != nullptr && *holder != txn) return answer_later(std::move(done), TXN_CONFLICT);
    positions.push_back(p);
  }
  if (positions.empty()) return answer_later(std::move(done), NO_ERROR);
  txns_.hold(txn, sub->name(), positions);
  EntryData entry;
  PendingAck* record = entry.mutable_pending_ack();
  set_txn_id(record->mutable_txn(), txn);
  record->set_subscription(sub->name());
  for (const Pos p : positions) record->add_positions(p);
  append_control(entry, [this, txn, done](LedgerError e, Pos p) {
    if (e == LedgerError::ok) txns_.held_record(txn, p);
    done(e == LedgerError::ok ? NO_ERROR : PERSISTENCE_ERROR);
  });
}

void Topic::end_txn(TxnKey txn, bool commit, std::function<void(ServerError)> done) {
  if (state_ != State::ready) return answer_later(std::move(done), TOPIC_NOT_OWNED);
  if (!services_.config.transactions) return answer_later(std::move(done), TXN_DISABLED);
  if (txns_.is_ended(txn)) return answer_later(std::move(done), NO_ERROR);
  EntryData entry;
  set_txn_id(entry.mutable_marker()->mutable_txn(), txn);
  entry.mutable_marker()->set_commit(commit);
  // Sends and acks that arrive while the marker is written would land after it.
  txns_.ending(txn);
  append_control(entry, [this, txn, commit, done](LedgerError e, Pos p) {
    if (e != LedgerError::ok) {
      txns_.ending_failed(txn);
      done(PERSISTENCE_ERROR);
      return;
    }
    apply_end(txn, commit, p);
    for (auto& [name, sub] : subscriptions_) sub->dispatch();
    done(NO_ERROR);
  });
}

// ---- Closing and trimming ------------------------------------------------------------------

void Topic::close(bool fenced) {
  fenced_ = fenced_ || fenced;
  if (state_ == State::closing) return;
  const bool was_loading = state_ == State::loading;
  state_ = State::closing;
  for (const auto& [ref, name] : producers_) {
    out_.Clear();
    out_.mutable_close_producer()->set_producer_id(ref.id);
    services_.send(ref.node, out_);
  }
  for (const auto& [ref, name] : consumers_) {
    out_.Clear();
    out_.mutable_close_consumer()->set_consumer_id(ref.id);
    services_.send(ref.node, out_);
  }
  producers_.clear();
  consumers_.clear();
  if (was_loading) waiters_.finish(TOPIC_NOT_OWNED);
  maybe_finish_close();
}

void Topic::maybe_finish_close() {
  if (state_ != State::closing || close_reported_ || log_.in_flight() != 0 || !sends_.empty()) {
    return;
  }
  close_reported_ = true;
  // The callback destroys this topic: it runs from a copy, which outlives the topic.
  timers_.after(0, [on_closed = on_closed_, fenced = fenced_] { on_closed(fenced); });
}

// Ledgers every cursor passed go (the deduplication cursor holds back what the next
// owner must replay).
void Topic::trim() {
  if (state_ != State::ready) return;
  Pos slowest = log_.last_confirmed();
  if (dedup_cursor_ != nullptr) slowest = std::min(slowest, dedup_cursor_->mark_delete());
  for (const auto& [name, sub] : subscriptions_) {
    slowest = std::min(slowest, sub->cursor().mark_delete());
  }
  // An open transaction's entries stay: the next owner's replay needs them.
  if (const Pos open = txns_.first_open_entry(); open != 0) slowest = std::min(slowest, open - 1);
  log_.trim(slowest);
  txns_.forget_before(log_.next(0));
  timers_.after(kTrimPeriodNs, [this] { trim(); });
}

}  // namespace streamlab::pulsar
