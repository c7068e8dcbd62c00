#pragma once

// The transaction coordinator (REFERENCE.md "Pulsar transactions (PIP-31)"), hosted by
// the broker that owns kTxnCoordinator like a topic (its ephemeral owner key; clients
// find it with a Lookup). Its state is its transaction log, a managed ledger of
// TxnLogRecords; opening the log fences the previous coordinator, and replaying it gives
// the next one every transaction, which it then finishes.
//
// A transaction: OPEN (logged before its id is returned), its partitions and
// subscriptions' topics registered before first use (logged), then at the end
// COMMITTING or ABORTING (logged), a marker on every registered topic (retried until
// each topic's owner stored it), COMMITTED or ABORTED (logged), and the reply. An open
// transaction that outlives its timeout is aborted.
//
// Owners (transactional ids) have epochs: a new instance takes the next epoch, which
// aborts the open transactions of earlier ones and refuses their requests from then on
// (zombie fencing). Both this and the COMMITTING record have unsafe knobs
// (BrokerConfig::txn_zombie_fencing, txn_log_committing).

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/lifeline.h"
#include "broker/pulsar/load_waiters.h"
#include "broker/pulsar/log_replay.h"
#include "broker/pulsar/managed_ledger.h"
#include "broker/pulsar/services.h"
#include "broker/pulsar/txn_buffer.h"
#include "broker/pulsar/wire.h"
#include "runtime/owned_timers.h"

namespace streamlab::pulsar {

// Delivers a marker to the owner of a topic; done(NO_ERROR) once it is stored there.
using MarkerSender = std::function<void(const std::string& topic, TxnKey txn, bool commit,
                                        std::function<void(ServerError)> done)>;

class TxnCoordinator {
 public:
  enum class State : std::uint8_t { loading, ready, closing };

  // on_closed runs (later) once closed; fenced: another broker's coordinator has the log.
  TxnCoordinator(BrokerServices& services, MarkerSender markers,
                 std::function<void(bool fenced)> on_closed);

  State state() const { return state_; }
  void load();
  void when_ready(std::function<void(ServerError)> fn);
  // TxnInitOwner, TxnNew, TxnAddPart and TxnEnd; each is answered with a TxnResponse.
  void handle(NodeId from, const PulsarMessage& message);
  void close(bool fenced);

  // For tests and reports.
  std::size_t open_transactions() const;

 private:
  struct Txn {
    TxnLogRecord::State state = TxnLogRecord::OPEN;
    std::string owner;
    std::uint64_t epoch = 0;
    Nanos timeout_at_ns = 0;
    std::set<std::string> topics;  // Registered, though maybe not yet logged.
    // Topics whose registration is still being logged, with the TxnAddPart requests to
    // answer once it is: a retried request must not be answered before the first one's
    // record is stored, or a coordinator that takes over would not know the topic.
    std::map<std::string, std::vector<std::pair<NodeId, std::uint64_t>>> unlogged;
    std::set<std::string> markers_left;
    std::uint64_t timer = 0;
    std::vector<std::pair<NodeId, std::uint64_t>> waiters;  // TxnEnd requests to answer.
  };

  void init_owner(NodeId from, const TxnInitOwner& request);
  void new_txn(NodeId from, const TxnNew& request);
  void add_part(NodeId from, const TxnAddPart& request);
  void end(NodeId from, const TxnEnd& request);

  bool stale(const std::string& owner, std::uint64_t epoch) const;
  void begin_end(TxnKey key, bool commit);
  void send_marker(TxnKey key, const std::string& topic);
  void marker_stored(TxnKey key, const std::string& topic, ServerError error);
  void finish(TxnKey key);
  void arm_timeout(TxnKey key);
  void append(const TxnLogRecord& record, std::function<void()> done);
  void appended(std::uint64_t token, LedgerError error);
  TxnLogRecord record_of(TxnKey key, const Txn& txn) const;
  void replayed(std::string_view bytes);
  void resume();
  void reply(NodeId to, std::uint64_t request_id, ServerError error, TxnKey txn = {},
             std::uint64_t epoch = 0);
  void maybe_finish_close();

  BrokerServices& services_;
  MarkerSender markers_;
  std::function<void(bool)> on_closed_;
  State state_ = State::loading;
  bool fenced_ = false;
  bool close_reported_ = false;
  ManagedLedger log_;
  LogReplay replay_;
  std::map<TxnKey, Txn> txns_;
  std::map<std::string, std::uint64_t> epochs_;
  std::uint64_t next_least_ = 1;
  std::map<std::uint64_t, std::function<void()>> appends_;  // By append token.
  std::uint64_t next_token_ = 1;
  LoadWaiters waiters_;
  PulsarMessage out_;
  OwnedTimers timers_;
  Lifeline life_;
};

}  // namespace streamlab::pulsar
