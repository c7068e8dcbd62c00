#pragma once

// A ledger workload client: writers that share a named log hand it over the way Pulsar
// brokers hand over a topic. The owner holds an ephemeral key in the metadata store and
// appends entries, at a set rate, to the log's current ledger; the others wait. When
// the owner's session expires (it crashed, paused or was cut off) another writer takes
// the key, recovers the owner's ledger (fencing it, REFERENCE.md), creates a new one and
// writes on. Like the brokers of the split-brain bugs (REFERENCE.md "Pulsar"), an owner
// does not stop writing when its session expires: only BookKeeper's fencing stops it,
// which is exactly what the `recovery_fencing` knob takes away.
//
// Every append is recorded (invoke, then ok with its entry, or info: the outcome of a
// failed append is unknown, it may have reached bookies), and so is every recovery.

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "broker/storage/ledger_client.h"
#include "broker/storage/metadata_client.h"
#include "runtime/runtime.h"
#include "workloads/history/ledger_history.h"
#include "workloads/history/ledger_list.h"

namespace streamlab::workloads {

struct LedgerWriterConfig {
  std::string log = "log";
  double rate_per_s = 100;
  bool poisson = false;
  std::size_t entry_bytes = 1024;
  std::uint32_t max_in_flight = 1'000;
  std::int64_t start_ns = 0;
  std::int64_t stop_ns = INT64_MAX;
  std::uint64_t max_adds = 0;  // 0: no limit.
  std::int64_t retry_ns = 500'000'000;  // After a failed take-over step.
  storage::MetadataClientConfig metadata;
  storage::LedgerClientConfig ledger;
  storage::LedgerOptions options;
};

class LedgerWriter final : public Node {
 public:
  LedgerWriter(Runtime& runtime, LedgerWriterConfig config, LedgerHistory& history);

  void on_start() override;
  void on_message(NodeId from, std::span<const std::uint8_t> bytes) override;
  void on_connection_broken(NodeId peer) override;

 private:
  enum class Phase : std::uint8_t {
    connecting,  // No session yet.
    acquiring,   // Trying to create the owner key.
    standby,     // Another writer owns the log.
    recovering,  // Owner: recovering the previous ledger.
    creating,    // Owner: creating a ledger and adding it to the log.
    writing,     // Owner: appending.
    rolling,     // Owner: closing a ledger it could no longer write, to start a new one.
  };

  void session_event(storage::SessionEvent event);
  void acquire();
  void watch_owner();
  void take_over();
  void read_ledger_list();
  void recover_last(std::vector<std::uint64_t> ledgers, std::int64_t version);
  void create_ledger(std::vector<std::uint64_t> ledgers, std::int64_t version);
  void publish_ledger(std::vector<std::uint64_t> ledgers, std::int64_t version,
                      std::uint64_t ledger_id);
  void check_published(std::uint64_t ledger_id);
  void start_writing(std::uint64_t ledger_id);
  void roll();
  void lose_ownership();
  void retry_later(void (LedgerWriter::*step)());
  void tick();
  void send_one();
  void add_done(const storage::AddResult& result);
  std::int64_t gap_ns();
  std::string owner_value() const;

  Runtime& rt_;
  LedgerWriterConfig config_;
  LedgerHistory& history_;
  storage::MetadataClient metadata_;
  storage::LedgerClient ledger_;
  Phase phase_ = Phase::connecting;
  std::uint64_t current_ledger_ = 0;
  std::uint64_t standby_generation_ = 0;
  std::vector<std::uint64_t> recovered_list_;  // The log's ledgers when we took it over.
  // Sequence numbers start from a random base so a restarted writer never reuses one.
  std::uint64_t next_seq_;
  std::uint64_t sent_ = 0;
  std::map<std::uint64_t, std::uint64_t> in_flight_;  // seq -> ledger.
  std::int64_t started_at_ns_ = 0;
  std::string owner_key_;
  std::string ledgers_key_;
  std::string payload_;
  storage::StorageMessage message_;
};

}  // namespace streamlab::workloads
