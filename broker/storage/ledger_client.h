#pragma once

// The ledger client (DESIGN.md section 4; REFERENCE.md "BookKeeper", followed rule by
// rule): creates ledgers with a placement policy, appends entries striped over the
// ensemble, acknowledges them in entry order as the last-add-confirmed (LAC) passes
// them, replaces failed bookies by ensemble change (a metadata compare-and-set), and
// opens other writers' ledgers with fencing and recovery before closing them.
//
// It is a library inside a node: the node forwards bookie replies and broken
// connections, and the client uses the node's Runtime and MetadataClient. One client may
// write several ledgers and recover others at once; every operation completes exactly
// once through its callback, never inside the call that started it.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "broker/storage/ledger_keys.h"
#include "broker/storage/ledger_rules.h"
#include "broker/storage/metadata_client.h"
#include "broker/storage/placement.h"
#include "broker/storage/storage.pb.h"
#include "runtime/runtime.h"

namespace streamlab::storage {

enum class LedgerError : std::uint8_t {
  ok,
  bad_config,          // E >= Qw >= Qa >= 1 does not hold.
  not_enough_bookies,  // Placement found no ensemble (too few bookies or zones).
  fenced,              // Another client opened the ledger for recovery: give it up.
  closed,              // The ledger is closed (or being closed) by this client.
  no_such_ledger,
  metadata_error,      // The metadata store did not confirm the change.
  recovery_failed,     // Recovery could not decide an entry or reach enough bookies.
  no_such_entry,       // Beyond a closed ledger's end, or no bookie of its write set has it.
};

const char* to_string(LedgerError error);


struct LedgerClientConfig {
  std::vector<BookieInfo> bookies;  // Every bookie, with its zone.
  // A bookie that has not acknowledged an add within this is replaced (addEntryTimeout).
  std::int64_t add_timeout_ns = 5'000'000'000;
  std::int64_t read_timeout_ns = 2'000'000'000;
  // A bookie that failed is not chosen again for this long (bookie quarantine).
  std::int64_t quarantine_ns = 10'000'000'000;
  // Unsafe when false: recovery reads neither fence the bookies nor stop the old writer.
  bool recovery_fencing = true;
  // How a recovery replaces a bookie that fails while it rewrites entries (a ledger's
  // own placement options are not in its metadata).
  PlacementConfig placement;
};

struct LedgerOptions {
  Quorums quorums;
  PlacementConfig placement;
};

struct AddResult {
  std::uint64_t ledger_id = 0;
  std::int64_t entry_id = -1;  // -1 when the add failed before it had one.
  std::uint64_t token = 0;     // The caller's, from append().
  LedgerError error = LedgerError::ok;
};

using CreateCallback = std::function<void(LedgerError, std::uint64_t ledger_id)>;
// last_entry_id: the closed ledger's last entry (-1: empty); for a plain open of an open
// ledger, the highest LAC the bookies reported.
using OpenCallback = std::function<void(LedgerError, std::int64_t last_entry_id)>;
using DoneCallback = std::function<void(LedgerError)>;
using EntryCallback = std::function<void(LedgerError, std::string_view payload)>;

class LedgerClient {
 public:
  // Adds complete through on_add, in entry order per ledger: one callback for all adds
  // keeps the append path free of per-add allocations for callbacks.
  LedgerClient(Runtime& runtime, MetadataClient& metadata, LedgerClientConfig config,
               std::function<void(const AddResult&)> on_add);
  ~LedgerClient();

  void create(const LedgerOptions& options, CreateCallback done);
  // Appends to a ledger this client created and has not closed.
  void append(std::uint64_t ledger_id, std::string_view payload, std::uint64_t token);
  // Waits for pending adds, then closes the ledger at its LAC.
  void close(std::uint64_t ledger_id, DoneCallback done);
  // recovery: fence, recover and close (the new writer's open); otherwise read only.
  void open(std::uint64_t ledger_id, bool recovery, OpenCallback done);
  void remove(std::uint64_t ledger_id, DoneCallback done);
  // Reads one entry from the bookies of its write set, one after another until one has
  // it. A closed ledger is read up to its last entry; an open one as far as bookies hold.
  void read(std::uint64_t ledger_id, std::int64_t entry_id, EntryCallback done);

  // The node forwards bookie replies here; false when the message is not for it.
  bool handle(NodeId from, const StorageMessage& message);
  void on_connection_broken(NodeId peer);

  // Entries this client acknowledged, for reports.
  std::int64_t lac(std::uint64_t ledger_id) const;

 private:
  struct PendingAdd {
    std::int64_t entry = 0;
    std::uint64_t token = 0;
    std::string payload;
    std::uint32_t acked = 0;  // Bit per ensemble index that confirmed it.
    bool sent = false;
  };

  enum class WriteState : std::uint8_t { writing, changing_ensemble, closing, failed, closed };

  // A request sent to one ensemble position and not yet answered, kept even after the
  // add completed on other bookies: with Qa < Qw a silent bookie must still time out.
  struct Outstanding {
    std::int64_t entry = 0;
    Nanos sent_at = 0;
  };

  struct WriteLedger {
    std::uint64_t id = 0;
    LedgerOptions options;
    LedgerMetadata metadata;
    std::int64_t version = 0;
    std::vector<std::string> ensemble;  // The last fragment's, by name.
    std::vector<NodeId> ensemble_ids;
    WriteState state = WriteState::writing;
    LedgerError failure = LedgerError::ok;
    std::int64_t next_entry = 0;
    std::int64_t lac = -1;
    std::deque<PendingAdd> pending;
    std::vector<std::deque<Outstanding>> outstanding;  // Per ensemble position.
    std::vector<std::uint32_t> failed_positions;  // Awaiting an ensemble change.
    LedgerMetadata proposed;                      // The ensemble change in flight.
    std::vector<std::uint32_t> changing_positions;
    TimerId monitor = 0;
    bool monitor_armed = false;
    bool close_in_flight = false;
    DoneCallback on_closed;
  };

  enum class RecoveryStep : std::uint8_t {
    metadata, marking, fencing, reading, rewriting, closing
  };

  struct Recovery {
    std::uint64_t id = 0;
    std::uint64_t ledger_id = 0;
    bool recover = true;  // false: a plain open that only reads the LAC.
    RecoveryStep step = RecoveryStep::metadata;
    // As marked IN_RECOVERY, plus the rewrites' ensemble changes (published with the
    // close): rewrites go to its last ensemble.
    LedgerMetadata metadata;
    // As fenced: reads follow where the old writer wrote, whatever recovery replaced since.
    LedgerMetadata read_metadata;
    std::int64_t version = 0;
    int attempts = 0;
    // Fencing and recovery reads.
    std::uint32_t ok = 0;
    std::uint32_t no_entry = 0;
    std::uint32_t errors = 0;
    std::int64_t max_lac = -1;
    std::int64_t entry = 0;  // The entry being read or rewritten.
    std::string payload;
    std::uint32_t rewrite_acked = 0;
    std::vector<NodeId> asked;  // Bookies of the current step, by ensemble index.
    TimerId timer = 0;
    OpenCallback done;
  };

  struct ReadRequest {
    std::uint64_t recovery_id = 0;
    NodeId bookie = kNoNode;
  };

  struct EntryRead {
    std::uint64_t ledger_id = 0;
    std::int64_t entry_id = 0;
    LedgerMetadata metadata;
    std::uint32_t tried = 0;  // Write-set members asked so far.
    NodeId bookie = kNoNode;  // The one asked now.
    TimerId timer = 0;
    EntryCallback done;
  };

  // Writing.
  WriteLedger* find_writer(std::uint64_t ledger_id);
  void send_add(WriteLedger& l, PendingAdd& add, std::uint32_t only_position, bool recovery);
  void on_add_response(NodeId from, const AddResponse& response);
  void try_complete(WriteLedger& l);
  void bookie_failed(WriteLedger& l, std::uint32_t position);
  void start_ensemble_change(WriteLedger& l);
  void ensemble_changed(std::uint64_t ledger_id, const MetaResult& result);
  void reconcile_change(std::uint64_t ledger_id);
  void finish_ensemble_change(WriteLedger& l, std::int64_t version);
  void fail_ledger(WriteLedger& l, LedgerError error);
  void arm_monitor(WriteLedger& l);
  void monitor_fired(std::uint64_t ledger_id);
  void start_close(WriteLedger& l);
  void close_done(std::uint64_t ledger_id, LedgerError error);

  // Recovery.
  Recovery* find_recovery(std::uint64_t recovery_id);
  void recovery_read_metadata(Recovery& r);
  void recovery_mark(Recovery& r);
  void recovery_fence(Recovery& r);
  void recovery_read(Recovery& r);
  void recovery_rewrite(Recovery& r);
  void recovery_replace(Recovery& r, std::uint32_t position);
  void recovery_close(Recovery& r, std::int64_t last_entry);
  void recovery_reply(Recovery& r, NodeId from, const ReadResponse& response);
  void recovery_add_reply(Recovery& r, NodeId from, const AddResponse& response);
  void recovery_timed_out(std::uint64_t recovery_id);
  void recovery_bookie_lost(Recovery& r, NodeId bookie);
  void finish_recovery(Recovery& r, LedgerError error, std::int64_t last_entry);
  void ask(Recovery& r, NodeId bookie, std::int64_t entry, bool fence);
  void arm_recovery_timer(Recovery& r, std::int64_t delay_ns);

  // Reading.
  void read_next_bookie(std::uint64_t request_id);
  void read_reply(std::uint64_t request_id, const ReadResponse* response);

  void after_metadata_retry(std::function<void()> fn);
  void complete_later(std::function<void()> fn);
  std::vector<std::string> quarantined() const;
  NodeId bookie_id(const std::string& name) const;
  std::string serialize(const LedgerMetadata& metadata) const;

  Runtime& rt_;
  MetadataClient& metadata_;
  LedgerClientConfig config_;
  std::function<void(const AddResult&)> on_add_;
  Placement placement_;
  std::map<std::uint64_t, WriteLedger> writers_;
  std::map<std::uint64_t, Recovery> recoveries_;
  std::map<std::uint64_t, ReadRequest> reads_;  // By request id.
  std::map<std::uint64_t, EntryRead> entry_reads_;  // By the request id of their first ask.
  std::map<std::string, Nanos> quarantine_;     // Bookie -> until.
  std::uint64_t next_request_id_;
  std::uint64_t next_recovery_id_ = 1;
  // Deferred completions, so no callback runs inside the call that started it.
  std::deque<std::function<void()>> deferred_;
  bool deferred_armed_ = false;
  StorageMessage out_;
  std::vector<std::uint8_t> send_buffer_;
};

}  // namespace streamlab::storage
