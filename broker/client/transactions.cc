// Transactions, client side (REFERENCE.md "Pulsar transactions (PIP-31)"): finding the
// coordinator, its requests, registering each partition with a transaction before its
// first send or ack there, and ending transactions once every operation was answered.
//
// The coordinator is found with a Lookup of pulsar::kTxnCoordinator at the service
// brokers, as a topic is. A request is sent to it and retried, at the coordinator the next
// lookup finds, when it answers NOT_COORDINATOR, when the connection breaks or an attempt
// goes unanswered, until operation_timeout has passed since the request was made: the
// coordinator's requests are idempotent except TxnNew, whose extra transaction times out.

#include <algorithm>
#include <utility>

#include "base/assert.h"
#include "broker/client/client_impl.h"
#include "broker/pulsar/wire.h"

namespace streamlab::client {

namespace {

constexpr std::uint32_t kMaxRedirects = 4;
// An attempt's share of the operation timeout: a paused coordinator costs this much
// before the client asks the service brokers again.
constexpr Nanos kAttemptsPerTimeout = 4;

TxnError txn_error(pulsar::ServerError e) {
  switch (e) {
    case pulsar::NO_ERROR: return TxnError::ok;
    case pulsar::TXN_NOT_OPEN: return TxnError::not_open;
    case pulsar::TXN_FENCED: return TxnError::fenced;
    case pulsar::TXN_CONFLICT: return TxnError::conflict;
    case pulsar::TXN_DISABLED: return TxnError::disabled;
    case pulsar::SERVICE_NOT_READY: return TxnError::timeout;
    default: return TxnError::failed;
  }
}

void set_request_id(pulsar::PulsarMessage& m, std::uint64_t id) {
  using M = pulsar::PulsarMessage;
  switch (m.body_case()) {
    case M::kTxnInitOwner: m.mutable_txn_init_owner()->set_request_id(id); return;
    case M::kTxnNew: m.mutable_txn_new()->set_request_id(id); return;
    case M::kTxnAddPart: m.mutable_txn_add_part()->set_request_id(id); return;
    case M::kTxnEnd: m.mutable_txn_end()->set_request_id(id); return;
    default: SL_ASSERT_MSG(false, "not a coordinator request");
  }
}

void set_txn(pulsar::TxnId* id, TxnRef txn) {
  id->set_most(txn.most);
  id->set_least(txn.least);
}

}  // namespace

const char* to_string(TxnError error) {
  switch (error) {
    case TxnError::ok: return "ok";
    case TxnError::not_open: return "not open";
    case TxnError::fenced: return "fenced";
    case TxnError::conflict: return "conflict";
    case TxnError::timeout: return "timeout";
    case TxnError::disabled: return "disabled";
    case TxnError::failed: return "failed";
  }
  return "?";
}

std::string to_string(const TxnRef& txn) {
  return "(" + std::to_string(txn.most) + "," + std::to_string(txn.least) + ")";
}

// [SECTION] The API

void Client::Impl::init_transactions(const std::string& owner,
                                     std::function<void(TxnError)> done) {
  SL_ASSERT_MSG(!owner.empty(), "init_transactions needs an owner");
  pulsar::PulsarMessage m;
  m.mutable_txn_init_owner()->set_owner(owner);
  tc_call(std::move(m), [this, owner, done](const pulsar::TxnResponse& r) {
    if (r.error() == pulsar::NO_ERROR) {
      txn_owner_ = owner;
      txn_epoch_ = r.epoch();
    }
    done(txn_error(r.error()));
  });
}

void Client::Impl::begin_transaction(std::int64_t timeout_ns,
                                     std::function<void(TxnError, TxnRef)> done) {
  SL_ASSERT_GT(timeout_ns, 0);
  pulsar::PulsarMessage m;
  pulsar::TxnNew* n = m.mutable_txn_new();
  n->set_owner(txn_owner_);
  n->set_epoch(txn_epoch_);
  n->set_timeout_ns(timeout_ns);
  tc_call(std::move(m), [this, done](const pulsar::TxnResponse& r) {
    if (r.error() != pulsar::NO_ERROR) {
      done(txn_error(r.error()), TxnRef{});
      return;
    }
    const TxnRef txn{r.txn().most(), r.txn().least()};
    txns_.try_emplace(txn);
    done(TxnError::ok, txn);
  });
}

void Client::Impl::end_transaction(TxnRef txn, bool commit, std::function<void(TxnError)> done) {
  const auto it = txns_.find(txn);
  if (it == txns_.end() || it->second.ending) {
    defer_txn([done = std::move(done)] { done(TxnError::not_open); });
    return;
  }
  it->second.ending = true;
  it->second.commit = commit;
  it->second.end_done = std::move(done);
  // From a zero-delay timer: the caller gets its answer after the call returns.
  defer_txn([this, txn] { maybe_end(txn); });
}

// [SECTION] Operations inside a transaction

void Client::Impl::register_topic(TxnRef txn, const std::string& topic) {
  pulsar::PulsarMessage m;
  pulsar::TxnAddPart* a = m.mutable_txn_add_part();
  set_txn(a->mutable_txn(), txn);
  a->set_epoch(txn_epoch_);
  a->set_topic(topic);
  tc_call(std::move(m), [this, txn, topic](const pulsar::TxnResponse& r) {
    registered(txn, topic, txn_error(r.error()));
  });
}

void Client::Impl::registered(TxnRef txn, const std::string& topic, TxnError error) {
  const auto it = txns_.find(txn);
  SL_ASSERT_MSG(it != txns_.end(), "client: a transaction ended while registering");
  TxnState& t = it->second;
  auto waiting = std::move(t.registering.at(topic));
  t.registering.erase(topic);
  if (error == TxnError::ok) {
    t.registered.insert(topic);
    for (TxnSend& s : waiting.first) {
      ProducerState& p = producers_.at(s.producer);
      add_message(p, s.partition, s.key, s.payload, s.token, s.created_ns, txn);
    }
    for (TxnAck& a : waiting.second) txn_ack_now(txn, std::move(a));
  } else {
    t.failed = true;
    for (const TxnSend& s : waiting.first) {
      ProducerState& p = producers_.at(s.producer);
      SendResult r;
      r.token = s.token;
      r.error = SendError::txn;
      defer_result(s.producer, std::move(r));
      SL_ASSERT_GT(p.pending, 0);
      --p.pending;
    }
    for (TxnAck& a : waiting.second) {
      defer_txn([done = std::move(a.done), error] { done(error); });
    }
  }
  maybe_end(txn);
}

void Client::Impl::on_ack_response(NodeId from, const pulsar::AckResponse& response) {
  const auto it = txn_acks_.find(response.request_id());
  if (it == txn_acks_.end() || it->second.broker != from) return;
  TxnAckOut out = std::move(it->second);
  txn_acks_.erase(it);
  const TxnError error = txn_error(response.error());
  out.done(error);
  txn_op_done(out.txn, error == TxnError::ok);
}

void Client::Impl::txn_op_done(TxnRef txn, bool ok) {
  const auto it = txns_.find(txn);
  if (it == txns_.end()) return;
  SL_ASSERT(it->second.outstanding > 0);
  --it->second.outstanding;
  if (!ok) it->second.failed = true;
  maybe_end(txn);
}

// [SECTION] Ending

void Client::Impl::maybe_end(TxnRef txn) {
  const auto it = txns_.find(txn);
  if (it == txns_.end()) return;
  TxnState& t = it->second;
  if (!t.ending || t.outstanding != 0 || !t.registering.empty() || !t.end_done) return;
  std::function<void(TxnError)> done = std::move(t.end_done);
  t.end_done = nullptr;
  if (t.commit && (t.failed || !t.partial.empty())) {
    send_end(txn, false, [done](TxnError) { done(TxnError::failed); });
    return;
  }
  send_end(txn, t.commit, std::move(done));
}

void Client::Impl::send_end(TxnRef txn, bool commit, std::function<void(TxnError)> done) {
  pulsar::PulsarMessage m;
  pulsar::TxnEnd* e = m.mutable_txn_end();
  set_txn(e->mutable_txn(), txn);
  e->set_epoch(txn_epoch_);
  e->set_commit(commit);
  tc_call(std::move(m), [this, txn, done](const pulsar::TxnResponse& r) {
    // Batches it acked in part were not acked at all: they come back whole.
    for (const auto& [consumer, key] : txns_.at(txn).partial) {
      const auto c = consumers_.find(consumer);
      if (c == consumers_.end()) continue;
      const auto e = c->second.entries.find(key);
      if (e == c->second.entries.end() || e->second.txn != txn) continue;
      e->second.txn = kNoTxn;
      e->second.acked.assign(e->second.acked.size(), false);
      e->second.acked_count = 0;
      redeliver(c->second, {key});
    }
    txns_.erase(txn);
    done(txn_error(r.error()));
  });
}

// [SECTION] Coordinator requests

void Client::Impl::tc_call(pulsar::PulsarMessage message,
                           std::function<void(const pulsar::TxnResponse&)> done) {
  const std::uint64_t id = new_request_id();
  set_request_id(message, id);
  TcRequest& r = tc_requests_[id];
  r.message = std::move(message);
  r.done = std::move(done);
  r.deadline_ns = rt_.now() + config_.operation_timeout_ns;
  tc_transmit(id);
}

// Answers a request as the coordinator would have refused it (SERVICE_NOT_READY: nobody
// answered in time).
void Client::Impl::tc_fail(std::uint64_t request_id, pulsar::ServerError error) {
  const auto it = tc_requests_.find(request_id);
  SL_ASSERT_NE(it, tc_requests_.end());
  rt_.cancel(it->second.timeout);
  std::function<void(const pulsar::TxnResponse&)> done = std::move(it->second.done);
  tc_requests_.erase(it);
  pulsar::TxnResponse r;
  r.set_request_id(request_id);
  r.set_error(error);
  done(r);
}

void Client::Impl::tc_transmit(std::uint64_t request_id) {
  TcRequest& r = tc_requests_.at(request_id);
  rt_.cancel(r.timeout);
  r.timeout = 0;
  r.sent_to = kNoNode;
  if (tc_broker_ == kNoNode) {
    tc_lookup();
    return;
  }
  r.sent_to = tc_broker_;
  const Nanos attempt = std::max<Nanos>(
      1, std::min(r.deadline_ns - rt_.now(), config_.operation_timeout_ns / kAttemptsPerTimeout));
  r.timeout = rt_.after(attempt, [this, request_id] { tc_attempt_timeout(request_id); });
  send_to(tc_broker_, r.message);
}

void Client::Impl::tc_attempt_timeout(std::uint64_t request_id) {
  const auto it = tc_requests_.find(request_id);
  if (it == tc_requests_.end()) return;
  it->second.timeout = 0;
  if (rt_.now() >= it->second.deadline_ns) {
    tc_fail(request_id, pulsar::SERVICE_NOT_READY);
    return;
  }
  // Silence: the coordinator may be paused or gone; ask who runs it now.
  if (tc_broker_ == it->second.sent_to) tc_broker_ = kNoNode;
  tc_transmit(request_id);
}

void Client::Impl::tc_on_response(NodeId from, const pulsar::TxnResponse& response) {
  const auto it = tc_requests_.find(response.request_id());
  if (it == tc_requests_.end() || it->second.sent_to != from) return;
  TcRequest& r = it->second;
  rt_.cancel(r.timeout);
  r.timeout = 0;
  if (response.error() == pulsar::NOT_COORDINATOR) {
    if (tc_broker_ == from) tc_broker_ = kNoNode;
    if (rt_.now() < r.deadline_ns) {
      // The coordinator is moving: give it a moment, then look it up again.
      const std::uint64_t id = response.request_id();
      r.sent_to = kNoNode;
      r.timeout = rt_.after(config_.reconnect_backoff_ns, [this, id] {
        tc_requests_.at(id).timeout = 0;
        tc_transmit(id);
      });
      return;
    }
  }
  std::function<void(const pulsar::TxnResponse&)> done = std::move(r.done);
  tc_requests_.erase(it);
  done(response);
}

// [SECTION] Finding the coordinator

void Client::Impl::tc_lookup() {
  if (tc_lookup_ != 0 || tc_lookup_timer_ != 0) return;  // Asking, or backing off.
  // Requests that waited for a coordinator past their deadline time out.
  std::vector<std::uint64_t> expired;
  for (const auto& [id, r] : tc_requests_) {
    if (r.sent_to == kNoNode && r.timeout == 0 && rt_.now() >= r.deadline_ns) expired.push_back(id);
  }
  for (const std::uint64_t id : expired) tc_fail(id, pulsar::SERVICE_NOT_READY);
  tc_redirects_ = 0;
  tc_ask(brokers_[tc_service_index_ % brokers_.size()]);
}

void Client::Impl::tc_ask(NodeId broker) {
  const std::uint64_t id = new_request_id();
  tc_lookup_ = id;
  tc_lookup_to_ = broker;
  out_.Clear();
  pulsar::Lookup* l = out_.mutable_lookup();
  l->set_request_id(id);
  l->set_topic(pulsar::kTxnCoordinator);
  tc_lookup_timer_ = rt_.after(config_.operation_timeout_ns / kAttemptsPerTimeout, [this, id] {
    tc_lookup_timer_ = 0;
    if (tc_lookup_ != id) return;
    tc_lookup_ = 0;
    ++tc_service_index_;
    tc_lookup();
  });
  send_to(broker, out_);
}

bool Client::Impl::tc_on_lookup(NodeId from, const pulsar::PulsarMessage& message) {
  std::uint64_t id = 0;
  pulsar::ServerError error = pulsar::NO_ERROR;
  if (message.has_lookup_response()) {
    id = message.lookup_response().request_id();
    error = message.lookup_response().error();
  } else if (message.has_error()) {
    id = message.error().request_id();
    error = message.error().error();
  }
  if (tc_lookup_ == 0 || id != tc_lookup_ || from != tc_lookup_to_) return false;
  rt_.cancel(tc_lookup_timer_);
  tc_lookup_timer_ = 0;
  tc_lookup_ = 0;
  const auto waiting = [this] {
    std::vector<std::uint64_t> ids;
    for (const auto& [rid, r] : tc_requests_) {
      if (r.sent_to == kNoNode && r.timeout == 0) ids.push_back(rid);
    }
    return ids;
  };
  if (error == pulsar::TXN_DISABLED) {
    for (const std::uint64_t rid : waiting()) tc_fail(rid, pulsar::TXN_DISABLED);
    return true;
  }
  const bool redirect = message.has_lookup_response() && message.lookup_response().redirect();
  const NodeId target =
      redirect ? rt_.node_id(message.lookup_response().broker()) : kNoNode;
  if (error == pulsar::NO_ERROR && redirect && target != kNoNode &&
      ++tc_redirects_ <= kMaxRedirects) {
    tc_ask(target);
    return true;
  }
  if (error != pulsar::NO_ERROR || redirect) {
    // Back off, then start again at the next service broker.
    ++tc_service_index_;
    tc_lookup_timer_ = rt_.after(config_.reconnect_backoff_ns, [this, waiting] {
      tc_lookup_timer_ = 0;
      if (!waiting().empty()) tc_lookup();
    });
    return true;
  }
  tc_broker_ = from;
  for (const std::uint64_t rid : waiting()) tc_transmit(rid);
  return true;
}

void Client::Impl::tc_lost(NodeId broker) {
  if (tc_lookup_ != 0 && tc_lookup_to_ == broker) {
    rt_.cancel(tc_lookup_timer_);
    tc_lookup_timer_ = 0;
    tc_lookup_ = 0;
    ++tc_service_index_;
  }
  if (tc_broker_ == broker) tc_broker_ = kNoNode;
  std::vector<std::uint64_t> resend;
  for (const auto& [id, r] : tc_requests_) {
    if (r.sent_to == broker) resend.push_back(id);
  }
  for (const std::uint64_t id : resend) tc_transmit(id);
  std::vector<std::uint64_t> lost;
  for (const auto& [id, a] : txn_acks_) {
    if (a.broker == broker) lost.push_back(id);
  }
  for (const std::uint64_t id : lost) {
    TxnAckOut out = std::move(txn_acks_.at(id));
    txn_acks_.erase(id);
    out.done(TxnError::failed);
    txn_op_done(out.txn, false);
  }
  bool any_waiting = false;
  for (const auto& [id, r] : tc_requests_) any_waiting |= r.sent_to == kNoNode && r.timeout == 0;
  if (any_waiting) tc_lookup();
}

// [SECTION] Deferred callbacks

void Client::Impl::defer_txn(std::function<void()> fn) {
  txn_deferred_.push_back(std::move(fn));
  if (txn_drain_timer_ != 0) return;
  txn_drain_timer_ = rt_.after(0, [this] {
    txn_drain_timer_ = 0;
    std::vector<std::function<void()>> ready = std::move(txn_deferred_);
    txn_deferred_.clear();
    for (auto& fn : ready) fn();
  });
}

}  // namespace streamlab::client
