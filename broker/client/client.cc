#include "broker/client/client.h"

#include <utility>

#include "base/assert.h"
#include "broker/client/client_impl.h"
#include "broker/pulsar/wire.h"

// The facade, message dispatch and the plumbing the other files share (client_impl.h
// lists the files and the choices the contract leaves open).

namespace streamlab::client {

const char* to_string(SendError error) {
  switch (error) {
    case SendError::ok: return "ok";
    case SendError::timeout: return "timeout";
    case SendError::queue_full: return "queue full";
    case SendError::closed: return "closed";
    case SendError::failed: return "failed";
    case SendError::txn: return "transaction refused it";
  }
  return "?";
}

// [SECTION] Facade

Client::Client(Runtime& runtime, ClientConfig config)
    : impl_(std::make_unique<Impl>(runtime, std::move(config))) {}
Client::~Client() = default;

Producer& Client::create_producer(ProducerConfig config) {
  return impl_->create_producer(std::move(config));
}
Consumer& Client::subscribe(ConsumerConfig config) { return impl_->subscribe(std::move(config)); }
bool Client::handle(NodeId from, const pulsar::PulsarMessage& message) {
  return impl_->handle(from, message);
}
void Client::on_connection_broken(NodeId peer) { impl_->on_connection_broken(peer); }

void Client::init_transactions(const std::string& owner, std::function<void(TxnError)> done) {
  impl_->init_transactions(owner, std::move(done));
}
void Client::begin_transaction(std::int64_t timeout_ns,
                               std::function<void(TxnError, TxnRef)> done) {
  impl_->begin_transaction(timeout_ns, std::move(done));
}
void Client::commit(TxnRef txn, std::function<void(TxnError)> done) {
  impl_->end_transaction(txn, true, std::move(done));
}
void Client::abort(TxnRef txn, std::function<void(TxnError)> done) {
  impl_->end_transaction(txn, false, std::move(done));
}

void Producer::send(std::string_view key, std::string_view payload, std::uint64_t token) {
  impl_.send(id_, key, payload, token);
}
void Producer::send(std::string_view key, std::string_view payload, std::uint64_t token,
                    TxnRef txn) {
  SL_ASSERT_MSG(txn != kNoTxn, "a send in a transaction needs one");
  impl_.send_in_txn(id_, key, payload, token, txn);
}
std::size_t Producer::pending() const { return impl_.pending(id_); }
void Producer::close() { impl_.close_producer(id_); }

void Consumer::receive() { impl_.receive(id_); }
void Consumer::acknowledge(const pulsar::MessageId& id) { impl_.acknowledge(id_, id); }
void Consumer::acknowledge_cumulative(const pulsar::MessageId& id) {
  impl_.acknowledge_cumulative(id_, id);
}
void Consumer::negative_acknowledge(const pulsar::MessageId& id) {
  impl_.negative_acknowledge(id_, id);
}
void Consumer::acknowledge(const pulsar::MessageId& id, TxnRef txn,
                           std::function<void(TxnError)> done) {
  impl_.acknowledge_in_txn(id_, id, txn, std::move(done));
}
void Consumer::close() { impl_.close_consumer(id_); }

// [SECTION] Impl: life

Client::Impl::Impl(Runtime& runtime, ClientConfig config)
    : rt_(runtime),
      config_(std::move(config)),
      // Random, so a restarted client node does not reuse its previous incarnation's ids
      // and mistake a late reply for one to a new request. Never 0: a CloseProducer with
      // request_id 0 means the broker closed it.
      next_request_id_((rt_.random() >> 2) | 1),
      next_wire_id_((rt_.random() >> 2) | 1) {
  SL_ASSERT_MSG(!config_.brokers.empty(), "the client needs at least one service broker");
  SL_ASSERT_GT(config_.operation_timeout_ns, 0);
  SL_ASSERT_GT(config_.keepalive_ns, 0);
  SL_ASSERT_GT(config_.reconnect_backoff_ns, 0);
  for (const std::string& name : config_.brokers) {
    const NodeId id = rt_.node_id(name);
    SL_ASSERT_MSG(id != kNoNode, "client: unknown service broker");
    brokers_.push_back(id);
  }
}

// Timers capture `this`: none may outlive the client.
Client::Impl::~Impl() {
  rt_.cancel(drain_timer_);
  rt_.cancel(txn_drain_timer_);
  rt_.cancel(tc_lookup_timer_);
  for (const auto& [id, request] : tc_requests_) rt_.cancel(request.timeout);
  for (const auto& [id, request] : requests_) rt_.cancel(request.timeout);
  for (const auto& [broker, connection] : connections_) rt_.cancel(connection.keepalive);
  for (auto& [id, p] : producers_) {
    rt_.cancel(p.topic.retry_timer);
    rt_.cancel(p.timeout_timer);
    for (const ProducerPartition& part : p.parts) {
      rt_.cancel(part.binding.retry_timer);
      rt_.cancel(part.batch_timer);
    }
  }
  for (auto& [id, c] : consumers_) {
    rt_.cancel(c.topic.retry_timer);
    rt_.cancel(c.nack_timer);
    rt_.cancel(c.ack_timer);
    for (const ConsumerPartition& part : c.parts) rt_.cancel(part.binding.retry_timer);
  }
}

// [SECTION] Impl: dispatch

bool Client::Impl::handle(NodeId from, const pulsar::PulsarMessage& message) {
  // Any message is a sign of life for keepalive.
  if (const auto it = connections_.find(from); it != connections_.end()) {
    it->second.last_heard_ns = rt_.now();
  }
  using M = pulsar::PulsarMessage;
  switch (message.body_case()) {
    case M::kLookupResponse:
    case M::kError:
      if (!tc_on_lookup(from, message)) on_reply(from, message);
      return true;
    case M::kPartitionsResponse:
    case M::kProducerSuccess:
    case M::kSubscribeSuccess:
      on_reply(from, message);
      return true;
    case M::kSendReceipt:
      on_send_receipt(from, message.send_receipt());
      return true;
    case M::kSendError:
      on_send_error(from, message.send_error());
      return true;
    case M::kDelivery:
      on_delivery(from, message.delivery());
      return true;
    case M::kCloseProducer:
      on_close_producer(from, message.close_producer());
      return true;
    case M::kCloseConsumer:
      on_close_consumer(from, message.close_consumer());
      return true;
    case M::kPing:
      out_.Clear();
      out_.mutable_pong();
      send_to(from, out_);
      return true;
    case M::kPong:
      return true;
    case M::kTxnResponse:
      tc_on_response(from, message.txn_response());
      return true;
    case M::kAckResponse:
      on_ack_response(from, message.ack_response());
      return true;
    default:
      // Requests (Lookup, Send, ...) are for brokers, not for a client.
      return false;
  }
}

void Client::Impl::on_connection_broken(NodeId peer) { connection_lost(peer); }

// [SECTION] Impl: plumbing

void Client::Impl::defer_result(std::uint64_t producer, SendResult result) {
  deferred_.push_back(Deferred{producer, false, std::move(result)});
  if (drain_timer_ == 0) drain_timer_ = rt_.after(0, [this] { drain(); });
}

void Client::Impl::defer_pump(std::uint64_t consumer) {
  deferred_.push_back(Deferred{consumer, true, {}});
  if (drain_timer_ == 0) drain_timer_ = rt_.after(0, [this] { drain(); });
}

void Client::Impl::drain() {
  drain_timer_ = 0;
  // Callbacks may defer more (a send that fails at once, a receive): those land in
  // deferred_ and run from the next timer, never inside this round.
  draining_.swap(deferred_);
  for (Deferred& d : draining_) {
    if (d.pump) {
      pump(d.owner);
      continue;
    }
    const ProducerState& p = producers_.at(d.owner);
    if (p.config.on_result) p.config.on_result(d.result);
  }
  draining_.clear();
}

void Client::Impl::send_to(NodeId to, const pulsar::PulsarMessage& message) {
  pulsar::send_message(rt_, to, message, send_buffer_);
}

std::string Client::Impl::default_name() {
  return std::string(rt_.node_name(rt_.self())) + "-" + std::to_string(next_name_++);
}

Binding* Client::Impl::wire_binding(std::uint64_t wire_id, bool producer) {
  const auto it = wire_ids_.find(wire_id);
  if (it == wire_ids_.end() || it->second.producer != producer) return nullptr;
  return binding(it->second);
}

}  // namespace streamlab::client
