#pragma once

// A topic (or one partition of a partitioned topic) owned by this broker: its managed
// ledger, its subscriptions, its producers and their deduplication.
//
// Loading: open the managed ledger (recovering the previous owner's ledger, which fences
// that owner), open the deduplication cursor and replay the entries after its snapshot,
// open every subscription's cursor; then producers and consumers are served.
// Publishing: a send passes deduplication, is appended, and its receipt goes out when
// storage confirms it. A storage error fences the topic (REFERENCE.md "Deduplication":
// pushed goes back to persisted): producers and consumers are told to reconnect, appends
// already in flight still complete (and are acknowledged), then the topic is gone; a
// later request loads it afresh from storage.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/lifeline.h"
#include "broker/pulsar/cursor.h"
#include "broker/pulsar/dedup.h"
#include "broker/pulsar/load_waiters.h"
#include "broker/pulsar/log_replay.h"
#include "broker/pulsar/managed_ledger.h"
#include "broker/pulsar/services.h"
#include "broker/pulsar/subscription.h"
#include "broker/pulsar/txn_buffer.h"
#include "runtime/owned_timers.h"

namespace streamlab::pulsar {

inline constexpr const char* kDedupCursor = "pulsar.dedup";

class Topic {
 public:
  enum class State : std::uint8_t { loading, ready, closing };

  // on_closed runs (later) once the topic is closed and idle; fenced: storage said
  // another broker has it.
  Topic(BrokerServices& services, std::string name, std::uint32_t partition,
        std::function<void(bool fenced)> on_closed);

  const std::string& name() const { return name_; }
  State state() const { return state_; }
  void load();
  // Runs when the topic is ready (NO_ERROR) or could not load / closed.
  void when_ready(std::function<void(ServerError)> fn);

  // Producers and consumers (the topic must be ready).
  ServerError add_producer(ClientRef producer, const std::string& name);
  std::int64_t last_sequence(const std::string& producer) const;
  void remove_producer(ClientRef producer);
  void publish(ClientRef producer, const Send& send);
  void subscribe(ClientRef consumer, const Subscribe& request,
                 std::function<void(ServerError)> done);
  Subscription* subscription_of(ClientRef consumer);
  void remove_consumer(ClientRef consumer);
  void client_lost(NodeId node);

  // Transactions. An ack inside a transaction: done(NO_ERROR) once its PendingAck record
  // is stored, or TXN_CONFLICT when another open transaction holds one of the entries.
  void txn_ack(ClientRef consumer, const Ack& ack, std::function<void(ServerError)> done);
  // The coordinator's marker: done(NO_ERROR) once stored (at once if already ended here).
  void end_txn(TxnKey txn, bool commit, std::function<void(ServerError)> done);
  const TxnBuffer& txns() const { return txns_; }

  // Tells every client to reconnect, lets in-flight appends finish, then reports closed.
  void close(bool fenced);

 private:
  // An append in flight: a producer's send, or a control entry (done set).
  struct PendingSend {
    ClientRef producer;
    std::uint64_t sequence_id = 0;
    std::uint64_t highest = 0;
    std::string producer_name;
    bool transactional = false;
    TxnKey txn;
    std::function<void(LedgerError, Pos)> done;
  };

  void open_dedup();
  void replay_dedup(Pos from);
  void pump_replay();
  void open_subscriptions();
  void open_cursor(const std::string& name, Pos initial, SubscriptionType type,
                   std::function<void(ServerError)> done);
  void subscriptions_opened(ServerError error);
  void replay_txns();
  void replayed_txn_entry(Pos p, std::string_view bytes);
  void apply_end(TxnKey txn, bool commit, Pos marker);
  // Runs done(error) from a timer: a request is never answered inside its own call.
  void answer_later(std::function<void(ServerError)> done, ServerError error);
  void append_control(const EntryData& entry, std::function<void(LedgerError, Pos)> done);
  void loaded(ServerError error);
  void appended(std::uint64_t token, LedgerError error, Pos p);
  void maybe_finish_close();
  void trim();
  void send_error(ClientRef producer, std::uint64_t sequence_id, ServerError error);

  BrokerServices& services_;
  std::string name_;
  std::uint32_t partition_;
  std::function<void(bool)> on_closed_;
  State state_ = State::loading;
  bool fenced_ = false;
  bool close_reported_ = false;
  ManagedLedger log_;
  std::unique_ptr<ManagedCursor> dedup_cursor_;
  Deduplication dedup_;
  std::map<std::string, std::unique_ptr<Subscription>> subscriptions_;
  std::map<ClientRef, std::string> producers_;  // -> producer name
  std::map<ClientRef, std::string> consumers_;  // -> subscription
  std::map<ClientRef, std::string> consumer_names_;
  std::map<std::string, std::unique_ptr<ManagedCursor>> opening_;  // Cursors loading.
  Pos replay_next_ = 0;
  std::size_t replay_in_flight_ = 0;
  bool replay_failed_ = false;
  TxnBuffer txns_;
  LogReplay txn_replay_;
  std::map<std::uint64_t, PendingSend> sends_;  // By append token.
  std::uint64_t next_token_ = 1;
  LoadWaiters waiters_;
  PulsarMessage out_;
  OwnedTimers timers_;
  Lifeline life_;
};

}  // namespace streamlab::pulsar
