#pragma once

// A topic's transaction buffer and its subscriptions' pending acks (REFERENCE.md "Pulsar
// transactions (PIP-31)"), as what the topic's log says so far. Transactional messages
// are stored in the log as they come, and become visible when the transaction's commit
// marker follows them; a consumer reading committed stops at the max read position, the
// first entry of the oldest open transaction, so it never skips past a transaction that
// may still commit. Aborted entries, markers and pending-ack records are never delivered.
//
// The pending-ack store is the log too: an ack inside a transaction is a PendingAck
// control entry, so the topic's next owner rebuilds both from one replay. An entry held
// by one open transaction's pending ack cannot be acked by another.
//
// Everything is recorded in log order: from the topic's appends as storage confirms
// them, and from the replay when the topic loads.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "broker/pulsar/position.h"
#include "broker/pulsar/pulsar.pb.h"

namespace streamlab::pulsar {

struct TxnKey {
  std::uint64_t most = 0;
  std::uint64_t least = 0;
  auto operator<=>(const TxnKey&) const = default;
};

inline TxnKey txn_key(const TxnId& id) { return TxnKey{id.most(), id.least()}; }
inline void set_txn_id(TxnId* id, TxnKey key) {
  id->set_most(key.most);
  id->set_least(key.least);
}
inline std::string to_string(TxnKey key) {
  return "(" + std::to_string(key.most) + "," + std::to_string(key.least) + ")";
}

class TxnBuffer {
 public:
  enum class Visibility : std::uint8_t {
    deliver,
    skip,  // A marker, a pending-ack record or an aborted message: acknowledge it unseen.
    wait,  // Its transaction is open (or, reading committed, an older one is).
  };

  // What a transaction's end does to the subscriptions: the acks it held, by subscription.
  using HeldAcks = std::map<std::string, std::vector<Pos>>;

  // A transactional entry was stored at p. One stored after its transaction's marker (a
  // send that raced the end) is never delivered.
  void wrote(TxnKey txn, Pos p);
  // The transaction's marker is being written: nothing more may join it meanwhile.
  void ending(TxnKey txn) { ending_.insert(txn); }
  void ending_failed(TxnKey txn) { ending_.erase(txn); }
  // Ended, or its marker is being written.
  bool is_closing(TxnKey txn) const { return ending_.contains(txn) || is_ended(txn); }
  // A subscription's acks inside txn, taken now (before their record is stored, so a
  // racing transaction already sees the conflict)...
  void hold(TxnKey txn, const std::string& subscription, const std::vector<Pos>& positions);
  // ...and their PendingAck record stored at p (replay: both at once).
  void held_record(TxnKey txn, Pos p);
  // The transaction's marker at p. Returns the acks it held, which take effect on commit
  // and are released on abort. Ending an ended transaction again returns nothing.
  HeldAcks ended(TxnKey txn, bool commit, Pos marker);

  bool is_ended(TxnKey txn) const { return committed_.contains(txn) || aborted_.contains(txn); }
  bool is_open(TxnKey txn) const { return first_.contains(txn); }
  // The first entry the log must keep for open transactions (0: none).
  Pos first_open_entry() const;
  // The transaction whose pending ack holds the subscription's entry p, if any.
  const TxnKey* holder(const std::string& subscription, Pos p) const;

  // The first entry a committed reader may not pass (0: none, everything is readable).
  Pos max_read_position() const {
    return by_first_data_.empty() ? 0 : by_first_data_.begin()->first;
  }
  Visibility visibility(Pos p, bool read_uncommitted) const;
  // Control entries and transactional entries, for reports and tests.
  std::size_t open_transactions() const { return first_.size(); }
  bool control(Pos p) const { return control_.contains(p); }
  bool transactional(Pos p) const { return entries_.contains(p); }

  // The log before p was deleted: forget what lies there (open transactions never do,
  // trimming stops before them).
  void forget_before(Pos p);

 private:
  std::map<TxnKey, Pos> first_;     // Open transactions: their first entry in this log.
  // Their first data entry, by position: a pending-ack record holds back trimming but not
  // readers (a pipeline's own pending acks must not stall its input).
  std::map<TxnKey, Pos> first_data_;
  std::map<Pos, TxnKey> by_first_data_;
  std::map<Pos, TxnKey> entries_;   // Transactional data entries.
  std::set<Pos> control_;           // Markers and pending-ack records.
  std::set<TxnKey> ending_;
  std::set<TxnKey> committed_;
  std::set<TxnKey> aborted_;
  std::map<TxnKey, HeldAcks> held_by_txn_;
  std::map<std::string, std::map<Pos, TxnKey>> held_;  // subscription -> entry -> txn
};

}  // namespace streamlab::pulsar
