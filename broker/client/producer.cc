// The producer (REFERENCE.md "Pulsar": batching, deduplication by producer name and
// sequence id). Per partition: an open batch fills until batching_max_messages,
// batching_max_bytes or batching_max_publish_delay since its first message, then becomes
// one entry in the pending queue and is sent if connected. Receipts complete batches
// from the head of the queue. After a reconnect every pending batch is sent again with
// the same sequence ids, so the broker's deduplication drops those it already stored
// (resend = false: those already sent fail instead, at most once).

#include <algorithm>
#include <limits>

#include "base/assert.h"
#include "broker/client/client_impl.h"
#include "broker/pulsar/wire.h"

namespace streamlab::client {

namespace {

// FNV-1a over the key: routing must not change between runs, builds or platforms,
// which std::hash does not promise.
std::uint64_t key_hash(std::string_view key) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char ch : key) {
    h ^= static_cast<std::uint8_t>(ch);
    h *= 0x100000001b3ULL;
  }
  return h;
}

// A batch's keys and payloads stay below the protocol's frame bound with room for the
// Send and EntryData headers (pulsar::kMaxMessageBytes; a broker refuses larger frames).
constexpr std::size_t kMaxBatchBytes = pulsar::kMaxMessageBytes - (64u << 10);

// Abandoned producer ids whose late receipts still complete pending messages. Receipts
// come from the last connection or two; older ids have long gone quiet.
constexpr std::size_t kRecentWireIds = 4;

}  // namespace

// [SECTION] Creation and routing

Producer& Client::Impl::create_producer(ProducerConfig config) {
  SL_ASSERT_MSG(!config.topic.empty(), "a producer needs a topic");
  SL_ASSERT_GE(config.batching_max_publish_delay_ns, 0);
  SL_ASSERT_GE(config.batching_max_messages, 1);
  SL_ASSERT_GE(config.batching_max_bytes, 1);
  SL_ASSERT_MSG(config.batching_max_bytes <= kMaxBatchBytes, "batches beyond the frame bound");
  SL_ASSERT_GE(config.max_pending_messages, 1);
  const std::uint64_t id = next_owner_id_++;
  ProducerState& p = producers_[id];
  p.handle.reset(new Producer(*this, id));
  p.name = config.name.empty() ? default_name() : config.name;
  p.config = std::move(config);
  p.topic.ref = BindingRef{id, kTopicLevel, true};
  p.topic.topic = p.config.topic;
  start(p.topic);
  return *p.handle;
}

void Client::Impl::producer_partitions(ProducerState& p, std::uint32_t partitions) {
  SL_ASSERT(p.parts.empty());
  // Bindings are found by index from here on: the vector never changes size again.
  p.parts.resize(std::max<std::uint32_t>(partitions, 1));
  for (std::uint32_t i = 0; i < p.parts.size(); ++i) {
    Binding& b = p.parts[i].binding;
    b.ref = BindingRef{p.topic.ref.owner, i, true};
    b.topic = partitions == 0 ? p.config.topic : pulsar::partition_name(p.config.topic, i);
    b.service_index = p.topic.service_index + (config_.spread_lookups ? i : 0);
  }
  for (const Unrouted& u : p.unrouted) {
    add_message(p, route(p, u.key), u.key, u.payload, u.token, u.created_ns, u.txn);
  }
  p.unrouted.clear();
  for (ProducerPartition& part : p.parts) start(part.binding);
}

std::uint32_t Client::Impl::route(ProducerState& p, std::string_view key) {
  const auto n = static_cast<std::uint32_t>(p.parts.size());
  SL_ASSERT_GT(n, 0);
  if (n == 1) return 0;
  if (!key.empty()) return static_cast<std::uint32_t>(key_hash(key) % n);
  return p.round_robin % n;
}

// [SECTION] Sending and batching

void Client::Impl::send(std::uint64_t producer, std::string_view key, std::string_view payload,
                        std::uint64_t token) {
  send_in_txn(producer, key, payload, token, kNoTxn);
}

// kNoTxn sends outside a transaction.
void Client::Impl::send_in_txn(std::uint64_t producer, std::string_view key,
                               std::string_view payload, std::uint64_t token, TxnRef txn) {
  // Pulsar refuses messages over maxMessageSize; here it is the caller's bug.
  SL_ASSERT_MSG(key.size() + payload.size() <= kMaxBatchBytes, "message beyond the frame bound");
  ProducerState& p = producers_.at(producer);
  if (p.closed || p.pending >= p.config.max_pending_messages) {
    SendResult r;
    r.token = token;
    r.error = p.closed ? SendError::closed : SendError::queue_full;
    defer_result(producer, std::move(r));
    return;
  }
  if (txn != kNoTxn && !txns_.contains(txn)) {
    SendResult r;
    r.token = token;
    r.error = SendError::txn;
    defer_result(producer, std::move(r));
    return;
  }
  ++p.pending;
  const Nanos now = rt_.now();
  if (p.parts.empty()) {
    p.unrouted.push_back(Unrouted{std::string(key), std::string(payload), token, now, txn});
  } else {
    add_message(p, route(p, key), key, payload, token, now, txn);
  }
  arm_send_timeout(p);
}

void Client::Impl::add_message(ProducerState& p, std::uint32_t partition, std::string_view key,
                               std::string_view payload, std::uint64_t token,
                               Nanos created_ns, TxnRef txn) {
  const std::uint64_t owner = p.topic.ref.owner;
  ProducerPartition& part = p.parts[partition];
  if (txn != kNoTxn) {
    TxnState& t = txns_.at(txn);
    if (!t.registered.contains(part.binding.topic)) {
      // Registered first (Pulsar's client does the same): held until the coordinator
      // knows the partition belongs to the transaction.
      auto& waiting = t.registering[part.binding.topic];
      waiting.first.push_back(TxnSend{owner, partition, std::string(key), std::string(payload),
                                      token, created_ns});
      if (waiting.first.size() + waiting.second.size() == 1) {
        register_topic(txn, part.binding.topic);
      }
      return;
    }
    ++t.outstanding;
  }
  const auto size = static_cast<std::uint32_t>(key.size() + payload.size());
  // A message that would push the batch past its byte bound, or is in another
  // transaction than the batch's, starts the next one.
  if (!part.open.tokens.empty() &&
      (part.open.txn != txn || part.open.bytes + size > p.config.batching_max_bytes)) {
    flush(owner, partition);
  }
  Batch& b = part.open;
  if (b.tokens.empty()) {
    b.first_seq = part.next_seq;
    b.created_ns = created_ns;
    b.txn = txn;
    if (txn != kNoTxn) {
      b.entry.mutable_txn()->set_most(b.txn.most);
      b.entry.mutable_txn()->set_least(b.txn.least);
    } else {
      b.entry.clear_txn();
    }
  }
  rt_.charge(Work::produce, size);
  pulsar::SingleMessage* m = b.entry.add_messages();
  m->set_sequence_id(part.next_seq++);
  m->set_key(key.data(), key.size());
  m->set_payload(payload.data(), payload.size());
  m->set_publish_time_ns(created_ns);
  b.tokens.push_back(token);
  b.bytes += size;
  const ProducerConfig& config = p.config;
  if (config.batching_max_publish_delay_ns == 0 || b.size() >= config.batching_max_messages ||
      b.bytes >= config.batching_max_bytes) {
    flush(owner, partition);
    return;
  }
  // The linger: a batch waits at most this long after its first message.
  if (b.size() == 1) {
    SL_ASSERT_EQ(part.batch_timer, 0);
    part.batch_timer = rt_.after(config.batching_max_publish_delay_ns, [this, owner, partition] {
      producers_.at(owner).parts[partition].batch_timer = 0;
      flush(owner, partition);
    });
  }
}

void Client::Impl::flush(std::uint64_t producer, std::uint32_t partition) {
  ProducerState& p = producers_.at(producer);
  ProducerPartition& part = p.parts[partition];
  rt_.cancel(part.batch_timer);
  part.batch_timer = 0;
  if (part.open.tokens.empty()) return;
  Batch& b = part.pending.emplace_back(std::move(part.open));
  part.open = Batch{};
  b.entry.set_sequence_id(b.first_seq);
  b.entry.set_highest_sequence_id(b.last_seq());
  // Keyless messages stay on one partition for a whole batch, then move on (Pulsar's
  // round-robin router with batching), so batches fill instead of splitting N ways.
  const auto n = static_cast<std::uint32_t>(p.parts.size());
  if (partition == p.round_robin % n) p.round_robin = (p.round_robin + 1) % n;
  if (part.binding.state == BindState::connected) transmit(part, b);
}

void Client::Impl::transmit(ProducerPartition& part, Batch& batch) {
  SL_ASSERT_EQ(part.binding.state, BindState::connected);
  batch.entry.set_producer_name(part.name);
  pulsar::Send* s = send_out_.mutable_send();
  s->set_producer_id(part.binding.wire_id);
  s->set_sequence_id(batch.first_seq);
  s->set_highest_sequence_id(batch.last_seq());
  s->set_num_messages(batch.size());
  if (batch.txn != kNoTxn) {
    s->mutable_txn()->set_most(batch.txn.most);
    s->mutable_txn()->set_least(batch.txn.least);
  } else {
    s->clear_txn();
  }
  const bool serialized = batch.entry.SerializeToString(s->mutable_entry());
  SL_ASSERT(serialized);
  send_to(part.binding.broker, send_out_);
  batch.transmitted = true;
  part.transmitted_any = true;
}

// [SECTION] Connection events

void Client::Impl::send_create_producer(Binding& b, std::uint64_t request_id) {
  const ProducerState& p = producers_.at(b.ref.owner);
  ProducerPartition& part = producers_.at(b.ref.owner).parts[b.ref.partition];
  // A non-idempotent producer takes a fresh name after each connection, so the broker's
  // deduplication cannot recognise its resends (the unsafe knob, on purpose). The
  // separator is '~', which names ("<node>-<n>") and partition topics do not use, so
  // the workload's history and checker recover the configured name as the part before
  // the first '~' (workloads/queue_checker.h).
  part.name = p.config.idempotent || part.connections == 0
                  ? p.name
                  : p.name + "~" + std::to_string(part.connections);
  out_.Clear();
  pulsar::CreateProducer* r = out_.mutable_create_producer();
  r->set_request_id(request_id);
  r->set_producer_id(b.wire_id);
  r->set_topic(b.topic);
  r->set_producer_name(part.name);
  issue(b, b.broker, out_, request_id);
}

void Client::Impl::producer_connected(Binding& b, const pulsar::ProducerSuccess& success) {
  ProducerPartition& part = producers_.at(b.ref.owner).parts[b.ref.partition];
  ++part.connections;
  // A producer name the topic already holds messages from (a restarted client): continue
  // after them, or deduplication would drop our first messages as already stored. Only
  // while nothing went out: after that our own sequence is what the broker has seen.
  const std::int64_t last = success.last_sequence_id();
  if (!part.transmitted_any && last >= 0) {
    std::uint64_t seq = static_cast<std::uint64_t>(last) + 1;
    const auto renumber = [&seq](Batch& batch) {
      batch.first_seq = seq;
      for (pulsar::SingleMessage& m : *batch.entry.mutable_messages()) m.set_sequence_id(seq++);
      if (batch.tokens.empty()) return;
      batch.entry.set_sequence_id(batch.first_seq);
      batch.entry.set_highest_sequence_id(batch.last_seq());
    };
    for (Batch& batch : part.pending) renumber(batch);
    renumber(part.open);
    part.next_seq = seq;
  }
  for (Batch& batch : part.pending) transmit(part, batch);
}

void Client::Impl::producer_unbound(Binding& b) {
  ProducerState& p = producers_.at(b.ref.owner);
  ProducerPartition& part = p.parts[b.ref.partition];
  // Sends go out in order and only while connected, so the batches sent on the lost
  // connection are a prefix of the queue.
  while (!p.config.resend && !part.pending.empty() && part.pending.front().transmitted) {
    complete_batch(p, b.ref.partition, part.pending.front(), SendError::failed, nullptr);
    part.pending.pop_front();
  }
  for (Batch& batch : part.pending) batch.transmitted = false;
}

void Client::Impl::remember_wire_id(ProducerPartition& part, std::uint64_t wire_id) {
  part.old_wire_ids.push_back(wire_id);
  if (part.old_wire_ids.size() <= kRecentWireIds) return;
  wire_ids_.erase(part.old_wire_ids.front());
  part.old_wire_ids.erase(part.old_wire_ids.begin());
}

// [SECTION] Broker replies

void Client::Impl::on_send_receipt(NodeId from, const pulsar::SendReceipt& receipt) {
  // From any broker and any recent connection: a receipt means the broker stored it.
  Binding* b = wire_binding(receipt.producer_id(), true);
  if (b == nullptr) return;
  ProducerState& p = producers_.at(b->ref.owner);
  if (p.closed) return;  // Its pending messages already failed with `closed`.
  const std::uint32_t partition = b->ref.partition;
  std::deque<Batch>& pending = p.parts[partition].pending;
  const auto it = std::find_if(pending.begin(), pending.end(), [&receipt](const Batch& batch) {
    return batch.first_seq == receipt.sequence_id() &&
           batch.last_seq() == receipt.highest_sequence_id();
  });
  // Not pending: a duplicate receipt (a resend's, after the first one completed it) or
  // one for a batch that already timed out.
  if (it == pending.end()) return;
  // Receipts come in order per connection, so a receipt past the head only happens when
  // earlier batches' receipts went to a connection we abandoned or they failed there.
  // Nothing says whether those are stored: they fail (outcome unknown), never claim ok.
  const auto skipped = static_cast<std::size_t>(it - pending.begin());
  for (std::size_t i = 0; i < skipped; ++i) {
    complete_batch(p, partition, pending.front(), SendError::failed, nullptr);
    pending.pop_front();
  }
  pulsar::SendReceipt filled = receipt;
  if (filled.broker().empty()) filled.set_broker(std::string(rt_.node_name(from)));
  complete_batch(p, partition, pending.front(), SendError::ok, &filled);
  pending.pop_front();
}

void Client::Impl::on_send_error(NodeId from, const pulsar::SendError& error) {
  Binding* b = wire_binding(error.producer_id(), true);
  if (b == nullptr || b->wire_id != error.producer_id() || b->broker != from ||
      b->state != BindState::connected) {
    return;  // About an abandoned connection: already reconnecting.
  }
  if (error.error() == pulsar::TXN_NOT_OPEN || error.error() == pulsar::TXN_DISABLED) {
    // Its transaction cannot take it, here or anywhere: resending would not help.
    ProducerState& p = producers_.at(b->ref.owner);
    std::deque<Batch>& pending = p.parts[b->ref.partition].pending;
    const auto it = std::find_if(pending.begin(), pending.end(), [&error](const Batch& batch) {
      return batch.first_seq == error.sequence_id();
    });
    if (it == pending.end()) return;
    complete_batch(p, b->ref.partition, *it, SendError::txn, nullptr);
    pending.erase(it);
    return;
  }
  // The broker could not store it (persistence error, fenced topic): reconnect, and the
  // resends find out what was stored.
  lose(*b, /*rotate=*/false, /*send_close=*/true);
}

void Client::Impl::on_close_producer(NodeId from, const pulsar::CloseProducer& close) {
  if (close.request_id() != 0) return;  // About a close of ours: nothing waits for it.
  Binding* b = wire_binding(close.producer_id(), true);
  if (b == nullptr || b->wire_id != close.producer_id() || b->broker != from) return;
  if (b->state != BindState::connecting && b->state != BindState::connected) return;
  // The topic moved or was fenced: look it up again; the broker already dropped it.
  lose(*b, /*rotate=*/false, /*send_close=*/false);
}

void Client::Impl::complete_batch(ProducerState& p, std::uint32_t partition, const Batch& batch,
                                  SendError error, const pulsar::SendReceipt* receipt) {
  for (std::uint32_t i = 0; i < batch.size(); ++i) {
    SendResult r;
    r.token = batch.tokens[i];
    r.sequence_id = batch.first_seq + i;
    r.error = error;
    if (receipt != nullptr) {
      r.message_id = receipt->message_id();
      r.message_id.set_batch_index(static_cast<std::int32_t>(i));
      r.message_id.set_partition(partition);
      r.broker = receipt->broker();
      r.duplicate = receipt->duplicate();
    }
    defer_result(p.topic.ref.owner, std::move(r));
    if (batch.txn != kNoTxn) txn_op_done(batch.txn, error == SendError::ok);
  }
  SL_ASSERT_GE(p.pending, batch.size());
  p.pending -= batch.size();
}

// [SECTION] Send timeout and close

void Client::Impl::arm_send_timeout(ProducerState& p) {
  if (p.config.send_timeout_ns <= 0 || p.timeout_timer != 0 || p.closed) return;
  // One timer per producer, for the oldest message: the queue is FIFO per partition, so
  // the oldest is at a head.
  Nanos oldest = std::numeric_limits<Nanos>::max();
  if (!p.unrouted.empty()) oldest = p.unrouted.front().created_ns;
  for (const ProducerPartition& part : p.parts) {
    if (!part.pending.empty()) {
      oldest = std::min(oldest, part.pending.front().created_ns);
    } else if (!part.open.tokens.empty()) {
      oldest = std::min(oldest, part.open.created_ns);
    }
  }
  if (oldest == std::numeric_limits<Nanos>::max()) return;
  const Nanos delay = std::max<Nanos>(0, oldest + p.config.send_timeout_ns - rt_.now());
  const std::uint64_t owner = p.topic.ref.owner;
  p.timeout_timer = rt_.after(delay, [this, owner] { send_timeout_tick(owner); });
}

void Client::Impl::send_timeout_tick(std::uint64_t producer) {
  ProducerState& p = producers_.at(producer);
  p.timeout_timer = 0;
  if (p.closed) return;
  // A batch is one entry, stored whole or not at all: it times out as a whole, when its
  // first (oldest) message does.
  const Nanos cutoff = rt_.now() - p.config.send_timeout_ns;
  while (!p.unrouted.empty() && p.unrouted.front().created_ns <= cutoff) {
    SendResult r;
    r.token = p.unrouted.front().token;
    r.error = SendError::timeout;
    defer_result(producer, std::move(r));
    --p.pending;
    p.unrouted.pop_front();
  }
  for (std::uint32_t i = 0; i < p.parts.size(); ++i) {
    ProducerPartition& part = p.parts[i];
    while (!part.pending.empty() && part.pending.front().created_ns <= cutoff) {
      complete_batch(p, i, part.pending.front(), SendError::timeout, nullptr);
      part.pending.pop_front();
    }
    if (!part.open.tokens.empty() && part.open.created_ns <= cutoff) {
      rt_.cancel(part.batch_timer);
      part.batch_timer = 0;
      complete_batch(p, i, part.open, SendError::timeout, nullptr);
      part.open = Batch{};
    }
  }
  arm_send_timeout(p);
}

std::size_t Client::Impl::pending(std::uint64_t producer) const {
  return producers_.at(producer).pending;
}

void Client::Impl::close_producer(std::uint64_t producer) {
  ProducerState& p = producers_.at(producer);
  if (p.closed) return;
  p.closed = true;
  rt_.cancel(p.timeout_timer);
  p.timeout_timer = 0;
  for (const Unrouted& u : p.unrouted) {
    SendResult r;
    r.token = u.token;
    r.error = SendError::closed;
    defer_result(producer, std::move(r));
    --p.pending;
  }
  p.unrouted.clear();
  // Transactional sends still waiting for their partition's registration.
  for (auto& [txn, t] : txns_) {
    for (auto& [topic, waiting] : t.registering) {
      std::vector<TxnSend>& sends = waiting.first;
      for (const TxnSend& held : sends) {
        if (held.producer != producer) continue;
        SendResult r;
        r.token = held.token;
        r.error = SendError::closed;
        defer_result(producer, std::move(r));
        --p.pending;
      }
      std::erase_if(sends, [producer](const TxnSend& held) { return held.producer == producer; });
    }
  }
  for (std::uint32_t i = 0; i < p.parts.size(); ++i) {
    ProducerPartition& part = p.parts[i];
    rt_.cancel(part.batch_timer);
    part.batch_timer = 0;
    for (const Batch& batch : part.pending) complete_batch(p, i, batch, SendError::closed, nullptr);
    part.pending.clear();
    if (!part.open.tokens.empty()) complete_batch(p, i, part.open, SendError::closed, nullptr);
    part.open = Batch{};
  }
  SL_ASSERT_EQ(p.pending, 0);
  close_binding(p.topic);
  for (ProducerPartition& part : p.parts) close_binding(part.binding);
}

}  // namespace streamlab::client
