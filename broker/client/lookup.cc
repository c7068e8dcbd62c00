// Bindings and connections: how a producer's or consumer's partition finds its owner and
// stays bound to it (REFERENCE.md "Pulsar": topic ownership moves between brokers).
//
// A binding's life: lookup (PartitionsRequest at topic level, Lookup per partition) at a
// service broker -> follow redirects to the owner -> CreateProducer / Subscribe there ->
// connected. Any failure abandons the attempt and retries after a backoff that starts at
// reconnect_backoff_ns and doubles up to 30 times it (Pulsar's Backoff); success resets
// it. A lookup that times out or whose connection breaks moves on to the next service
// broker, wrapping around. Keepalive: while a binding is connecting or connected to a
// broker, the client pings it every keepalive_ns and counts the connection as broken
// after two keepalives without any message from it (a paused or partitioned broker
// keeps the TCP connection up, so only silence shows it).

#include <algorithm>

#include "base/assert.h"
#include "broker/client/client_impl.h"

namespace streamlab::client {

namespace {

// Redirects followed in one lookup before backing off: owners that keep pointing at each
// other (ownership moving while we ask) must not make the client spin.
constexpr std::uint32_t kMaxRedirects = 4;
// Pulsar's client backs off up to a bound; the contract says 30 times the first delay.
constexpr Nanos kMaxBackoffFactor = 30;

bool attached(const Binding& b) {
  return b.state == BindState::connecting || b.state == BindState::connected;
}

}  // namespace

// [SECTION] Finding bindings

Binding* Client::Impl::binding(const BindingRef& ref) {
  if (ref.producer) {
    const auto it = producers_.find(ref.owner);
    if (it == producers_.end()) return nullptr;
    if (ref.partition == kTopicLevel) return &it->second.topic;
    if (ref.partition >= it->second.parts.size()) return nullptr;
    return &it->second.parts[ref.partition].binding;
  }
  const auto it = consumers_.find(ref.owner);
  if (it == consumers_.end()) return nullptr;
  if (ref.partition == kTopicLevel) return &it->second.topic;
  if (ref.partition >= it->second.parts.size()) return nullptr;
  return &it->second.parts[ref.partition].binding;
}

// [SECTION] Lookup

void Client::Impl::start(Binding& b) {
  b.backoff_ns = config_.reconnect_backoff_ns;
  lookup(b);
}

void Client::Impl::lookup(Binding& b) {
  b.redirects = 0;
  ask(b, brokers_[b.service_index % brokers_.size()]);
}

void Client::Impl::ask(Binding& b, NodeId to) {
  b.state = BindState::looking_up;
  const std::uint64_t id = new_request_id();
  out_.Clear();
  if (b.ref.partition == kTopicLevel) {
    pulsar::PartitionsRequest* r = out_.mutable_partitions();
    r->set_request_id(id);
    r->set_topic(b.topic);
  } else {
    pulsar::Lookup* r = out_.mutable_lookup();
    r->set_request_id(id);
    r->set_topic(b.topic);
  }
  issue(b, to, out_, id);
}

void Client::Impl::issue(Binding& b, NodeId to, const pulsar::PulsarMessage& request,
                         std::uint64_t id) {
  SL_ASSERT_MSG(b.request == 0, "a binding has at most one request out");
  Request& r = requests_[id];
  SL_ASSERT_MSG(r.timeout == 0, "request id reused");
  r.ref = b.ref;
  r.broker = to;
  r.timeout = rt_.after(config_.operation_timeout_ns, [this, id] { on_request_timeout(id); });
  b.request = id;
  send_to(to, request);
}

Binding* Client::Impl::take_reply(NodeId from, std::uint64_t request_id) {
  const auto it = requests_.find(request_id);
  // Unknown: a late reply to an abandoned attempt, or to a close (which nothing awaits).
  if (it == requests_.end()) return nullptr;
  // Only the broker asked can answer.
  if (it->second.broker != from) return nullptr;
  const BindingRef ref = it->second.ref;
  rt_.cancel(it->second.timeout);
  requests_.erase(it);
  Binding* b = binding(ref);
  // abandon() erases its binding's request, so a request still out has a live binding.
  SL_ASSERT_NE(b, nullptr);
  SL_ASSERT(b->request == request_id);
  b->request = 0;
  return b;
}

void Client::Impl::on_reply(NodeId from, const pulsar::PulsarMessage& message) {
  using M = pulsar::PulsarMessage;
  std::uint64_t id = 0;
  switch (message.body_case()) {
    case M::kLookupResponse: id = message.lookup_response().request_id(); break;
    case M::kPartitionsResponse: id = message.partitions_response().request_id(); break;
    case M::kProducerSuccess: id = message.producer_success().request_id(); break;
    case M::kSubscribeSuccess: id = message.subscribe_success().request_id(); break;
    case M::kError: id = message.error().request_id(); break;
    default: SL_ASSERT_MSG(false, "on_reply: not a reply");
  }
  Binding* b = take_reply(from, id);
  if (b == nullptr) return;
  const bool topic_level = b->ref.partition == kTopicLevel;
  const bool looking_up = b->state == BindState::looking_up;
  const bool connecting = b->state == BindState::connecting;
  if (message.has_error()) {
    on_request_error(*b, message.error().error());
  } else if (message.has_lookup_response() && looking_up && !topic_level) {
    on_lookup_response(*b, from, message.lookup_response());
  } else if (message.has_partitions_response() && looking_up && topic_level) {
    on_partitions_response(*b, message.partitions_response());
  } else if (message.has_producer_success() && connecting && b->ref.producer) {
    bound(*b, message);
  } else if (message.has_subscribe_success() && connecting && !b->ref.producer) {
    bound(*b, message);
  } else {
    // A reply of the wrong kind is the broker's bug; the request is spent, so retry
    // rather than wait forever.
    on_request_error(*b, pulsar::SERVICE_NOT_READY);
  }
}

void Client::Impl::on_request_timeout(std::uint64_t request_id) {
  const auto it = requests_.find(request_id);
  if (it == requests_.end()) return;
  const BindingRef ref = it->second.ref;
  requests_.erase(it);
  Binding* b = binding(ref);
  SL_ASSERT_NE(b, nullptr);
  SL_ASSERT(b->request == request_id);
  b->request = 0;
  // No answer within operation_timeout: ask the next service broker. A CreateProducer or
  // Subscribe may still take effect there later, so it is closed.
  lose(*b, /*rotate=*/true, /*send_close=*/true);
}

void Client::Impl::on_lookup_response(Binding& b, NodeId from,
                                      const pulsar::LookupResponse& response) {
  if (response.error() != pulsar::NO_ERROR) {
    on_request_error(b, response.error());
    return;
  }
  if (!response.redirect()) {
    connect(b, from);  // The answering broker owns the topic.
    return;
  }
  // The owner is elsewhere: ask it, and it answers for itself (its answer, not the
  // redirecting broker's possibly stale view, decides where we connect).
  const NodeId owner = rt_.node_id(response.broker());
  if (owner == kNoNode || ++b.redirects > kMaxRedirects) {
    lose(b, /*rotate=*/false, /*send_close=*/false);
    return;
  }
  ask(b, owner);
}

void Client::Impl::on_partitions_response(Binding& b, const pulsar::PartitionsResponse& response) {
  if (response.error() != pulsar::NO_ERROR) {
    on_request_error(b, response.error());
    return;
  }
  b.state = BindState::resolved;
  if (b.ref.producer) {
    producer_partitions(producers_.at(b.ref.owner), response.partitions());
  } else {
    consumer_partitions(consumers_.at(b.ref.owner), response.partitions());
  }
}

void Client::Impl::on_request_error(Binding& b, pulsar::ServerError error) {
  switch (error) {
    case pulsar::MALFORMED_REQUEST:
      SL_ASSERT_MSG(false, "a broker found a client request malformed: a client bug");
      break;
    case pulsar::PRODUCER_BUSY:
    case pulsar::CONSUMER_BUSY:
      // The previous holder (often our own abandoned attempt) may be going away: ask the
      // same broker again after the backoff.
      if (b.state == BindState::connecting) {
        const NodeId target = b.broker;
        abandon(b, /*send_close=*/false);
        b.retry_broker = target;
        retry(b, RetryVia::connect, /*rotate=*/false);
        return;
      }
      break;
    default:
      // TOPIC_NOT_OWNED, SERVICE_NOT_READY, TOPIC_FENCED, METADATA_ERROR and the rest:
      // ownership may be moving or loading; look the topic up again after the backoff.
      break;
  }
  abandon(b, /*send_close=*/false);
  retry(b, RetryVia::lookup, /*rotate=*/false);
}

// [SECTION] Connect, abandon, retry

void Client::Impl::connect(Binding& b, NodeId broker) {
  SL_ASSERT(!attached(b));
  b.state = BindState::connecting;
  b.broker = broker;
  b.wire_id = new_wire_id();
  wire_ids_[b.wire_id] = b.ref;
  bind_connection(broker);
  const std::uint64_t request_id = new_request_id();
  if (b.ref.producer) {
    send_create_producer(b, request_id);
  } else {
    send_subscribe(b, request_id);
  }
}

void Client::Impl::bound(Binding& b, const pulsar::PulsarMessage& reply) {
  SL_ASSERT_EQ(b.state, BindState::connecting);
  b.state = BindState::connected;
  b.backoff_ns = config_.reconnect_backoff_ns;
  if (b.ref.producer) {
    producer_connected(b, reply.producer_success());
  } else {
    consumer_connected(b);
  }
}

void Client::Impl::abandon(Binding& b, bool send_close) {
  if (b.request != 0) {
    const auto it = requests_.find(b.request);
    SL_ASSERT_NE(it, requests_.end());
    rt_.cancel(it->second.timeout);
    requests_.erase(it);
    b.request = 0;
  }
  rt_.cancel(b.retry_timer);
  b.retry_timer = 0;
  const bool was_attached = attached(b);
  if (was_attached) {
    if (send_close) {
      // Fire-and-forget (client_impl.h): frees the name or the exclusive subscription.
      out_.Clear();
      if (b.ref.producer) {
        out_.mutable_close_producer()->set_producer_id(b.wire_id);
        out_.mutable_close_producer()->set_request_id(new_request_id());
      } else {
        out_.mutable_close_consumer()->set_consumer_id(b.wire_id);
        out_.mutable_close_consumer()->set_request_id(new_request_id());
      }
      send_to(b.broker, out_);
    }
    release_connection(b.broker);
    if (b.ref.producer) {
      remember_wire_id(producers_.at(b.ref.owner).parts[b.ref.partition], b.wire_id);
    } else {
      wire_ids_.erase(b.wire_id);
    }
    b.wire_id = 0;
    b.broker = kNoNode;
  }
  b.state = BindState::backoff;
  if (!was_attached) return;
  if (b.ref.producer) {
    producer_unbound(b);
  } else {
    consumer_unbound(b);
  }
}

void Client::Impl::retry(Binding& b, RetryVia via, bool rotate) {
  SL_ASSERT_EQ(b.state, BindState::backoff);
  SL_ASSERT_EQ(b.retry_timer, 0);
  if (rotate) b.service_index = (b.service_index + 1) % brokers_.size();
  b.retry_via = via;
  const Nanos delay = b.backoff_ns;
  b.backoff_ns = std::min(b.backoff_ns * 2, config_.reconnect_backoff_ns * kMaxBackoffFactor);
  const BindingRef ref = b.ref;
  b.retry_timer = rt_.after(delay, [this, ref] {
    Binding* again = binding(ref);
    if (again == nullptr || again->state != BindState::backoff) return;
    again->retry_timer = 0;
    if (again->retry_via == RetryVia::connect) {
      connect(*again, again->retry_broker);
    } else {
      lookup(*again);
    }
  });
}

void Client::Impl::lose(Binding& b, bool rotate, bool send_close) {
  abandon(b, send_close);
  retry(b, RetryVia::lookup, rotate);
}

void Client::Impl::close_binding(Binding& b) {
  if (b.state == BindState::closed) return;
  abandon(b, /*send_close=*/true);
  b.state = BindState::closed;
}

// [SECTION] Connections and keepalive

void Client::Impl::bind_connection(NodeId broker) {
  Connection& c = connections_[broker];
  if (c.bound++ > 0) return;
  // A new binding starts the clock: silence is counted from now.
  c.last_heard_ns = rt_.now();
  SL_ASSERT_EQ(c.keepalive, 0);
  c.keepalive = rt_.after(config_.keepalive_ns, [this, broker] { keepalive_tick(broker); });
}

void Client::Impl::release_connection(NodeId broker) {
  Connection& c = connections_.at(broker);
  SL_ASSERT_GT(c.bound, 0);
  if (--c.bound > 0) return;
  rt_.cancel(c.keepalive);
  c.keepalive = 0;
}

void Client::Impl::keepalive_tick(NodeId broker) {
  Connection& c = connections_.at(broker);
  c.keepalive = 0;
  if (c.bound == 0) return;
  if (rt_.now() - c.last_heard_ns >= 2 * config_.keepalive_ns) {
    connection_lost(broker);
    return;
  }
  out_.Clear();
  out_.mutable_ping();
  send_to(broker, out_);
  c.keepalive = rt_.after(config_.keepalive_ns, [this, broker] { keepalive_tick(broker); });
}

void Client::Impl::connection_lost(NodeId broker) {
  tc_lost(broker);
  // Requests out to it fail as if they timed out (the next lookup asks the next service
  // broker). Ids first: failing one changes the map.
  std::vector<std::uint64_t> ids;
  for (const auto& [id, r] : requests_) {
    if (r.broker == broker) ids.push_back(id);
  }
  for (const std::uint64_t id : ids) {
    const auto it = requests_.find(id);
    if (it == requests_.end()) continue;
    rt_.cancel(it->second.timeout);
    on_request_timeout(id);
  }
  // Everything bound there reconnects. In map order, so the run stays deterministic.
  std::vector<BindingRef> lost;
  for (const auto& [id, p] : producers_) {
    for (const ProducerPartition& part : p.parts) {
      if (attached(part.binding) && part.binding.broker == broker) lost.push_back(part.binding.ref);
    }
  }
  for (const auto& [id, c] : consumers_) {
    for (const ConsumerPartition& part : c.parts) {
      if (attached(part.binding) && part.binding.broker == broker) lost.push_back(part.binding.ref);
    }
  }
  for (const BindingRef& ref : lost) {
    Binding* b = binding(ref);
    if (b == nullptr || !attached(*b) || b->broker != broker) continue;
    // If the lost broker is also the service broker we would ask first, start elsewhere.
    const bool rotate = brokers_[b->service_index % brokers_.size()] == broker;
    lose(*b, rotate, /*send_close=*/true);
  }
}

}  // namespace streamlab::client
