#pragma once

// The client side of the metadata store, embedded in any node that needs it (brokers,
// ledger writers). It opens a session, keeps it alive with heartbeats every third of the
// timeout, and opens a new one when the store says the old one expired, telling its
// owner both. Requests complete exactly once: with the store's reply, or with
// CONNECTION_LOSS when no reply came within the request timeout or the connection broke
// (then the request may or may not have taken effect, as in ZooKeeper).

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "broker/storage/storage.pb.h"
#include "runtime/runtime.h"

namespace streamlab::storage {

struct MetaResult {
  MetaStatus status = META_OK;
  std::string value;
  std::int64_t version = -1;
  std::vector<std::string> keys;
};

// Client-library callbacks are not on the simulator's hot path; std::function is fine.
using MetaCallback = std::function<void(const MetaResult&)>;

enum class SessionEvent : std::uint8_t {
  established,  // A session is open (first, or a new one after an expiry).
  expired,      // The store said the session expired: its ephemeral keys are gone.
};

struct MetadataClientConfig {
  std::string store;                            // The store's node name.
  std::int64_t session_timeout_ns = 5'000'000'000;
  std::int64_t request_timeout_ns = 2'000'000'000;
};

class MetadataClient {
 public:
  MetadataClient(Runtime& runtime, MetadataClientConfig config);
  ~MetadataClient();

  // Opens the first session. Session events and watch events go to these callbacks.
  void start(std::function<void(SessionEvent)> on_session,
             std::function<void(const WatchEvent&)> on_watch);

  bool has_session() const;
  std::uint64_t session_id() const;  // 0 while none is open.

  // Without a session these complete at once with SESSION_EXPIRED.
  void get(const std::string& key, bool watch, MetaCallback done);
  void create(const std::string& key, const std::string& value, bool ephemeral,
              MetaCallback done);
  void set(const std::string& key, const std::string& value, std::int64_t expected_version,
           MetaCallback done);
  void remove(const std::string& key, std::int64_t expected_version, MetaCallback done);
  void list(const std::string& prefix, MetaCallback done);

  // The owning node forwards the store's messages and broken connections here.
  // Returns false when the message is not for the metadata client.
  bool handle(NodeId from, const StorageMessage& message);
  void on_connection_broken(NodeId peer);

 private:
  enum class Kind : std::uint8_t { user, open_session, heartbeat };
  struct Pending {
    Kind kind = Kind::user;
    std::uint64_t session = 0;  // The session it was sent in; 0: none.
    StorageMessage request;     // Kept to send again after NOT_READY.
    MetaCallback done;
    TimerId deadline = 0;
    TimerId retry = 0;
    bool sent = false;
  };

  void open_session();
  void heartbeat();
  void issue(StorageMessage request, MetaCallback done);
  std::uint64_t send_new(Kind kind, StorageMessage request);
  void resend(std::uint64_t id);
  void on_response(const MetaResponse& response);
  // Completes a request exactly once: with the store's response, or (response null)
  // with `status`.
  void finish(std::uint64_t id, const MetaResponse* response, MetaStatus status);
  void established(std::uint64_t session);
  void lose_session();

  Runtime& rt_;
  MetadataClientConfig config_;
  NodeId store_;
  std::function<void(SessionEvent)> on_session_;
  std::function<void(const WatchEvent&)> on_watch_;
  std::uint64_t session_id_ = 0;
  std::uint64_t next_request_id_;
  TimerId heartbeat_timer_ = 0;
  TimerId reopen_timer_ = 0;
  std::map<std::uint64_t, Pending> pending_;
  std::vector<std::uint8_t> send_buffer_;
};

}  // namespace streamlab::storage
