#pragma once

// The metadata store (DESIGN.md section 4): a single ZooKeeper-like node. Versioned keys
// with compare-and-set, sessions kept alive by heartbeats and expired after their
// timeout (their ephemeral keys deleted), one-shot watches. Every change is appended to
// its log and fsynced (group commit) before it is acknowledged or its watches fire; on
// start it replays the log, cuts a torn tail, and gives every restored session a fresh
// full timeout (as a new ZooKeeper leader does) before serving.

#include <cstdint>
#include <map>
#include <set>
#include <utility>
#include <span>
#include <string>
#include <vector>

#include "broker/storage/metadata_state.h"
#include "broker/storage/storage.pb.h"
#include "runtime/runtime.h"

namespace streamlab::storage {

struct MetadataStoreConfig {
  std::int64_t min_session_timeout_ns = 100'000'000;     // Requests below are raised to it.
  std::int64_t max_session_timeout_ns = 60'000'000'000;  // Requests above are cut to it.
  std::int64_t expiry_check_ns = 10'000'000;             // How often expiry is checked.
};

class MetadataStore final : public Node {
 public:
  MetadataStore(Runtime& runtime, MetadataStoreConfig config);
  ~MetadataStore() override;

  void on_start() override;
  void on_message(NodeId from, std::span<const std::uint8_t> bytes) override;
  void on_connection_broken(NodeId peer) override {}

  bool serving() const;
  const MetadataState& state() const;

 private:
  enum class Phase : std::uint8_t { recovering, serving };
  // A message that may go out only once every record logged before it is durable:
  // replies and watch events both reveal state.
  struct Outgoing {
    NodeId to = kNoNode;
    StorageMessage message;
  };

  void recover();
  void recovered(IoStatus status, std::span<const std::uint8_t> bytes);
  // Whatever recovery read may sit only in the page cache: it is made durable first.
  void truncated(IoStatus status, std::uint64_t log_end);
  void serve(std::uint64_t log_end);
  void check_expiry();

  void execute(NodeId from, const MetaRequest& request, MetaResponse& out);
  void open_session(NodeId from, const OpenSession& op, MetaResponse& out);
  void get(NodeId from, const Get& op, MetaResponse& out);
  void create(std::uint64_t session, const Create& op, MetaResponse& out);
  void set(const Set& op, MetaResponse& out);
  void remove(const Delete& op, MetaResponse& out);
  void list(const List& op, MetaResponse& out);

  void close_session(std::uint64_t session);
  void put_key(const std::string& key, const std::string& value, std::int64_t version,
               std::uint64_t ephemeral_owner);
  void remove_key(const std::string& key);
  void log_record(const MetaLogRecord& record);
  void fire_watches(const std::string& key, bool deleted);
  void queue(NodeId to, StorageMessage message);

  void flush();
  void written(IoStatus status);
  void durable(IoStatus status);
  void fail_stop();

  Runtime& rt_;
  MetadataStoreConfig config_;
  Phase phase_ = Phase::recovering;
  MetadataState state_;
  // By the store's own clock; rebuilt at recovery with a full timeout for every session.
  std::map<std::uint64_t, Nanos> session_deadlines_;
  // One-shot watches: who asked, per key. In memory only (see metadata_store.cc).
  std::map<std::string, std::set<NodeId>, std::less<>> watches_;
  // Watches that may have fired on changes a failed write lost: fired again after recovery.
  std::set<std::pair<NodeId, std::string>> refire_;

  std::uint64_t log_end_ = 0;
  int damaged_reads_ = 0;  // Start-up reads in a row that found damage mid-log.
  bool writing_ = false;
  // Group commit: records and messages queued while a write is in flight go out together
  // in the next one.
  std::vector<std::uint8_t> queued_records_;
  std::vector<Outgoing> queued_out_;
  std::vector<std::uint8_t> write_buffer_;
  std::vector<Outgoing> in_flight_out_;

  StorageMessage message_;
  std::vector<std::uint8_t> record_buffer_;
  std::vector<std::uint8_t> send_buffer_;
};

}  // namespace streamlab::storage
