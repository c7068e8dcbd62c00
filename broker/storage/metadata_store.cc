#include "broker/storage/metadata_store.h"

#include <algorithm>

#include "base/assert.h"
#include "broker/storage/record_log.h"
#include "broker/storage/wire.h"

// Choices the header does not spell out:
// - Requests are applied to the in-memory state when they arrive, so later requests see
//   them (ZooKeeper's pipeline), but every reply and watch event waits until all records
//   logged before it are durable. Reads and failed compare-and-sets wait too: they reveal
//   state, and state that a crash could still lose must not be seen.
// - A failed write or fsync is an operating error, not a bug: the store stops serving,
//   drops every queued reply (clients time out and see CONNECTION_LOSS, which allows
//   either outcome), and after a short delay recovers from its log as after a restart.
//   Recovery fsyncs the log before serving, so nothing it read only from the page cache
//   (a write whose fsync failed) is revealed before it is durable.
// - Watches live in memory only: a restart loses them (the clients' connections break,
//   and they must re-read with a watch). A fail-stop keeps them, and fires once more every
//   watch whose event was dropped with the failed write, since that change may have
//   reached the log: a spurious event is harmless (a watcher re-reads), a lost one is not.

namespace streamlab::storage {

namespace {

// The whole log is read at start; with no snapshots yet, logs of a run stay far below.
constexpr std::uint64_t kMaxLogBytes = 1ULL << 30;
constexpr Nanos kRecoveryRetryNs = 10'000'000;
// Start-up reads that found damage in the middle of the log before it is believed: a bit
// flipped on the way from the device reads right the next time.
constexpr int kDamagedReadsBeforeSkipping = 3;
constexpr Nanos kFailStopDelayNs = 50'000'000;
// Messages waiting for durability; beyond it requests are turned away with NOT_READY,
// which clients retry until their request timeout.
constexpr std::size_t kMaxQueuedMessages = 100'000;

StorageMessage watch_event(const std::string& key, bool deleted) {
  StorageMessage message;
  WatchEvent* event = message.mutable_watch_event();
  event->set_key(key);
  event->set_deleted(deleted);
  return message;
}

}  // namespace

MetadataStore::MetadataStore(Runtime& runtime, MetadataStoreConfig config)
    : rt_(runtime), config_(config) {
  SL_ASSERT_GT(config.min_session_timeout_ns, 0);
  SL_ASSERT_GE(config.max_session_timeout_ns, config.min_session_timeout_ns);
  SL_ASSERT_GT(config.expiry_check_ns, 0);
}

MetadataStore::~MetadataStore() = default;

bool MetadataStore::serving() const { return phase_ == Phase::serving; }

const MetadataState& MetadataStore::state() const { return state_; }

void MetadataStore::on_start() {
  rt_.after(config_.expiry_check_ns, [this] { check_expiry(); });
  recover();
}

// [SECTION] Recovery

void MetadataStore::recover() {
  SL_ASSERT_EQ(phase_, Phase::recovering);
  rt_.disk_read(kMetadataLogFile, 0, kMaxLogBytes,
                [this](IoStatus status, std::span<const std::uint8_t> bytes) {
                  recovered(status, bytes);
                });
}

void MetadataStore::recovered(IoStatus status, std::span<const std::uint8_t> bytes) {
  SL_ASSERT_EQ(phase_, Phase::recovering);
  if (status != IoStatus::ok) {
    // A latent read error: try again rather than serve from a log we could not read.
    rt_.after(kRecoveryRetryNs, [this] { recover(); });
    return;
  }
  ReplayedLog replayed = replay_metadata_log(bytes);
  if (replayed.damaged_bytes > 0 && ++damaged_reads_ < kDamagedReadsBeforeSkipping) {
    recover();  // Perhaps only this read was damaged: read again before skipping records.
    return;
  }
  damaged_reads_ = 0;
  state_ = std::move(replayed.state);
  // ZooKeeper: a new leader gives every session a full timeout, since clients could not
  // heartbeat while no server was up.
  session_deadlines_.clear();
  for (const auto& [id, session] : state_.sessions) {
    session_deadlines_[id] = rt_.now() + session.timeout_ns;
  }
  const std::uint64_t valid = replayed.valid_bytes;
  if (valid < bytes.size()) {
    // Cut the torn tail so new records do not follow garbage.
    rt_.disk_truncate(kMetadataLogFile, valid,
                      [this, valid](IoStatus s) { truncated(s, valid); });
  } else {
    truncated(IoStatus::ok, valid);
  }
}

void MetadataStore::truncated(IoStatus status, std::uint64_t log_end) {
  if (status != IoStatus::ok) {
    rt_.after(kRecoveryRetryNs, [this] { recover(); });
    return;
  }
  rt_.disk_fsync(kMetadataLogFile, [this, log_end](IoStatus s) {
    if (s != IoStatus::ok) {
      rt_.after(kRecoveryRetryNs, [this] { recover(); });
      return;
    }
    serve(log_end);
  });
}

void MetadataStore::serve(std::uint64_t log_end) {
  SL_ASSERT_EQ(phase_, Phase::recovering);
  SL_ASSERT(!writing_);
  SL_ASSERT(queued_records_.empty());
  log_end_ = log_end;
  phase_ = Phase::serving;
  for (const auto& [node, key] : refire_) {
    queue(node, watch_event(key, !state_.keys.contains(key)));
  }
  refire_.clear();
}

void MetadataStore::check_expiry() {
  rt_.after(config_.expiry_check_ns, [this] { check_expiry(); });
  if (phase_ != Phase::serving) return;
  std::vector<std::uint64_t> expired;
  for (const auto& [id, deadline] : session_deadlines_) {
    if (deadline <= rt_.now()) expired.push_back(id);
  }
  for (const std::uint64_t id : expired) close_session(id);
  flush();
}

// [SECTION] Requests

void MetadataStore::on_message(NodeId from, std::span<const std::uint8_t> bytes) {
  if (!parse_message(bytes, &message_) || !message_.has_meta_request()) return;
  const MetaRequest& request = message_.meta_request();
  if (request.op_case() == MetaRequest::OP_NOT_SET) return;
  StorageMessage reply;
  MetaResponse* response = reply.mutable_meta_response();
  response->set_request_id(request.request_id());
  if (phase_ != Phase::serving || queued_out_.size() >= kMaxQueuedMessages) {
    // Reveals nothing, so it need not wait for the log.
    response->set_status(NOT_READY);
    send_message(rt_, from, reply, send_buffer_);
    return;
  }
  execute(from, request, *response);
  queue(from, std::move(reply));
  flush();
}

void MetadataStore::execute(NodeId from, const MetaRequest& request, MetaResponse& out) {
  if (request.op_case() == MetaRequest::kOpenSession) {
    open_session(from, request.open_session(), out);
    return;
  }
  const std::uint64_t session = request.session_id();
  const auto it = session_deadlines_.find(session);
  if (it == session_deadlines_.end()) {
    out.set_status(SESSION_EXPIRED);
    return;
  }
  if (it->second <= rt_.now()) {
    // Expired but not yet collected by the timer: the session must not come back to life
    // because the check runs only every expiry_check_ns.
    close_session(session);
    out.set_status(SESSION_EXPIRED);
    return;
  }
  it->second = rt_.now() + state_.sessions.at(session).timeout_ns;
  out.set_status(META_OK);
  switch (request.op_case()) {
    case MetaRequest::kHeartbeat: return;
    case MetaRequest::kCloseSession: close_session(session); return;
    case MetaRequest::kGet: get(from, request.get(), out); return;
    case MetaRequest::kCreate: create(session, request.create(), out); return;
    case MetaRequest::kSet: set(request.set(), out); return;
    case MetaRequest::kDelete: remove(request.delete_(), out); return;
    case MetaRequest::kList: list(request.list(), out); return;
    case MetaRequest::kOpenSession:
    case MetaRequest::OP_NOT_SET:
      SL_ASSERT_MSG(false, "handled before the session check");
  }
}

void MetadataStore::open_session(NodeId from, const OpenSession& op, MetaResponse& out) {
  const Nanos timeout_ns = std::clamp<Nanos>(op.timeout_ns(), config_.min_session_timeout_ns,
                                             config_.max_session_timeout_ns);
  // Ids come from the log's maximum, so a restarted store never hands one out twice.
  const std::uint64_t id = state_.max_session_id + 1;
  MetaLogRecord record;
  SessionOpened* opened = record.mutable_session_opened();
  opened->set_session_id(id);
  opened->set_owner(from);
  opened->set_timeout_ns(timeout_ns);
  log_record(record);
  session_deadlines_[id] = rt_.now() + timeout_ns;
  out.set_status(META_OK);
  out.set_session_id(id);
}

void MetadataStore::get(NodeId from, const Get& op, MetaResponse& out) {
  // ZooKeeper: an exists-watch on an absent key fires when the key is created.
  if (op.watch()) watches_[op.key()].insert(from);
  const auto it = state_.keys.find(op.key());
  if (it == state_.keys.end()) {
    out.set_status(NO_KEY);
    return;
  }
  out.set_value(it->second.value);
  out.set_version(it->second.version);
}

void MetadataStore::create(std::uint64_t session, const Create& op, MetaResponse& out) {
  if (state_.keys.contains(op.key())) {
    out.set_status(KEY_EXISTS);
    return;
  }
  put_key(op.key(), op.value(), 0, op.ephemeral() ? session : 0);
  out.set_version(0);
}

void MetadataStore::set(const Set& op, MetaResponse& out) {
  const auto it = state_.keys.find(op.key());
  if (it == state_.keys.end()) {
    out.set_status(NO_KEY);
    return;
  }
  const std::int64_t version = it->second.version;
  if (op.expected_version() != -1 && op.expected_version() != version) {
    out.set_status(BAD_VERSION);
    out.set_version(version);
    return;
  }
  put_key(op.key(), op.value(), version + 1, it->second.ephemeral_owner);
  out.set_version(version + 1);
}

void MetadataStore::remove(const Delete& op, MetaResponse& out) {
  const auto it = state_.keys.find(op.key());
  if (it == state_.keys.end()) {
    out.set_status(NO_KEY);
    return;
  }
  if (op.expected_version() != -1 && op.expected_version() != it->second.version) {
    out.set_status(BAD_VERSION);
    out.set_version(it->second.version);
    return;
  }
  remove_key(op.key());
}

void MetadataStore::list(const List& op, MetaResponse& out) {
  for (auto it = state_.keys.lower_bound(op.prefix());
       it != state_.keys.end() && it->first.starts_with(op.prefix()); ++it) {
    out.add_keys(it->first);
  }
}

// [SECTION] Changes

void MetadataStore::close_session(std::uint64_t session) {
  std::vector<std::string> ephemeral;
  for (const auto& [key, value] : state_.keys) {
    if (value.ephemeral_owner == session) ephemeral.push_back(key);
  }
  rt_.note("session " + std::to_string(session) + " closed (expired or by its client), " +
           std::to_string(ephemeral.size()) + " ephemeral keys removed");
  // The keys go first: a log torn between the records leaves the session open with
  // fewer keys (it then expires again), never keys owned by a closed session.
  for (const std::string& key : ephemeral) remove_key(key);
  MetaLogRecord record;
  record.set_session_closed(session);
  log_record(record);
  session_deadlines_.erase(session);
}

void MetadataStore::put_key(const std::string& key, const std::string& value,
                            std::int64_t version, std::uint64_t ephemeral_owner) {
  MetaLogRecord record;
  KeyPut* put = record.mutable_put();
  put->set_key(key);
  put->set_value(value);
  put->set_version(version);
  put->set_ephemeral_owner(ephemeral_owner);
  log_record(record);
  fire_watches(key, false);
}

void MetadataStore::remove_key(const std::string& key) {
  MetaLogRecord record;
  record.set_removed(key);
  log_record(record);
  fire_watches(key, true);
}

void MetadataStore::log_record(const MetaLogRecord& record) {
  SL_ASSERT_EQ(phase_, Phase::serving);
  state_.apply(record);
  record_buffer_.resize(record.ByteSizeLong());
  const bool serialized =
      record.SerializeToArray(record_buffer_.data(), static_cast<int>(record_buffer_.size()));
  SL_ASSERT(serialized);
  append_framed(record_buffer_, queued_records_);
}

void MetadataStore::fire_watches(const std::string& key, bool deleted) {
  const auto it = watches_.find(key);
  if (it == watches_.end()) return;
  for (const NodeId node : it->second) queue(node, watch_event(key, deleted));
  watches_.erase(it);
}

void MetadataStore::queue(NodeId to, StorageMessage message) {
  if (!writing_ && queued_records_.empty()) {
    SL_ASSERT(queued_out_.empty());
    send_message(rt_, to, message, send_buffer_);
    return;
  }
  queued_out_.push_back(Outgoing{to, std::move(message)});
}

// [SECTION] Group commit

void MetadataStore::flush() {
  if (phase_ != Phase::serving || writing_) return;
  if (queued_records_.empty()) {
    for (const Outgoing& out : queued_out_) send_message(rt_, out.to, out.message, send_buffer_);
    queued_out_.clear();
    return;
  }
  write_buffer_.swap(queued_records_);
  queued_records_.clear();
  SL_ASSERT(in_flight_out_.empty());
  in_flight_out_.swap(queued_out_);
  writing_ = true;
  rt_.disk_write(kMetadataLogFile, log_end_, write_buffer_,
                 [this](IoStatus status) { written(status); });
}

void MetadataStore::written(IoStatus status) {
  SL_ASSERT(writing_);
  if (status != IoStatus::ok) {
    fail_stop();
    return;
  }
  log_end_ += write_buffer_.size();
  rt_.disk_fsync(kMetadataLogFile, [this](IoStatus s) { durable(s); });
}

void MetadataStore::durable(IoStatus status) {
  SL_ASSERT(writing_);
  if (status != IoStatus::ok) {
    fail_stop();
    return;
  }
  writing_ = false;
  for (const Outgoing& out : in_flight_out_) send_message(rt_, out.to, out.message, send_buffer_);
  in_flight_out_.clear();
  flush();
}

void MetadataStore::fail_stop() {
  phase_ = Phase::recovering;
  writing_ = false;
  for (const std::vector<Outgoing>* outs : {&in_flight_out_, &queued_out_}) {
    for (const Outgoing& out : *outs) {
      if (out.message.has_watch_event()) refire_.emplace(out.to, out.message.watch_event().key());
    }
  }
  in_flight_out_.clear();
  queued_out_.clear();
  queued_records_.clear();
  write_buffer_.clear();
  rt_.after(kFailStopDelayNs, [this] { recover(); });
}

}  // namespace streamlab::storage
