// The consumer (REFERENCE.md "Pulsar": flow control permits, acks, redelivery on ack
// timeout and negative ack; a batch is redelivered whole, since batch-index acks are off).
//
// - Permits count entries: each partition's subscription gets receiver_queue_size, and
//   once the application has finished half that many entries (taken every message of
//   them) since the last Flow, those are given back.
// - An entry is acked (Ack INDIVIDUAL, batch_index -1) once every message of it is.
// - acknowledge_cumulative(id) acks up to id's entry if id is the entry's last message;
//   otherwise up to the entry before it (same ledger, entry_id - 1), because a batch is
//   only acked whole. An id at entry 0 of its ledger acks nothing: the entry before lies
//   in an earlier ledger whose id the client does not know, and the next cumulative ack
//   covers it.
// - The ack timeout counts from when the application first got a message of the entry.
//   A periodic check every quarter of it sends Redeliver, so an entry comes back between
//   ack_timeout and 1.25 x ack_timeout after it was handed out.
// - A negative ack asks for the whole entry again after nack_redelivery_delay.
// - Reconnecting drops the partition's unconsumed messages (the broker redelivers every
//   unacked entry to the new subscription); entries the application holds stay known, so
//   their acks still count and go to the new broker. Acks made while disconnected are
//   sent right after the next SubscribeSuccess, before the Flow that lets the broker
//   dispatch.

#include <algorithm>
#include <limits>

#include "base/assert.h"
#include "broker/client/client_impl.h"
#include "broker/pulsar/wire.h"

namespace streamlab::client {

namespace {

// Acks held while disconnected; beyond it they are dropped and the broker redelivers
// those messages (at least once, never lost).
constexpr std::size_t kMaxPendingAcks = 10'000;

pulsar::MessageId entry_id(const EntryKey& key) {
  pulsar::MessageId id;
  id.set_ledger_id(key.ledger);
  id.set_entry_id(key.entry);
  id.set_batch_index(-1);
  id.set_partition(key.partition);
  return id;
}

EntryKey key_of(const pulsar::MessageId& id) {
  return EntryKey{id.partition(), id.ledger_id(), id.entry_id()};
}

}  // namespace

// [SECTION] Subscribing

Consumer& Client::Impl::subscribe(ConsumerConfig config) {
  SL_ASSERT_MSG(!config.topic.empty(), "a consumer needs a topic");
  SL_ASSERT_MSG(!config.subscription.empty(), "a consumer needs a subscription");
  SL_ASSERT_GE(config.receiver_queue_size, 1);
  SL_ASSERT_GE(config.ack_timeout_ns, 0);
  SL_ASSERT_GE(config.nack_redelivery_delay_ns, 0);
  const std::uint64_t id = next_owner_id_++;
  ConsumerState& c = consumers_[id];
  c.handle.reset(new Consumer(*this, id));
  c.name = config.name.empty() ? default_name() : config.name;
  c.config = std::move(config);
  c.topic.ref = BindingRef{id, kTopicLevel, false};
  c.topic.topic = c.config.topic;
  start(c.topic);
  if (c.config.ack_timeout_ns > 0) {
    c.ack_timer = rt_.after(std::max<Nanos>(c.config.ack_timeout_ns / 4, 1),
                            [this, id] { ack_timeout_tick(id); });
  }
  return *c.handle;
}

void Client::Impl::consumer_partitions(ConsumerState& c, std::uint32_t partitions) {
  SL_ASSERT(c.parts.empty());
  // Bindings are found by index from here on: the vector never changes size again.
  c.parts.resize(std::max<std::uint32_t>(partitions, 1));
  for (std::uint32_t i = 0; i < c.parts.size(); ++i) {
    Binding& b = c.parts[i].binding;
    b.ref = BindingRef{c.topic.ref.owner, i, false};
    b.topic = partitions == 0 ? c.config.topic : pulsar::partition_name(c.config.topic, i);
    b.service_index = c.topic.service_index + (config_.spread_lookups ? i : 0);
  }
  for (ConsumerPartition& part : c.parts) start(part.binding);
}

void Client::Impl::send_subscribe(Binding& b, std::uint64_t request_id) {
  const ConsumerState& c = consumers_.at(b.ref.owner);
  out_.Clear();
  pulsar::Subscribe* s = out_.mutable_subscribe();
  s->set_request_id(request_id);
  s->set_consumer_id(b.wire_id);
  s->set_topic(b.topic);
  s->set_subscription(c.config.subscription);
  s->set_type(c.config.type);
  s->set_consumer_name(c.name);
  s->set_initial_position(c.config.initial_position);
  s->set_read_uncommitted(c.config.read_uncommitted);
  issue(b, b.broker, out_, request_id);
}

void Client::Impl::consumer_connected(Binding& b) {
  ConsumerState& c = consumers_.at(b.ref.owner);
  ConsumerPartition& part = c.parts[b.ref.partition];
  if (!part.pending_acks.empty()) {
    out_.Clear();
    pulsar::Ack* ack = out_.mutable_ack();
    ack->set_consumer_id(b.wire_id);
    ack->set_type(pulsar::INDIVIDUAL);
    for (const pulsar::MessageId& id : part.pending_acks) *ack->add_message_ids() = id;
    send_to(b.broker, out_);
    part.pending_acks.clear();
  }
  if (part.has_pending_cumulative) {
    out_.Clear();
    pulsar::Ack* ack = out_.mutable_ack();
    ack->set_consumer_id(b.wire_id);
    ack->set_type(pulsar::CUMULATIVE);
    *ack->add_message_ids() = part.pending_cumulative;
    send_to(b.broker, out_);
    part.has_pending_cumulative = false;
  }
  part.taken = 0;
  out_.Clear();
  out_.mutable_flow()->set_consumer_id(b.wire_id);
  out_.mutable_flow()->set_permits(c.config.receiver_queue_size);
  send_to(b.broker, out_);
}

void Client::Impl::consumer_unbound(Binding& b) {
  ConsumerState& c = consumers_.at(b.ref.owner);
  const std::uint32_t p = b.ref.partition;
  std::erase_if(c.queue, [p](const QueuedMessage& q) { return q.key.partition == p; });
  const auto first = c.entries.lower_bound(
      EntryKey{p, 0, std::numeric_limits<std::int64_t>::min()});
  for (auto it = first; it != c.entries.end() && it->first.partition == p;) {
    ConsumerEntry& e = it->second;
    e.queued = 0;
    // Everything unacked comes back from the new subscription, so nothing is at risk of
    // the ack timeout until it is handed out again.
    e.handed_ns = 0;
    // Keep what the application holds or acked in part: its acks must still count.
    const bool keep = !e.done && (e.handed || e.acked_count > 0);
    it = keep ? std::next(it) : c.entries.erase(it);
  }
  std::erase_if(c.nacks, [p](const auto& nack) { return nack.first.partition == p; });
  c.parts[p].taken = 0;
}

// [SECTION] Deliveries and the receive queue

void Client::Impl::on_delivery(NodeId from, const pulsar::Delivery& delivery) {
  Binding* b = wire_binding(delivery.consumer_id(), false);
  if (b == nullptr || b->wire_id != delivery.consumer_id() || b->broker != from ||
      b->state != BindState::connected) {
    return;  // For an abandoned subscription: the new one gets it again.
  }
  ConsumerState& c = consumers_.at(b->ref.owner);
  const std::uint32_t p = b->ref.partition;
  pulsar::EntryData data;
  if (!data.ParseFromString(delivery.entry()) || data.messages_size() == 0) {
    // Not an entry a producer writes: it cannot be shown. Its permit comes back so the
    // flow goes on; unacked, it stays in the subscription's backlog.
    finished_entry(c, p);
    return;
  }
  const EntryKey key{p, delivery.message_id().ledger_id(), delivery.message_id().entry_id()};
  auto [it, fresh] = c.entries.try_emplace(key);
  ConsumerEntry& e = it->second;
  if (!fresh && e.queued > 0) {
    finished_entry(c, p);  // Delivered twice while still queued: one copy is enough.
    return;
  }
  const auto n = static_cast<std::uint32_t>(data.messages_size());
  if (fresh || e.acked.size() != n) {
    e.acked.assign(n, false);
    e.acked_count = 0;
  }
  e.data = std::move(data);
  e.redelivery_count = delivery.redelivery_count();
  e.handed_ns = 0;
  e.order = c.parts[p].next_order++;
  std::uint32_t queued = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    if (e.acked[i]) continue;  // Acked before the redelivery: not shown again.
    c.queue.push_back(QueuedMessage{key, i});
    ++queued;
  }
  e.queued = queued;
  if (queued == 0) {
    // Every message was acked while it was away, so the ack was lost: ack again.
    e.done = true;
    send_ack(c, p, pulsar::INDIVIDUAL, entry_id(key));
    finished_entry(c, p);
    forget_if_done(c, key);
    return;
  }
  if (c.waiting > 0 && !c.pump_scheduled) {
    c.pump_scheduled = true;
    defer_pump(c.topic.ref.owner);
  }
}

void Client::Impl::receive(std::uint64_t consumer) {
  ConsumerState& c = consumers_.at(consumer);
  if (c.closed) return;
  ++c.waiting;
  if (!c.queue.empty() && !c.pump_scheduled) {
    c.pump_scheduled = true;
    defer_pump(consumer);
  }
}

void Client::Impl::pump(std::uint64_t consumer) {
  ConsumerState& c = consumers_.at(consumer);
  c.pump_scheduled = false;
  // Answers only the receives made before this round: one made inside on_message is
  // answered from the next deferred round, never inside the callback.
  std::size_t rounds = std::min<std::size_t>(c.waiting, c.queue.size());
  for (; rounds > 0 && !c.closed && c.waiting > 0 && !c.queue.empty(); --rounds) deliver_one(c);
}

void Client::Impl::deliver_one(ConsumerState& c) {
  const QueuedMessage q = c.queue.front();
  c.queue.pop_front();
  --c.waiting;
  ConsumerEntry& e = c.entries.at(q.key);
  SL_ASSERT_GT(e.queued, 0);
  --e.queued;
  e.handed = true;
  if (e.handed_ns == 0) e.handed_ns = rt_.now();
  const pulsar::SingleMessage& m = e.data.messages(static_cast<int>(q.index));
  scratch_key_.assign(m.key());
  scratch_payload_.assign(m.payload());
  scratch_producer_.assign(e.data.producer_name());
  Message message;
  message.id = entry_id(q.key);
  message.id.set_batch_index(static_cast<std::int32_t>(q.index));
  message.topic = c.parts[q.key.partition].binding.topic;
  message.producer = scratch_producer_;
  message.sequence_id = m.sequence_id();
  message.key = scratch_key_;
  message.payload = scratch_payload_;
  message.publish_time_ns = m.publish_time_ns();
  message.redelivery_count = e.redelivery_count;
  message.batch_size = static_cast<std::uint32_t>(e.data.messages_size());
  if (e.queued == 0) {
    finished_entry(c, q.key.partition);
    forget_if_done(c, q.key);  // `e` may be gone from here on.
  }
  rt_.charge(Work::consume, message.key.size() + message.payload.size());
  if (c.config.on_message) c.config.on_message(message);
}

void Client::Impl::finished_entry(ConsumerState& c, std::uint32_t partition) {
  ConsumerPartition& part = c.parts[partition];
  ++part.taken;
  const std::uint32_t half = std::max<std::uint32_t>(1, c.config.receiver_queue_size / 2);
  // While disconnected the count is moot: the next subscription starts with full permits.
  if (part.taken < half || part.binding.state != BindState::connected) return;
  out_.Clear();
  out_.mutable_flow()->set_consumer_id(part.binding.wire_id);
  out_.mutable_flow()->set_permits(part.taken);
  send_to(part.binding.broker, out_);
  part.taken = 0;
}

// [SECTION] Acks

void Client::Impl::send_ack(ConsumerState& c, std::uint32_t partition, pulsar::AckType type,
                            const pulsar::MessageId& entry) {
  ConsumerPartition& part = c.parts[partition];
  if (part.binding.state == BindState::connected) {
    out_.Clear();
    pulsar::Ack* ack = out_.mutable_ack();
    ack->set_consumer_id(part.binding.wire_id);
    ack->set_type(type);
    *ack->add_message_ids() = entry;
    send_to(part.binding.broker, out_);
    return;
  }
  if (type == pulsar::CUMULATIVE) {
    part.pending_cumulative = entry;  // A later cumulative ack covers an earlier one.
    part.has_pending_cumulative = true;
  } else if (part.pending_acks.size() < kMaxPendingAcks) {
    part.pending_acks.push_back(entry);
  }
}

void Client::Impl::forget_if_done(ConsumerState& c, const EntryKey& key) {
  const auto it = c.entries.find(key);
  if (it != c.entries.end() && it->second.done && it->second.queued == 0) c.entries.erase(it);
}

void Client::Impl::acknowledge(std::uint64_t consumer, const pulsar::MessageId& id) {
  ConsumerState& c = consumers_.at(consumer);
  const EntryKey key = key_of(id);
  if (c.closed || key.partition >= c.parts.size()) return;
  const auto it = c.entries.find(key);
  // Unknown: already acked as a whole (and forgotten), or never delivered here.
  if (it == c.entries.end() || it->second.done) return;
  ConsumerEntry& e = it->second;
  const auto n = static_cast<std::int32_t>(e.acked.size());
  if (id.batch_index() >= n) return;
  for (std::int32_t i = 0; i < n; ++i) {
    if ((id.batch_index() < 0 || i == id.batch_index()) && !e.acked[i]) {
      e.acked[i] = true;
      ++e.acked_count;
    }
  }
  // A batch is one entry: the broker hears of it once every message is acked.
  if (e.acked_count < e.acked.size()) return;
  e.done = true;
  c.nacks.erase(key);
  send_ack(c, key.partition, pulsar::INDIVIDUAL, entry_id(key));
  forget_if_done(c, key);
}

void Client::Impl::acknowledge_cumulative(std::uint64_t consumer, const pulsar::MessageId& id) {
  ConsumerState& c = consumers_.at(consumer);
  const EntryKey key = key_of(id);
  if (c.closed || key.partition >= c.parts.size()) return;
  const auto it = c.entries.find(key);
  // An unknown entry was acked whole already (or the id is the application's own).
  const bool whole = it == c.entries.end() || id.batch_index() < 0 ||
                     id.batch_index() + 1 >= static_cast<std::int32_t>(it->second.acked.size());
  pulsar::MessageId target = entry_id(key);
  if (!whole) {
    if (key.entry == 0) return;  // The entry before is in an earlier ledger (see above).
    target.set_entry_id(key.entry - 1);
  }
  // Entries delivered up to the acked one are done, in delivery order (cumulative acks
  // are for exclusive and failover subscriptions, which deliver in log order).
  if (it != c.entries.end()) {
    const std::uint64_t limit = it->second.order + (whole ? 1 : 0);
    std::vector<EntryKey> covered;
    for (const auto& [k, e] : c.entries) {
      if (k.partition == key.partition && e.order < limit && !e.done) covered.push_back(k);
    }
    for (const EntryKey& k : covered) {
      c.entries.at(k).done = true;
      c.nacks.erase(k);
      forget_if_done(c, k);
    }
  }
  send_ack(c, key.partition, pulsar::CUMULATIVE, target);
}

// [SECTION] Acks inside a transaction

void Client::Impl::acknowledge_in_txn(std::uint64_t consumer, const pulsar::MessageId& id,
                                      TxnRef txn, std::function<void(TxnError)> done) {
  ConsumerState& c = consumers_.at(consumer);
  const EntryKey key = key_of(id);
  const auto it = txns_.find(txn);
  if (it == txns_.end() || it->second.ending || c.closed || key.partition >= c.parts.size()) {
    const TxnError e = it == txns_.end() || it->second.ending ? TxnError::not_open
                                                              : TxnError::failed;
    defer_txn([done = std::move(done), e] { done(e); });
    return;
  }
  TxnState& t = it->second;
  const std::string& topic = c.parts[key.partition].binding.topic;
  if (!t.registered.contains(topic)) {
    auto& waiting = t.registering[topic];
    waiting.second.push_back(TxnAck{consumer, id, std::move(done)});
    if (waiting.first.size() + waiting.second.size() == 1) register_topic(txn, topic);
    return;
  }
  txn_ack_now(txn, TxnAck{consumer, id, std::move(done)});
}

void Client::Impl::txn_ack_now(TxnRef txn, TxnAck a) {
  ConsumerState& c = consumers_.at(a.consumer);
  TxnState& t = txns_.at(txn);
  const EntryKey key = key_of(a.id);
  const auto it = c.entries.find(key);
  // Not held here (acked already, or redelivered elsewhere after a reconnect): the
  // transaction cannot take it.
  if (c.closed || it == c.entries.end() || it->second.done) {
    t.failed = true;
    defer_txn([done = std::move(a.done)] { done(TxnError::failed); });
    return;
  }
  ConsumerEntry& e = it->second;
  if (e.txn != kNoTxn && e.txn != txn) {
    // Another open transaction acked part of this batch: one entry, one transaction.
    t.failed = true;
    defer_txn([done = std::move(a.done)] { done(TxnError::conflict); });
    return;
  }
  const auto n = static_cast<std::int32_t>(e.acked.size());
  for (std::int32_t i = 0; i < n; ++i) {
    if ((a.id.batch_index() < 0 || i == a.id.batch_index()) && !e.acked[i]) {
      e.acked[i] = true;
      ++e.acked_count;
    }
  }
  const std::pair<std::uint64_t, EntryKey> mine{a.consumer, key};
  if (e.acked_count < e.acked.size()) {
    if (e.txn == kNoTxn) {
      e.txn = txn;
      t.partial.push_back(mine);
    }
    defer_txn([done = std::move(a.done)] { done(TxnError::ok); });
    return;
  }
  if (e.txn == txn) std::erase(t.partial, mine);
  e.txn = kNoTxn;
  e.done = true;
  c.nacks.erase(key);
  ConsumerPartition& part = c.parts[key.partition];
  if (part.binding.state != BindState::connected) {
    // The broker redelivers it after the reconnect; this transaction lost it.
    t.failed = true;
    defer_txn([done = std::move(a.done)] { done(TxnError::failed); });
    forget_if_done(c, key);
    return;
  }
  const std::uint64_t request_id = new_request_id();
  out_.Clear();
  pulsar::Ack* ack = out_.mutable_ack();
  ack->set_consumer_id(part.binding.wire_id);
  ack->set_type(pulsar::INDIVIDUAL);
  *ack->add_message_ids() = entry_id(key);
  ack->mutable_txn()->set_most(txn.most);
  ack->mutable_txn()->set_least(txn.least);
  ack->set_request_id(request_id);
  txn_acks_[request_id] = TxnAckOut{txn, part.binding.broker, std::move(a.done)};
  ++t.outstanding;
  send_to(part.binding.broker, out_);
  forget_if_done(c, key);
}

// [SECTION] Redelivery: negative acks and ack timeout

void Client::Impl::negative_acknowledge(std::uint64_t consumer, const pulsar::MessageId& id) {
  ConsumerState& c = consumers_.at(consumer);
  const EntryKey key = key_of(id);
  if (c.closed) return;
  const auto it = c.entries.find(key);
  if (it == c.entries.end() || it->second.done || c.nacks.contains(key)) return;
  c.nacks[key] = rt_.now() + c.config.nack_redelivery_delay_ns;
  // The nack decides when it comes back; the ack timeout must not as well.
  it->second.handed_ns = 0;
  // Every nack waits the same delay, so an armed timer is already due first.
  if (c.nack_timer == 0) {
    c.nack_timer = rt_.after(c.config.nack_redelivery_delay_ns,
                             [this, consumer] { nack_tick(consumer); });
  }
}

void Client::Impl::nack_tick(std::uint64_t consumer) {
  ConsumerState& c = consumers_.at(consumer);
  c.nack_timer = 0;
  if (c.closed) return;
  const Nanos now = rt_.now();
  std::vector<EntryKey> due;
  Nanos next = std::numeric_limits<Nanos>::max();
  for (const auto& [key, at] : c.nacks) {
    if (at <= now) {
      due.push_back(key);
    } else {
      next = std::min(next, at);
    }
  }
  for (const EntryKey& key : due) c.nacks.erase(key);
  redeliver(c, due);
  if (next != std::numeric_limits<Nanos>::max()) {
    c.nack_timer = rt_.after(next - now, [this, consumer] { nack_tick(consumer); });
  }
}

void Client::Impl::ack_timeout_tick(std::uint64_t consumer) {
  ConsumerState& c = consumers_.at(consumer);
  c.ack_timer = 0;
  if (c.closed) return;
  const Nanos cutoff = rt_.now() - c.config.ack_timeout_ns;
  std::vector<EntryKey> expired;
  for (const auto& [key, e] : c.entries) {
    if (!e.done && e.handed_ns != 0 && e.handed_ns <= cutoff) expired.push_back(key);
  }
  redeliver(c, expired);
  c.ack_timer = rt_.after(std::max<Nanos>(c.config.ack_timeout_ns / 4, 1),
                          [this, consumer] { ack_timeout_tick(consumer); });
}

void Client::Impl::redeliver(ConsumerState& c, const std::vector<EntryKey>& keys) {
  if (keys.empty()) return;
  for (std::uint32_t p = 0; p < c.parts.size(); ++p) {
    std::vector<EntryKey> mine;
    for (const EntryKey& key : keys) {
      if (key.partition == p && c.entries.contains(key)) mine.push_back(key);
    }
    if (mine.empty()) continue;
    drop_queued(c, mine, p);
    const Binding& b = c.parts[p].binding;
    // Disconnected: the next subscription redelivers every unacked entry anyway.
    if (b.state != BindState::connected) continue;
    out_.Clear();
    pulsar::Redeliver* r = out_.mutable_redeliver();
    r->set_consumer_id(b.wire_id);
    for (const EntryKey& key : mine) *r->add_message_ids() = entry_id(key);
    send_to(b.broker, out_);
  }
}

void Client::Impl::drop_queued(ConsumerState& c, const std::vector<EntryKey>& keys,
                               std::uint32_t partition) {
  // keys come from ordered maps, so they are sorted.
  SL_ASSERT(std::is_sorted(keys.begin(), keys.end()));
  std::erase_if(c.queue, [&keys](const QueuedMessage& q) {
    return std::binary_search(keys.begin(), keys.end(), q.key);
  });
  for (const EntryKey& key : keys) {
    ConsumerEntry& e = c.entries.at(key);
    e.handed_ns = 0;  // It comes back; the clock restarts when it is handed out again.
    if (e.queued == 0) continue;
    // Its remaining messages leave the queue: its permit comes back, as the broker
    // spends one to deliver it again.
    e.queued = 0;
    finished_entry(c, partition);
  }
}

// [SECTION] Close

void Client::Impl::on_close_consumer(NodeId from, const pulsar::CloseConsumer& close) {
  if (close.request_id() != 0) return;  // About a close of ours: nothing waits for it.
  Binding* b = wire_binding(close.consumer_id(), false);
  if (b == nullptr || b->wire_id != close.consumer_id() || b->broker != from) return;
  if (b->state != BindState::connecting && b->state != BindState::connected) return;
  // The topic moved: resubscribe through a lookup; the broker already dropped us.
  lose(*b, /*rotate=*/false, /*send_close=*/false);
}

void Client::Impl::close_consumer(std::uint64_t consumer) {
  ConsumerState& c = consumers_.at(consumer);
  if (c.closed) return;
  c.closed = true;
  rt_.cancel(c.nack_timer);
  rt_.cancel(c.ack_timer);
  c.nack_timer = 0;
  c.ack_timer = 0;
  // Outstanding receives are never answered: the consumer is gone.
  c.waiting = 0;
  c.queue.clear();
  c.entries.clear();
  c.nacks.clear();
  close_binding(c.topic);
  for (ConsumerPartition& part : c.parts) close_binding(part.binding);
}

}  // namespace streamlab::client
