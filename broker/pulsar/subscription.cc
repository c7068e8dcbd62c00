#include "broker/pulsar/subscription.h"

#include <algorithm>
#include <utility>

#include "base/assert.h"
#include "broker/pulsar/wire.h"

namespace streamlab::pulsar {

namespace {

constexpr std::uint32_t kKeyHashRange = 65536;

}  // namespace

Subscription::Subscription(BrokerServices& services, ManagedLedger& log,
                           std::unique_ptr<ManagedCursor> cursor, std::uint32_t partition,
                           const TxnBuffer* txns)
    : services_(services),
      log_(log),
      cursor_(std::move(cursor)),
      partition_(partition),
      txns_(txns),
      read_backoff_ns_(services.config.read_failure_backoff_ns),
      timers_(services.rt) {
  // A zero backoff is the loop the backoff exists to prevent.
  SL_ASSERT_MSG(services.config.read_failure_backoff_ns > 0,
                "subscription: a failed read must not be retried at once");
  SL_ASSERT_GE(services.config.read_failure_backoff_max_ns, services.config.read_failure_backoff_ns);
  read_pos_ = cursor_->mark_delete();
}

std::vector<ClientRef> Subscription::consumer_refs() const {
  std::vector<ClientRef> out;
  for (const ConsumerState& c : consumers_) out.push_back(c.ref);
  return out;
}

std::uint64_t Subscription::backlog() const {
  const std::uint64_t behind = log_.count_between(cursor_->mark_delete(), log_.last_confirmed());
  return behind - std::min<std::uint64_t>(behind, cursor_->holes());
}

Subscription::ConsumerState* Subscription::find(ClientRef ref) {
  for (ConsumerState& c : consumers_) {
    if (c.ref == ref) return &c;
  }
  return nullptr;
}

// ---- Consumers -----------------------------------------------------------------------------

ServerError Subscription::add_consumer(ClientRef consumer, const std::string& name) {
  if (find(consumer) != nullptr) return NO_ERROR;  // A repeated subscribe.
  if (type() == EXCLUSIVE && !consumers_.empty()) return CONSUMER_BUSY;
  const ConsumerState* before = type() == FAILOVER ? active() : nullptr;
  const ClientRef previous = before != nullptr ? before->ref : ClientRef{};
  ConsumerState state;
  state.ref = consumer;
  state.name = name;
  // Entries up to the read position may already be with others, for this consumer's
  // keys too: it waits until they are acknowledged.
  if (type() == KEY_SHARED && !consumers_.empty()) state.joined_at = read_pos_;
  consumers_.push_back(std::move(state));
  if (type() == FAILOVER) failover_changed(previous);
  return NO_ERROR;
}

void Subscription::remove_consumer(ClientRef consumer) {
  const ConsumerState* before = type() == FAILOVER ? active() : nullptr;
  const ClientRef previous = before != nullptr ? before->ref : ClientRef{};
  const auto it = std::find_if(consumers_.begin(), consumers_.end(),
                               [&](const ConsumerState& c) { return c.ref == consumer; });
  if (it == consumers_.end()) return;
  release(*it);
  consumers_.erase(it);
  if (type() == FAILOVER) failover_changed(previous);
  dispatch();
}

void Subscription::release(ConsumerState& consumer) {
  for (const Pos p : consumer.pending) {
    if (cursor_->acked(p)) continue;
    replay_.insert(p);
    ++redeliveries_[p];
  }
  consumer.pending.clear();
}

// The active consumer changed: what the previous one had not acknowledged goes to the
// new one (Pulsar rewinds the cursor for it).
void Subscription::failover_changed(ClientRef previous_active) {
  ConsumerState* now = active();
  if (now == nullptr || now->ref == previous_active) return;
  if (ConsumerState* old = find(previous_active)) release(*old);
}

Subscription::ConsumerState* Subscription::active() {
  if (consumers_.empty()) return nullptr;
  if (type() != FAILOVER) return &consumers_.front();
  std::vector<ConsumerState*> sorted;
  for (ConsumerState& c : consumers_) sorted.push_back(&c);
  std::sort(sorted.begin(), sorted.end(), [](const ConsumerState* a, const ConsumerState* b) {
    return a->name != b->name ? a->name < b->name : a->ref < b->ref;
  });
  return sorted[partition_ % sorted.size()];
}

void Subscription::flow(ClientRef consumer, std::uint32_t permits) {
  ConsumerState* c = find(consumer);
  if (c == nullptr) return;
  c->permits += permits;
  stalled_ = false;
  dispatch();
}

// ---- Acknowledgements and redelivery -------------------------------------------------------

void Subscription::acked(Pos p) {
  for (ConsumerState& c : consumers_) c.pending.erase(p);
  replay_.erase(p);
  redeliveries_.erase(p);
}

void Subscription::ack(ClientRef consumer, const Ack& ack) {
  if (ack.type() == CUMULATIVE) {
    if (type() == SHARED || type() == KEY_SHARED || ack.message_ids_size() != 1) return;
    const Pos p = log_.pos_of(ack.message_ids(0).ledger_id(), ack.message_ids(0).entry_id());
    if (p == 0) return;
    cursor_->ack_cumulative(p);
    for (ConsumerState& c : consumers_) c.pending.erase(c.pending.begin(), c.pending.upper_bound(p));
    replay_.erase(replay_.begin(), replay_.upper_bound(p));
    redeliveries_.erase(redeliveries_.begin(), redeliveries_.upper_bound(p));
  } else {
    for (const MessageId& id : ack.message_ids()) {
      const Pos p = log_.pos_of(id.ledger_id(), id.entry_id());
      if (p == 0 || (txns_ != nullptr && txns_->holder(name(), p) != nullptr)) continue;
      cursor_->ack(p);
      acked(p);
    }
  }
  // Restricted KEY_SHARED consumers are free once mark-delete passed where they joined.
  for (ConsumerState& c : consumers_) {
    if (c.joined_at != 0 && cursor_->mark_delete() >= c.joined_at) c.joined_at = 0;
  }
  stalled_ = false;
  dispatch();
}

void Subscription::redeliver(ClientRef consumer, const Redeliver& request) {
  ConsumerState* c = find(consumer);
  if (c == nullptr) return;
  if (request.message_ids_size() == 0) {
    release(*c);
  } else {
    for (const MessageId& id : request.message_ids()) {
      const Pos p = log_.pos_of(id.ledger_id(), id.entry_id());
      if (p == 0 || c->pending.erase(p) == 0 || cursor_->acked(p)) continue;
      replay_.insert(p);
      ++redeliveries_[p];
    }
  }
  stalled_ = false;
  dispatch();
}

void Subscription::txn_acked(const std::vector<Pos>& positions) {
  for (const Pos p : positions) {
    cursor_->ack(p);
    acked(p);
  }
  dispatch();
}

void Subscription::txn_released(const std::vector<Pos>& positions) {
  for (const Pos p : positions) {
    for (ConsumerState& c : consumers_) c.pending.erase(p);
    if (cursor_->acked(p)) continue;
    replay_.insert(p);
    ++redeliveries_[p];
  }
  dispatch();
}

// ---- Dispatching ---------------------------------------------------------------------------

// What dispatch may read ahead for: only the active consumer's permits count when one
// consumer takes everything.
std::uint32_t Subscription::total_permits() {
  if (type() == EXCLUSIVE || type() == FAILOVER) {
    const ConsumerState* c = active();
    return c == nullptr ? 0 : c->permits;
  }
  std::uint32_t n = 0;
  for (const ConsumerState& c : consumers_) n += c.permits;
  return n;
}

// Redeliveries first, then the log from the read position on, skipping what individual
// acks already covered.
Pos Subscription::next_to_read() {
  for (auto it = replay_.begin(); it != replay_.end();) {
    const Pos p = *it;
    if (txns_ != nullptr &&
        txns_->visibility(p, read_uncommitted_) == TxnBuffer::Visibility::wait) {
      ++it;  // Its transaction's marker dispatches again.
      continue;
    }
    it = replay_.erase(it);
    // A held entry comes back if its transaction aborts.
    if (txns_ != nullptr && txns_->holder(name(), p) != nullptr) continue;
    if (!cursor_->acked(p)) return p;
  }
  const Pos max_read =
      txns_ == nullptr || read_uncommitted_ ? 0 : txns_->max_read_position();
  for (;;) {
    const Pos p = log_.next(read_pos_);
    if (p == 0 || (max_read != 0 && p >= max_read)) return 0;
    read_pos_ = p;
    // A new owner's subscription reads past entries a transaction holds: they come back
    // only if it aborts.
    if (txns_ != nullptr && txns_->holder(name(), p) != nullptr) continue;
    if (!cursor_->acked(p)) return p;
  }
}

void Subscription::dispatch() {
  if (consumers_.empty() || stalled_ || backing_off_) return;
  std::uint32_t permits = total_permits();
  while (permits > reads_.size() && reads_.size() < services_.config.max_pending_reads) {
    const Pos p = next_to_read();
    if (p == 0) break;
    reads_.push_back(ReadSlot{p, false, LedgerError::ok, {}});
    log_.read(p, life_.guard([this, p](LedgerError e, std::string_view entry) {
      for (ReadSlot& slot : reads_) {
        if (slot.pos == p && !slot.done) {
          slot.done = true;
          slot.error = e;
          slot.entry.assign(entry);
          break;
        }
      }
      read_done();
    }));
  }
}

// Deliveries go out in read order, so exclusive and failover consumers see the log's.
void Subscription::read_done() {
  bool failed = false;
  while (!reads_.empty() && reads_.front().done) {
    ReadSlot slot = std::move(reads_.front());
    reads_.pop_front();
    if (slot.error != LedgerError::ok) {
      // Unreadable for now (bookies down, no metadata session): read again after the
      // backoff.
      replay_.insert(slot.pos);
      failed = true;
      continue;
    }
    read_backoff_ns_ = services_.config.read_failure_backoff_ns;  // Reads work again.
    if (cursor_->acked(slot.pos)) continue;
    if (txns_ != nullptr) {
      if (txns_->holder(name(), slot.pos) != nullptr) continue;  // Held while it was read.
      const TxnBuffer::Visibility v = txns_->visibility(slot.pos, read_uncommitted_);
      if (v == TxnBuffer::Visibility::skip) {
        cursor_->ack(slot.pos);
        acked(slot.pos);
        continue;
      }
      if (v == TxnBuffer::Visibility::wait) {
        replay_.insert(slot.pos);
        continue;
      }
    }
    ConsumerState* c = pick(slot);
    if (c == nullptr) {
      replay_.insert(slot.pos);
      if (type() == KEY_SHARED) stalled_ = true;
      continue;
    }
    deliver(*c, slot);
  }
  if (failed) read_failed();
  dispatch();
}

// No read until the timer: what failed is in replay_, and reads still in flight complete
// meanwhile (STYLE.md: a dispatcher does not read again without progress).
void Subscription::read_failed() {
  if (backing_off_) return;
  const Nanos delay = read_backoff_ns_;
  SL_ASSERT_GE(delay, services_.config.read_failure_backoff_ns);
  SL_ASSERT_LE(delay, services_.config.read_failure_backoff_max_ns);
  read_backoff_ns_ = std::min(delay * 2, services_.config.read_failure_backoff_max_ns);
  backing_off_ = true;
  timers_.after(delay, [this] {
    SL_ASSERT(backing_off_);
    backing_off_ = false;
    dispatch();
  });
}

Subscription::ConsumerState* Subscription::pick(const ReadSlot& slot) {
  switch (type()) {
    case EXCLUSIVE:
    case FAILOVER: {
      ConsumerState* c = active();
      return c != nullptr && c->permits > 0 ? c : nullptr;
    }
    case SHARED:
      for (std::size_t i = 0; i < consumers_.size(); ++i) {
        ConsumerState& c = consumers_[(next_consumer_ + i) % consumers_.size()];
        if (c.permits > 0) {
          next_consumer_ = (next_consumer_ + i + 1) % consumers_.size();
          return &c;
        }
      }
      return nullptr;
    case KEY_SHARED: {
      EntryData data;
      std::string key;
      if (data.ParseFromString(slot.entry) && data.messages_size() > 0) {
        key = data.messages(0).key();
      }
      const std::size_t n = consumers_.size();
      const std::size_t index = (key_hash(key) % kKeyHashRange) * n / kKeyHashRange;
      ConsumerState& c = consumers_[index];
      if (c.permits == 0) return nullptr;
      if (c.joined_at != 0 && slot.pos > c.joined_at) return nullptr;
      return &c;
    }
    default:
      SL_ASSERT_MSG(false, "subscription: unknown type");
      return nullptr;
  }
}

void Subscription::deliver(ConsumerState& consumer, const ReadSlot& slot) {
  SL_ASSERT_GT(consumer.permits, 0);
  --consumer.permits;
  consumer.pending.insert(slot.pos);
  out_.Clear();
  Delivery* d = out_.mutable_delivery();
  d->set_consumer_id(consumer.ref.id);
  MessageId* id = d->mutable_message_id();
  id->set_ledger_id(log_.ledger_id(slot.pos));
  id->set_entry_id(entry_of(slot.pos));
  id->set_batch_index(-1);
  id->set_partition(partition_);
  const auto count = redeliveries_.find(slot.pos);
  d->set_redelivery_count(count == redeliveries_.end() ? 0 : count->second);
  d->set_entry(slot.entry);
  services_.rt.charge(Work::dispatch, slot.entry.size());
  services_.send(consumer.ref.node, out_);
}

}  // namespace streamlab::pulsar
