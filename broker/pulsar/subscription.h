#pragma once

// A subscription and its dispatcher (REFERENCE.md "Subscriptions"): entries of the topic
// go, as consumers' flow permits allow (one permit per entry), to
// - EXCLUSIVE: its one consumer; FAILOVER: the active consumer (consumers sorted by name,
//   the active one is partition % count; when it changes, what the old one had not
//   acknowledged is redelivered);
// - SHARED: consumers in turn;
// - KEY_SHARED: the consumer whose share of the key hash range holds the entry's key; a
//   consumer that joined late gets no entry past the read position it joined at until
//   every earlier entry is acknowledged, which keeps each key in order.
// Entries delivered and not acknowledged are redelivered on a negative ack or ack
// timeout (the client asks) and when their consumer goes away. A batch is one entry and
// is redelivered whole.
//
// A read that fails (bookies or the metadata store unreachable, the broker's session
// gone) is retried after a backoff that doubles while reads keep failing, as Pulsar's
// dispatchers do (readEntriesFailed schedules the next read after readFailureBackoff):
// meanwhile nothing is read. Some failures come back at once (a metadata client without
// a session fails every request on the spot), so retrying at once would read again and
// again without time passing.
//
// With transactions (broker/pulsar/txn_buffer.h), a subscription reading committed stops
// at the max read position and acknowledges markers, pending-ack records and aborted
// entries unseen; one reading uncommitted (unsafe) delivers transactional entries as they
// are written. Entries a transaction's pending ack holds are not redelivered until it
// aborts, and ordinary acks do not touch them.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/lifeline.h"
#include "broker/pulsar/cursor.h"
#include "broker/pulsar/services.h"
#include "broker/pulsar/txn_buffer.h"
#include "runtime/owned_timers.h"

namespace streamlab::pulsar {

class Subscription {
 public:
  // txns: the topic's transaction buffer; null when the broker runs without transactions.
  Subscription(BrokerServices& services, ManagedLedger& log,
               std::unique_ptr<ManagedCursor> cursor, std::uint32_t partition,
               const TxnBuffer* txns);

  const std::string& name() const { return cursor_->name(); }
  SubscriptionType type() const { return cursor_->type(); }
  ManagedCursor& cursor() { return *cursor_; }
  bool has_consumers() const { return !consumers_.empty(); }
  std::vector<ClientRef> consumer_refs() const;
  // Entries published and not yet acknowledged.
  std::uint64_t backlog() const;

  ServerError add_consumer(ClientRef consumer, const std::string& name);
  void remove_consumer(ClientRef consumer);
  void flow(ClientRef consumer, std::uint32_t permits);
  void ack(ClientRef consumer, const Ack& ack);
  void redeliver(ClientRef consumer, const Redeliver& request);
  // New entries were published, or acknowledgements may have unblocked a consumer.
  void dispatch();

  void set_read_uncommitted(bool on) { read_uncommitted_ = on; }
  // A transaction's held acks: applied on commit, released for redelivery on abort.
  void txn_acked(const std::vector<Pos>& positions);
  void txn_released(const std::vector<Pos>& positions);

 private:
  struct ConsumerState {
    ClientRef ref;
    std::string name;
    std::uint32_t permits = 0;
    std::set<Pos> pending;  // Delivered, not acknowledged.
    Pos joined_at = 0;      // KEY_SHARED: restricted until mark-delete reaches it; 0: not.
  };

  struct ReadSlot {
    Pos pos = 0;
    bool done = false;
    LedgerError error = LedgerError::ok;
    std::string entry;
  };

  ConsumerState* find(ClientRef ref);
  ConsumerState* active();
  ConsumerState* pick(const ReadSlot& slot);
  std::uint32_t total_permits();
  Pos next_to_read();
  void read_done();
  void read_failed();
  void deliver(ConsumerState& consumer, const ReadSlot& slot);
  void release(ConsumerState& consumer);  // Its pending entries go back for redelivery.
  void acked(Pos p);
  void failover_changed(ClientRef previous_active);

  BrokerServices& services_;
  ManagedLedger& log_;
  std::unique_ptr<ManagedCursor> cursor_;
  std::uint32_t partition_;
  const TxnBuffer* txns_;
  bool read_uncommitted_ = false;
  std::vector<ConsumerState> consumers_;  // In joining order.
  Pos read_pos_ = 0;                      // The last position read for the first time.
  bool read_pos_set_ = false;
  std::set<Pos> replay_;                  // To deliver again.
  std::map<Pos, std::uint32_t> redeliveries_;
  std::deque<ReadSlot> reads_;            // In flight, delivered in this order.
  std::size_t next_consumer_ = 0;         // SHARED round robin.
  bool stalled_ = false;                  // KEY_SHARED: the head entry's consumer is full.
  Nanos read_backoff_ns_;                 // The wait after the next failed read.
  bool backing_off_ = false;              // A read failed: no reads until the retry timer.
  PulsarMessage out_;
  OwnedTimers timers_;
  Lifeline life_;
};

}  // namespace streamlab::pulsar
