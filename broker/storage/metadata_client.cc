#include "broker/storage/metadata_client.h"

#include <utility>

#include "base/assert.h"
#include "broker/storage/wire.h"

// Choices the header does not spell out:
// - NOT_READY (the store is recovering or overloaded) is retried here every
//   kNotReadyRetryNs until the request timeout; callers never see it.
// - A broken connection fails the requests in flight with CONNECTION_LOSS but keeps the
//   session (ZooKeeper: disconnected is not expired); heartbeats go on and reconnect.
// - Watches are not registered again after a store restart: the owner sees the broken
//   connection itself and must get with watch again.
// - The heartbeat interval is a third of the requested timeout. The store may raise a
//   short timeout to its minimum (heartbeats are then only more frequent than needed) or
//   cut a long one to its maximum (keep session_timeout_ns below the store's maximum).

namespace streamlab::storage {

namespace {

constexpr Nanos kReopenBackoffNs = 100'000'000;
constexpr Nanos kNotReadyRetryNs = 50'000'000;
// Requests in flight; beyond it new ones complete at once with CONNECTION_LOSS.
constexpr std::size_t kMaxPending = 10'000;

MetaResult result_of(const MetaResponse& response) {
  MetaResult result;
  result.status = response.status();
  result.value = response.value();
  result.version = response.version();
  result.keys.assign(response.keys().begin(), response.keys().end());
  return result;
}

}  // namespace

MetadataClient::MetadataClient(Runtime& runtime, MetadataClientConfig config)
    : rt_(runtime),
      config_(std::move(config)),
      store_(rt_.node_id(config_.store)),
      // Random, so a restarted node does not reuse the ids of its previous incarnation
      // and mistake a late reply for one of its new requests.
      next_request_id_(rt_.random()) {
  SL_ASSERT_MSG(store_ != kNoNode, "the metadata store's node name is unknown");
  SL_ASSERT_GE(config_.session_timeout_ns, 3);
  SL_ASSERT_GT(config_.request_timeout_ns, 0);
}

MetadataClient::~MetadataClient() {
  for (const auto& [id, p] : pending_) {
    rt_.cancel(p.deadline);
    rt_.cancel(p.retry);
  }
  rt_.cancel(heartbeat_timer_);
  rt_.cancel(reopen_timer_);
}

void MetadataClient::start(std::function<void(SessionEvent)> on_session,
                           std::function<void(const WatchEvent&)> on_watch) {
  SL_ASSERT_MSG(!on_session_, "start() called twice");
  SL_ASSERT(on_session);
  on_session_ = std::move(on_session);
  on_watch_ = std::move(on_watch);
  open_session();
}

bool MetadataClient::has_session() const { return session_id_ != 0; }

std::uint64_t MetadataClient::session_id() const { return session_id_; }

// [SECTION] Session

void MetadataClient::open_session() {
  SL_ASSERT_EQ(session_id_, 0);
  reopen_timer_ = 0;
  StorageMessage request;
  request.mutable_meta_request()->mutable_open_session()->set_timeout_ns(
      config_.session_timeout_ns);
  send_new(Kind::open_session, std::move(request));
}

void MetadataClient::heartbeat() {
  heartbeat_timer_ = 0;
  if (session_id_ == 0) return;
  StorageMessage request;
  request.mutable_meta_request()->mutable_heartbeat();
  send_new(Kind::heartbeat, std::move(request));
  heartbeat_timer_ = rt_.after(config_.session_timeout_ns / 3, [this] { heartbeat(); });
}

void MetadataClient::established(std::uint64_t session) {
  SL_ASSERT_EQ(session_id_, 0);
  SL_ASSERT_NE(session, 0);
  session_id_ = session;
  heartbeat_timer_ = rt_.after(config_.session_timeout_ns / 3, [this] { heartbeat(); });
  on_session_(SessionEvent::established);
}

void MetadataClient::lose_session() {
  SL_ASSERT_NE(session_id_, 0);
  session_id_ = 0;
  rt_.cancel(heartbeat_timer_);
  heartbeat_timer_ = 0;
  open_session();
  on_session_(SessionEvent::expired);
}

// [SECTION] Requests

void MetadataClient::get(const std::string& key, bool watch, MetaCallback done) {
  StorageMessage request;
  Get* op = request.mutable_meta_request()->mutable_get();
  op->set_key(key);
  op->set_watch(watch);
  issue(std::move(request), std::move(done));
}

void MetadataClient::create(const std::string& key, const std::string& value, bool ephemeral,
                            MetaCallback done) {
  StorageMessage request;
  Create* op = request.mutable_meta_request()->mutable_create();
  op->set_key(key);
  op->set_value(value);
  op->set_ephemeral(ephemeral);
  issue(std::move(request), std::move(done));
}

void MetadataClient::set(const std::string& key, const std::string& value,
                         std::int64_t expected_version, MetaCallback done) {
  StorageMessage request;
  Set* op = request.mutable_meta_request()->mutable_set();
  op->set_key(key);
  op->set_value(value);
  op->set_expected_version(expected_version);
  issue(std::move(request), std::move(done));
}

void MetadataClient::remove(const std::string& key, std::int64_t expected_version,
                            MetaCallback done) {
  StorageMessage request;
  Delete* op = request.mutable_meta_request()->mutable_delete_();
  op->set_key(key);
  op->set_expected_version(expected_version);
  issue(std::move(request), std::move(done));
}

void MetadataClient::list(const std::string& prefix, MetaCallback done) {
  StorageMessage request;
  request.mutable_meta_request()->mutable_list()->set_prefix(prefix);
  issue(std::move(request), std::move(done));
}

void MetadataClient::issue(StorageMessage request, MetaCallback done) {
  SL_ASSERT(done);
  if (session_id_ != 0 && pending_.size() < kMaxPending) {
    const std::uint64_t id = send_new(Kind::user, std::move(request));
    pending_.at(id).done = std::move(done);
    return;
  }
  // Callbacks never run inside the call that issued them: complete on a zero timer.
  const MetaStatus status = session_id_ == 0 ? SESSION_EXPIRED : CONNECTION_LOSS;
  const std::uint64_t id = next_request_id_++;
  Pending& p = pending_[id];
  p.done = std::move(done);
  p.deadline = rt_.after(0, [this, id, status] { finish(id, nullptr, status); });
}

std::uint64_t MetadataClient::send_new(Kind kind, StorageMessage request) {
  const std::uint64_t id = next_request_id_++;
  MetaRequest* r = request.mutable_meta_request();
  r->set_request_id(id);
  r->set_session_id(kind == Kind::open_session ? 0 : session_id_);
  Pending& p = pending_[id];
  SL_ASSERT_MSG(!p.sent, "request id reused");
  p.kind = kind;
  p.session = r->session_id();
  p.request = std::move(request);
  p.sent = true;
  p.deadline = rt_.after(config_.request_timeout_ns,
                         [this, id] { finish(id, nullptr, CONNECTION_LOSS); });
  send_message(rt_, store_, p.request, send_buffer_);
  return id;
}

void MetadataClient::resend(std::uint64_t id) {
  const auto it = pending_.find(id);
  if (it == pending_.end()) return;
  it->second.retry = 0;
  send_message(rt_, store_, it->second.request, send_buffer_);
}

bool MetadataClient::handle(NodeId from, const StorageMessage& message) {
  if (from != store_) return false;
  if (message.has_meta_response()) {
    on_response(message.meta_response());
    return true;
  }
  if (message.has_watch_event()) {
    if (on_watch_) on_watch_(message.watch_event());
    return true;
  }
  return false;
}

void MetadataClient::on_response(const MetaResponse& response) {
  const auto it = pending_.find(response.request_id());
  // A reply after its request timed out (or a duplicate) finds nothing: already completed.
  if (it == pending_.end() || !it->second.sent) return;
  if (response.status() == NOT_READY) {
    if (it->second.retry == 0) {
      const std::uint64_t id = it->first;
      it->second.retry = rt_.after(kNotReadyRetryNs, [this, id] { resend(id); });
    }
    return;
  }
  finish(it->first, &response, response.status());
}

void MetadataClient::on_connection_broken(NodeId peer) {
  if (peer != store_) return;
  std::vector<std::uint64_t> in_flight;
  for (const auto& [id, p] : pending_) {
    if (p.sent) in_flight.push_back(id);
  }
  // Callbacks may issue new requests; those were sent after the break and stay.
  for (const std::uint64_t id : in_flight) finish(id, nullptr, CONNECTION_LOSS);
}

void MetadataClient::finish(std::uint64_t id, const MetaResponse* response, MetaStatus status) {
  const auto it = pending_.find(id);
  if (it == pending_.end()) return;
  Pending p = std::move(it->second);
  pending_.erase(it);
  rt_.cancel(p.deadline);
  rt_.cancel(p.retry);
  // Only an expiry of the current session counts: a late reply about an older one must
  // not end the session that replaced it.
  if (status == SESSION_EXPIRED && p.session != 0 && p.session == session_id_) lose_session();
  switch (p.kind) {
    case Kind::open_session:
      if (status == META_OK && response != nullptr && response->session_id() != 0) {
        established(response->session_id());
      } else {
        reopen_timer_ = rt_.after(kReopenBackoffNs, [this] { open_session(); });
      }
      return;
    case Kind::heartbeat:
      return;
    case Kind::user: {
      MetaResult result = response != nullptr ? result_of(*response) : MetaResult{};
      result.status = status;
      p.done(result);
      return;
    }
  }
}

}  // namespace streamlab::storage
