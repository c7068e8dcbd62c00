#include "broker/pulsar/broker.h"

#include <utility>

#include "base/assert.h"
#include "broker/pulsar/wire.h"
#include "broker/storage/wire.h"

namespace streamlab::pulsar {

using storage::MetaResult;

namespace {

constexpr std::int64_t kRejectLingerNs = 50'000'000;

std::string owner_key(const std::string& topic) { return "/topics/" + topic + "/owner"; }

}  // namespace

Broker::Broker(Runtime& runtime, BrokerConfig config)
    : rt_(runtime),
      config_(std::move(config)),
      metadata_(runtime, config_.metadata),
      ledgers_(runtime, metadata_, config_.ledger,
               [this](const storage::AddResult& r) {
                 const auto it = router_.sinks.find(r.ledger_id);
                 if (it != router_.sinks.end()) it->second->on_add(r);
               }),
      services_{runtime,
                metadata_,
                ledgers_,
                router_,
                config_,
                std::string(runtime.node_name(runtime.self())),
                [this](NodeId to, const PulsarMessage& m) { send_message(rt_, to, m, buffer_); }},
      timers_(runtime) {
  SL_ASSERT_MSG(storage::check_quorums(config_.ledger_options.quorums).empty(),
                "broker: the topics' quorums must satisfy E >= Qw >= Qa >= 1");
}

// Topics go first: they hold references into the clients and the router.
Broker::~Broker() {
  coordinator_.reset();
  topics_.clear();
}

void Broker::on_start() {
  metadata_.start([this](storage::SessionEvent e) { session_event(e); },
                  [](const storage::WatchEvent&) {});
  timers_.after(config_.keepalive_ns, [this] { keepalive(); });
}

std::string Broker::owner_value() const {
  return services_.name + "/" + std::to_string(metadata_.session_id());
}

std::vector<std::string> Broker::owned_topics() const {
  std::vector<std::string> out;
  for (const auto& [name, topic] : topics_) {
    if (topic->state() == Topic::State::ready) out.push_back(name);
  }
  return out;
}

// ---- Messages ------------------------------------------------------------------------------

void Broker::on_message(NodeId from, std::span<const std::uint8_t> bytes) {
  if (is_pulsar_message(bytes)) {
    if (!parse_message(bytes, &in_)) {
      reject(from, "the message does not parse");
      return;
    }
    handle(from, in_);
    return;
  }
  if (!storage::parse_message(bytes, &storage_in_) ||
      (!metadata_.handle(from, storage_in_) && !ledgers_.handle(from, storage_in_))) {
    reject(from, "the message is not for a broker");
  }
}

// A peer that sends garbage gets an error, then its connection is closed: what it sent
// after may be garbage too. The close waits a little so the error can arrive first.
void Broker::reject(NodeId from, const std::string& why) {
  ++malformed_;
  reply_error(from, 0, MALFORMED_REQUEST, why);
  timers_.after(kRejectLingerNs, [this, from] { rt_.disconnect(from); });
}

void Broker::reply_error(NodeId to, std::uint64_t request_id, ServerError error,
                         const std::string& text) {
  out_.Clear();
  Error* e = out_.mutable_error();
  e->set_request_id(request_id);
  e->set_error(error);
  e->set_message(text);
  send_message(rt_, to, out_, buffer_);
}

// Dispatch only: each message's work is in a handler of its concern's section below, so
// that this switch reads as the list of what a broker serves.
void Broker::handle(NodeId from, const PulsarMessage& message) {
  switch (message.body_case()) {
    case PulsarMessage::kLookup:
      lookup(from, message.lookup());
      return;
    case PulsarMessage::kPartitions:
      partitions(from, message.partitions());
      return;
    case PulsarMessage::kCreateProducer:
      create_producer(from, message.create_producer());
      return;
    case PulsarMessage::kSend:
      publish(from, message.send());
      return;
    case PulsarMessage::kCloseProducer:
      close_producer(from, message.close_producer());
      return;
    case PulsarMessage::kSubscribe:
      subscribe(from, message.subscribe());
      return;
    case PulsarMessage::kAck:
      if (message.ack().has_txn()) {
        txn_ack(from, message.ack());
        return;
      }
      [[fallthrough]];
    case PulsarMessage::kFlow:
    case PulsarMessage::kRedeliver:
      consumer_command(from, message);
      return;
    case PulsarMessage::kCloseConsumer:
      close_consumer(from, message.close_consumer());
      return;
    case PulsarMessage::kPing:
      pong(from);
      return;
    case PulsarMessage::kPong:
      return;
    case PulsarMessage::kTxnInitOwner:
    case PulsarMessage::kTxnNew:
    case PulsarMessage::kTxnAddPart:
    case PulsarMessage::kTxnEnd:
      coordinator_request(from, message);
      return;
    case PulsarMessage::kTxnMarker:
      marker_request(from, message.txn_marker());
      return;
    case PulsarMessage::kTxnMarkerResponse:
      marker_response(message.txn_marker_response());
      return;
    default:
      reject(from, "not a request a broker serves");
      return;
  }
}

void Broker::pong(NodeId to) {
  out_.Clear();
  out_.mutable_pong();
  send_message(rt_, to, out_, buffer_);
}

// ---- Lookup and ownership ------------------------------------------------------------------

void Broker::lookup(NodeId from, const Lookup& request) {
  const std::uint64_t request_id = request.request_id();
  acquire(request.topic(), [this, from, request_id](ServerError e, const std::string& redirect) {
    out_.Clear();
    LookupResponse* r = out_.mutable_lookup_response();
    r->set_request_id(request_id);
    if (!redirect.empty()) {
      r->set_broker(redirect);
      r->set_redirect(true);
    } else if (e == NO_ERROR) {
      r->set_broker(services_.name);
    } else {
      r->set_error(e);
    }
    send_message(rt_, from, out_, buffer_);
  });
}

void Broker::partitions(NodeId from, const PartitionsRequest& request) {
  out_.Clear();
  PartitionsResponse* r = out_.mutable_partitions_response();
  r->set_request_id(request.request_id());
  const auto it = config_.partitioned_topics.find(request.topic());
  r->set_partitions(it == config_.partitioned_topics.end() ? 0 : it->second);
  send_message(rt_, from, out_, buffer_);
}

bool Broker::served_here(const std::string& topic, const Acquired& done) {
  if (topic == kTxnCoordinator) {
    if (coordinator_ == nullptr) return false;
    if (coordinator_->state() == TxnCoordinator::State::closing) {
      timers_.after(0, [done] { done(SERVICE_NOT_READY, ""); });
    } else {
      coordinator_->when_ready([done](ServerError e) { done(e, ""); });
    }
    return true;
  }
  const auto loaded = topics_.find(topic);
  if (loaded == topics_.end()) return false;
  if (loaded->second->state() == Topic::State::closing) {
    timers_.after(0, [done] { done(SERVICE_NOT_READY, ""); });
  } else {
    loaded->second->when_ready([done](ServerError e) { done(e, ""); });
  }
  return true;
}

void Broker::acquire(const std::string& topic, Acquired done) {
  if (topic == kTxnCoordinator && !config_.transactions) {
    timers_.after(0, [done] { done(TXN_DISABLED, ""); });
    return;
  }
  if (served_here(topic, done)) return;
  if (!metadata_.has_session() || topic.empty()) {
    timers_.after(0, [done, topic] { done(topic.empty() ? MALFORMED_REQUEST : SERVICE_NOT_READY, ""); });
    return;
  }
  const std::string key = owner_key(topic);
  metadata_.get(key, false, [this, topic, key, done](const MetaResult& r) {
    const auto serve = [this, topic, done] {
      // A request that raced this one may have loaded it (or started closing it).
      if (served_here(topic, done)) return;
      if (topic == kTxnCoordinator) {
        coordinator_ = std::make_unique<TxnCoordinator>(
            services_,
            [this](const std::string& t, TxnKey txn, bool commit,
                   std::function<void(ServerError)> stored) {
              deliver_marker(t, txn, commit, std::move(stored));
            },
            [this](bool fenced) { coordinator_closed(fenced); });
        coordinator_->load();
        coordinator_->when_ready([done](ServerError e) { done(e, ""); });
        return;
      }
      load(topic).when_ready([done](ServerError e) { done(e, ""); });
    };
    if (r.status == storage::META_OK) {
      if (r.value == owner_value()) {
        serve();
        return;
      }
      const std::string owner = r.value.substr(0, r.value.find('/'));
      // Our own key from a session that has expired: it goes soon; ask again then.
      done(owner == services_.name ? SERVICE_NOT_READY : TOPIC_NOT_OWNED,
           owner == services_.name ? "" : owner);
      return;
    }
    if (r.status != storage::NO_KEY) {
      done(METADATA_ERROR, "");
      return;
    }
    metadata_.create(key, owner_value(), true, [this, topic, serve, done](const MetaResult& c) {
      if (c.status == storage::META_OK) {
        rt_.note(topic + ": took ownership");
        serve();
      } else if (c.status == storage::KEY_EXISTS) {
        // Taken meanwhile, by another broker or by a request of ours: ask again.
        acquire(topic, done);
      } else {
        done(METADATA_ERROR, "");
      }
    });
  });
}

std::uint32_t Broker::partition_of(const std::string& topic) const {
  const std::size_t at = topic.rfind("-partition-");
  if (at == std::string::npos) return 0;
  const std::string digits = topic.substr(at + 11);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) return 0;
  return static_cast<std::uint32_t>(std::stoul(digits));
}

Topic& Broker::load(const std::string& topic) {
  auto& slot = topics_[topic];
  if (slot == nullptr) {
    slot = std::make_unique<Topic>(services_, topic, partition_of(topic),
                                   [this, topic](bool fenced) { topic_closed(topic, fenced); });
    slot->load();
  }
  return *slot;
}

// By value: the caller's copy of the name dies with the topic.
void Broker::topic_closed(std::string topic, bool fenced) {
  rt_.note(topic + (fenced ? ": closed, fenced (another broker has it)" : ": closed"));
  for (auto it = producers_.begin(); it != producers_.end();) {
    it = it->second == topic ? producers_.erase(it) : std::next(it);
  }
  for (auto it = consumers_.begin(); it != consumers_.end();) {
    it = it->second == topic ? consumers_.erase(it) : std::next(it);
  }
  topics_.erase(topic);
  if (fenced) release(topic);
}

// Storage says another broker has the topic: our key, if it is still there, must go.
void Broker::release(const std::string& topic) {
  const std::string key = owner_key(topic);
  metadata_.get(key, false, [this, key](const MetaResult& r) {
    if (r.status == storage::META_OK && r.value == owner_value()) {
      metadata_.remove(key, r.version, [](const MetaResult&) {});
    }
  });
}

// Giving up ownership (REFERENCE.md): with the session gone, so are the owner keys.
void Broker::session_event(storage::SessionEvent event) {
  if (event != storage::SessionEvent::expired) return;
  rt_.note("session expired: gives up every topic");
  for (auto& [name, topic] : topics_) topic->close(false);
  if (coordinator_ != nullptr) coordinator_->close(false);
}

// ---- Transactions --------------------------------------------------------------------------

void Broker::coordinator_request(NodeId from, const PulsarMessage& message) {
  clients_.insert(from);
  if (coordinator_ != nullptr) {
    coordinator_->handle(from, message);
    return;
  }
  out_.Clear();
  TxnResponse* r = out_.mutable_txn_response();
  r->set_request_id(coordinator_request_id(message));
  r->set_error(config_.transactions ? NOT_COORDINATOR : TXN_DISABLED);
  send_message(rt_, from, out_, buffer_);
}

void Broker::txn_ack(NodeId from, const Ack& ack) {
  const ClientRef ref{from, ack.consumer_id()};
  const std::uint64_t request_id = ack.request_id();
  const auto answer = [this, from, ref, request_id](ServerError e) {
    out_.Clear();
    AckResponse* r = out_.mutable_ack_response();
    r->set_consumer_id(ref.id);
    r->set_request_id(request_id);
    r->set_error(e);
    send_message(rt_, from, out_, buffer_);
  };
  const auto it = consumers_.find(ref);
  const auto topic = it == consumers_.end() ? topics_.end() : topics_.find(it->second);
  if (topic == topics_.end()) {
    answer(TOPIC_NOT_OWNED);
    return;
  }
  topic->second->txn_ack(ref, ack, answer);
}

void Broker::marker_request(NodeId from, const TxnMarkerRequest& request) {
  const std::uint64_t request_id = request.request_id();
  const auto answer = [this, from, request_id](ServerError e) {
    out_.Clear();
    TxnMarkerResponse* r = out_.mutable_txn_marker_response();
    r->set_request_id(request_id);
    r->set_error(e);
    send_message(rt_, from, out_, buffer_);
  };
  const std::string topic = request.topic();
  const TxnKey txn = txn_key(request.txn());
  const bool commit = request.commit();
  acquire(topic, [this, topic, txn, commit, answer](ServerError e, const std::string& redirect) {
    const auto it = topics_.find(topic);
    if (!redirect.empty() || e != NO_ERROR || it == topics_.end()) {
      answer(e == NO_ERROR ? TOPIC_NOT_OWNED : e);
      return;
    }
    it->second->end_txn(txn, commit, answer);
  });
}

void Broker::marker_response(const TxnMarkerResponse& response) {
  const auto it = marker_requests_.find(response.request_id());
  if (it == marker_requests_.end()) return;
  MarkerRequest request = std::move(it->second);
  marker_requests_.erase(it);
  timers_.cancel(request.timer);
  request.done(response.error());
}

void Broker::deliver_marker(const std::string& topic, TxnKey txn, bool commit,
                            std::function<void(ServerError)> done) {
  acquire(topic, [this, topic, txn, commit, done](ServerError e, const std::string& redirect) {
    if (redirect.empty()) {
      const auto it = topics_.find(topic);
      if (e != NO_ERROR || it == topics_.end()) {
        done(e == NO_ERROR ? SERVICE_NOT_READY : e);
        return;
      }
      it->second->end_txn(txn, commit, done);
      return;
    }
    const NodeId owner = rt_.node_id(redirect);
    if (owner == kNoNode) {
      done(SERVICE_NOT_READY);
      return;
    }
    const std::uint64_t id = next_marker_request_++;
    MarkerRequest& request = marker_requests_[id];
    request.broker = owner;
    request.done = done;
    request.timer = timers_.after(config_.txn_marker_timeout_ns, [this, id] {
      const auto it = marker_requests_.find(id);
      if (it == marker_requests_.end()) return;
      std::function<void(ServerError)> late = std::move(it->second.done);
      marker_requests_.erase(it);
      late(SERVICE_NOT_READY);
    });
    out_.Clear();
    TxnMarkerRequest* m = out_.mutable_txn_marker();
    m->set_request_id(id);
    set_txn_id(m->mutable_txn(), txn);
    m->set_topic(topic);
    m->set_commit(commit);
    send_message(rt_, owner, out_, buffer_);
  });
}

void Broker::coordinator_closed(bool fenced) {
  coordinator_.reset();
  if (fenced) release(kTxnCoordinator);
}

// ---- Producers and consumers ---------------------------------------------------------------

void Broker::create_producer(NodeId from, const CreateProducer& request) {
  clients_.insert(from);
  acquire(request.topic(), [this, from, request](ServerError e, const std::string& redirect) {
    const auto topic = topics_.find(request.topic());
    if (!redirect.empty() || e != NO_ERROR || topic == topics_.end()) {
      reply_error(from, request.request_id(), e == NO_ERROR ? TOPIC_NOT_OWNED : e,
                  redirect.empty() ? "" : "owned by " + redirect);
      return;
    }
    const ClientRef ref{from, request.producer_id()};
    const ServerError added = topic->second->add_producer(ref, request.producer_name());
    if (added != NO_ERROR) {
      reply_error(from, request.request_id(), added, "");
      return;
    }
    producers_[ref] = request.topic();
    out_.Clear();
    ProducerSuccess* s = out_.mutable_producer_success();
    s->set_request_id(request.request_id());
    s->set_producer_name(request.producer_name());
    s->set_last_sequence_id(topic->second->last_sequence(request.producer_name()));
    send_message(rt_, from, out_, buffer_);
  });
}

void Broker::subscribe(NodeId from, const Subscribe& request) {
  clients_.insert(from);
  acquire(request.topic(), [this, from, request](ServerError e, const std::string& redirect) {
    const auto topic = topics_.find(request.topic());
    if (!redirect.empty() || e != NO_ERROR || topic == topics_.end()) {
      reply_error(from, request.request_id(), e == NO_ERROR ? TOPIC_NOT_OWNED : e,
                  redirect.empty() ? "" : "owned by " + redirect);
      return;
    }
    const ClientRef ref{from, request.consumer_id()};
    topic->second->subscribe(ref, request, [this, from, ref, request](ServerError added) {
      if (added != NO_ERROR) {
        reply_error(from, request.request_id(), added, "");
        return;
      }
      consumers_[ref] = request.topic();
      out_.Clear();
      out_.mutable_subscribe_success()->set_request_id(request.request_id());
      send_message(rt_, from, out_, buffer_);
    });
  });
}

// A send from a producer this broker does not serve (never created here, closed, or its
// topic given up) is answered with TOPIC_NOT_OWNED, so that the client reconnects and
// resends rather than waiting for a receipt that never comes.
void Broker::publish(NodeId from, const Send& send) {
  const ClientRef ref{from, send.producer_id()};
  const auto it = producers_.find(ref);
  const auto topic = it == producers_.end() ? topics_.end() : topics_.find(it->second);
  if (topic == topics_.end()) {
    out_.Clear();
    SendError* e = out_.mutable_send_error();
    e->set_producer_id(ref.id);
    e->set_sequence_id(send.sequence_id());
    e->set_error(TOPIC_NOT_OWNED);
    send_message(rt_, from, out_, buffer_);
    return;
  }
  topic->second->publish(ref, send);
}

void Broker::close_producer(NodeId from, const CloseProducer& request) {
  const ClientRef ref{from, request.producer_id()};
  const auto it = producers_.find(ref);
  if (it == producers_.end()) return;
  if (const auto topic = topics_.find(it->second); topic != topics_.end()) {
    topic->second->remove_producer(ref);
  }
  producers_.erase(it);
}

// The consumer's subscription, or null when this broker does not serve the consumer (it
// was never subscribed here, was closed, or its topic is gone).
Subscription* Broker::subscription_of(ClientRef consumer) {
  const auto it = consumers_.find(consumer);
  if (it == consumers_.end()) return nullptr;
  const auto topic = topics_.find(it->second);
  if (topic == topics_.end()) return nullptr;
  return topic->second->subscription_of(consumer);
}

// Flow, a non-transactional ack, or redeliver: they carry no request id, so one for a
// consumer not served here is dropped without a reply.
void Broker::consumer_command(NodeId from, const PulsarMessage& message) {
  const std::uint64_t id = message.has_flow()  ? message.flow().consumer_id()
                           : message.has_ack() ? message.ack().consumer_id()
                                               : message.redeliver().consumer_id();
  const ClientRef ref{from, id};
  Subscription* sub = subscription_of(ref);
  if (sub == nullptr) return;
  if (message.has_flow()) {
    sub->flow(ref, message.flow().permits());
  } else if (message.has_ack()) {
    sub->ack(ref, message.ack());
  } else {
    sub->redeliver(ref, message.redeliver());
  }
}

void Broker::close_consumer(NodeId from, const CloseConsumer& request) {
  const ClientRef ref{from, request.consumer_id()};
  const auto it = consumers_.find(ref);
  if (it == consumers_.end()) return;
  if (const auto topic = topics_.find(it->second); topic != topics_.end()) {
    topic->second->remove_consumer(ref);
  }
  consumers_.erase(it);
}

// Pings find clients that went away without a word: a send to them breaks.
void Broker::keepalive() {
  out_.Clear();
  out_.mutable_ping();
  for (const NodeId client : clients_) send_message(rt_, client, out_, buffer_);
  timers_.after(config_.keepalive_ns, [this] { keepalive(); });
}

void Broker::on_connection_broken(NodeId peer) {
  metadata_.on_connection_broken(peer);
  ledgers_.on_connection_broken(peer);
  std::vector<std::function<void(ServerError)>> failed;
  for (auto it = marker_requests_.begin(); it != marker_requests_.end();) {
    if (it->second.broker != peer) {
      ++it;
      continue;
    }
    timers_.cancel(it->second.timer);
    failed.push_back(std::move(it->second.done));
    it = marker_requests_.erase(it);
  }
  for (auto& done : failed) done(SERVICE_NOT_READY);
  if (clients_.erase(peer) == 0) return;
  for (auto& [name, topic] : topics_) topic->client_lost(peer);
  for (auto it = producers_.begin(); it != producers_.end();) {
    it = it->first.node == peer ? producers_.erase(it) : std::next(it);
  }
  for (auto it = consumers_.begin(); it != consumers_.end();) {
    it = it->first.node == peer ? consumers_.erase(it) : std::next(it);
  }
  // The client's own connection to us may look healthy (a sender learns of breaks), and
  // an idle consumer sends nothing that would show it was dropped: it would wait for
  // deliveries forever. Breaking both directions tells it, as a closed TCP connection
  // would, and it subscribes again.
  rt_.disconnect(peer);
}

}  // namespace streamlab::pulsar
