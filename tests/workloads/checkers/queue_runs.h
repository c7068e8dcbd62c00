#pragma once

// Queue runs built by hand for the queue checker's tests: the clients' history, the
// metadata store's log (ledger metadata and the topics' ledger lists, one put per change)
// and the bookies' journals, each entry a producer's batch or a transaction's control entry
// stored on its write set. Shared by queue_checker_*_test.cc, txn_checker_*_test.cc and
// txn_queue_log_test.cc, so nothing here lives in an anonymous namespace.
//
// [SECTION] QueueEvidence: the evidence and the history ops every run is made of
// [SECTION] QueueRun: a plain queue run, every entry placed by hand as (ledger, entry)
// [SECTION] TxnRun: one open ledger per partition, appended to in order, with transactions

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "broker/pulsar/pulsar.pb.h"
#include "broker/pulsar/wire.h"
#include "broker/storage/ledger_client.h"
#include "broker/storage/record_log.h"
#include "broker/storage/storage.pb.h"
#include "tests/workloads/evidence.h"
#include "workloads/checkers/queue_checker.h"
#include "workloads/history/pipeline_payload.h"
#include "workloads/history/queue_history.h"

namespace streamlab::workloads::test {

inline constexpr std::int64_t kMs = 1'000'000;
// Every ledger's ensemble.
inline const std::vector<std::string> kBookies = {"b1", "b2", "b3"};

// Where a message was said to be: ledger, entry, batch index. The default is nowhere, as
// an op that names no position.
struct Pos {
  std::uint64_t ledger = 0;
  std::int64_t entry = -1;
  std::int32_t batch = -1;
};

// The payload the queue workload writes for message `number`: 12 bytes that start with the
// number, least significant byte first.
inline std::string number_payload(std::uint64_t number) {
  std::string payload(12, 'x');
  for (int i = 0; i < 8; ++i) payload[i] = static_cast<char>(number >> (8 * i));
  return payload;
}

inline void add_message(pulsar::EntryData& batch, std::uint64_t sequence_id,
                        const std::string& payload) {
  pulsar::SingleMessage* m = batch.add_messages();
  m->set_sequence_id(sequence_id);
  m->set_payload(payload);
}

// [SECTION] QueueEvidence

class QueueEvidence {
 public:
  QueueEvidence() { subscriptions["sub"] = pulsar::EXCLUSIVE; }

  // A ledger on b1 b2 b3 with E=3, Qw=2, Qa=2, open, written by broker-1.
  void create(std::uint64_t ledger) {
    storage::LedgerMetadata& m = ledgers_[ledger];
    m.set_ensemble_size(3);
    m.set_write_quorum(2);
    m.set_ack_quorum(2);
    m.set_state(storage::OPEN);
    m.set_last_entry_id(-1);
    m.set_writer("broker-1");
    storage::Fragment* f = m.add_fragments();
    f->set_first_entry(0);
    for (const std::string& b : kBookies) f->add_bookies(b);
    meta_.put(storage::ledger_key(ledger), m.SerializeAsString());
  }

  void close(std::uint64_t ledger, std::int64_t last_entry) {
    storage::LedgerMetadata& m = ledgers_.at(ledger);
    m.set_state(storage::CLOSED);
    m.set_last_entry_id(last_entry);
    meta_.put(storage::ledger_key(ledger), m.SerializeAsString());
  }

  void remove(const std::string& key) { meta_.remove(key); }

  // Puts the partition's ledger list: ledgers in order, ordinals from first_ordinal on.
  void list(const std::string& partition, const std::vector<std::uint64_t>& ledgers,
            std::uint64_t first_ordinal = 1) {
    pulsar::ManagedLedgerInfo info;
    for (std::size_t i = 0; i < ledgers.size(); ++i) {
      auto* l = info.add_ledgers();
      l->set_ledger_id(ledgers[i]);
      l->set_entries(i + 1 == ledgers.size() ? -1 : 1);
      l->set_ordinal(first_ordinal + i);
    }
    meta_.put("/topics/" + partition + "/ledgers", info.SerializeAsString());
  }

  // Stores `payload` as (ledger, entry) on the entry's write set (E=3, Qw=2: entry e goes
  // to bookies e mod 3 and e + 1 mod 3).
  void store_raw(std::uint64_t ledger, std::int64_t entry, const std::string& payload) {
    for (std::uint32_t i = 0; i < 2; ++i) {
      storage::JournalRecord r;
      r.set_ledger_id(ledger);
      r.set_entry_id(entry);
      r.set_lac(entry - 1);
      r.set_payload(payload);
      frame(r, journals_[kBookies[(static_cast<std::size_t>(entry) + i) % 3]]);
    }
  }

  // The bookies' garbage collection: every record of the ledger leaves every journal.
  void collect(std::uint64_t ledger) {
    for (auto& [bookie, bytes] : journals_) {
      std::vector<std::uint8_t> kept;
      storage::JournalRecord r;
      for (const storage::FramedRecord& f : storage::parse_framed(bytes).records) {
        if (r.ParseFromArray(f.body.data(), static_cast<int>(f.body.size())) &&
            r.ledger_id() == ledger) {
          continue;
        }
        storage::append_framed(f.body, kept);
      }
      bytes = std::move(kept);
    }
  }

  // An op of the history: client `process` at t, on message `seq` of `producer`, said to
  // be at `at`.
  QueueOp make_op(std::int64_t t, std::uint32_t process, OpType type, QueueOpKind kind,
                  const std::string& producer, std::uint64_t seq, const std::string& topic,
                  std::uint32_t partition, Pos at = {}) const {
    QueueOp op;
    op.time_ns = t;
    op.process = process;
    op.type = type;
    op.kind = kind;
    op.producer = producer;
    op.seq = seq;
    op.topic = topic;
    op.partition = partition;
    op.ledger_id = at.ledger;
    op.entry_id = at.entry;
    op.batch_index = at.batch;
    return op;
  }
  void record(const QueueOp& op) { history_.push_back(op); }

  // The checker's input: this evidence, clients named "client-<process>", and the
  // settings below. It points into this run, which must outlive it.
  QueueCheckInput input() const {
    QueueCheckInput in;
    in.history = &history_;
    in.metadata_log = meta_.bytes();
    for (const auto& [bookie, bytes] : journals_) {
      in.bookie_files[bookie][storage::journal_file(1)] = bytes;
    }
    in.process_name = [](std::uint32_t p) { return "client-" + std::to_string(p); };
    in.topics = topics;
    in.subscriptions = subscriptions;
    in.unseen_grace_ns = unseen_grace_ns;
    return in;
  }

  std::map<std::string, std::uint32_t> topics;  // Configured topic -> partitions (0: none).
  std::map<std::string, pulsar::SubscriptionType> subscriptions;
  std::int64_t unseen_grace_ns = 5'000 * kMs;

 private:
  std::map<std::uint64_t, storage::LedgerMetadata> ledgers_;
  MetaLogWriter meta_;
  std::map<std::string, std::vector<std::uint8_t>> journals_;
  std::vector<QueueOp> history_;
};

// [SECTION] QueueRun

// A run of topic "orders" (not partitioned unless a test says so) and subscription "sub".
// Producers send from client 1; each entry is a producer's batch stored by the striping rule.
class QueueRun : public QueueEvidence {
 public:
  QueueRun() { topics["orders"] = 0; }

  // Stores a producer's batch of messages (by their numbers) as (ledger, entry), as the
  // queue workload writes them: each payload starts with the message's number, and the
  // client library gives sequence ids of its own (here 1000 + the number).
  void store(std::uint64_t ledger, std::int64_t entry, const std::string& producer,
             const std::vector<std::uint64_t>& numbers) {
    pulsar::EntryData batch;
    batch.set_producer_name(producer);
    batch.set_sequence_id(1000 + numbers.front());
    batch.set_highest_sequence_id(1000 + numbers.back());
    for (std::uint64_t number : numbers) {
      add_message(batch, by_sequence_id ? number : 1000 + number, number_payload(number));
    }
    store_raw(ledger, entry, batch.SerializeAsString());
  }

  void invoke(std::int64_t t, const std::string& producer, std::uint64_t seq,
              std::uint32_t partition = 0) {
    record(make_op(t, 1, OpType::invoke, QueueOpKind::send, producer, seq, topic, partition));
  }
  void ok(std::int64_t t, const std::string& producer, std::uint64_t seq, Pos at,
          const std::string& broker = "broker-1", std::uint32_t partition = 0) {
    QueueOp op = make_op(t, 1, OpType::ok, QueueOpKind::send, producer, seq, topic, partition, at);
    op.broker = broker;
    record(op);
  }
  void fail(std::int64_t t, const std::string& producer, std::uint64_t seq,
            OpType type = OpType::fail) {
    QueueOp op = make_op(t, 1, type, QueueOpKind::send, producer, seq, topic, 0);
    op.error = "timeout";
    record(op);
  }

  // Publishes a batch: invoked at t, stored as (ledger, entry), acked at t + 1ms.
  void publish(std::int64_t t, const std::string& producer, const std::vector<std::uint64_t>& seqs,
               std::uint64_t ledger, std::int64_t entry, const std::string& broker = "broker-1",
               std::uint32_t partition = 0) {
    for (std::uint64_t seq : seqs) invoke(t, producer, seq, partition);
    store(ledger, entry, producer, seqs);
    for (std::size_t i = 0; i < seqs.size(); ++i) {
      ok(t + kMs, producer, seqs[i], Pos{ledger, entry, static_cast<std::int32_t>(i)}, broker,
         partition);
    }
  }

  void poll(std::int64_t t, std::uint32_t process, const std::string& producer,
            std::uint64_t seq, Pos at, const std::string& subscription = "sub",
            std::uint32_t partition = 0) {
    QueueOp op = make_op(t, process, OpType::ok, QueueOpKind::poll, producer, seq, topic,
                         partition, at);
    op.subscription = subscription;
    record(op);
  }
  void ack(std::int64_t t, std::uint32_t process, const std::string& producer,
           std::uint64_t seq, Pos at, const std::string& subscription = "sub",
           std::uint32_t partition = 0) {
    QueueOp op = make_op(t, process, OpType::ok, QueueOpKind::ack, producer, seq, topic,
                         partition, at);
    op.subscription = subscription;
    record(op);
  }
  // A delivery to process 2 followed by its ack 1ms later.
  void consume(std::int64_t t, const std::string& producer, std::uint64_t seq, Pos at,
               const std::string& subscription = "sub") {
    poll(t, 2, producer, seq, at, subscription);
    ack(t + kMs, 2, producer, seq, at, subscription);
  }

  CheckResult check(std::int64_t duration_ns = 0) const {
    QueueCheckInput in = input();
    in.duration_ns = duration_ns;
    if (by_sequence_id) in.identity = QueueIdentity::sequence_id;
    return check_queue(in);
  }

  std::string topic = "orders";
  // Store sequence id = number and judge by QueueIdentity::sequence_id.
  bool by_sequence_id = false;
};

// Ledger 1 (closed at entry 1) then ledger 2 (open) of "orders": p1 sends 1..3 in three
// batches (seq 1 and 2 together in ledger 1 entry 0).
inline QueueRun three_batches() {
  QueueRun run;
  run.create(1);
  run.list("orders", {1});
  run.publish(0, "p1", {1, 2}, 1, 0);
  run.publish(10 * kMs, "p1", {3}, 1, 1);
  run.close(1, 1);
  run.create(2);
  run.list("orders", {1, 2});
  run.publish(20 * kMs, "p1", {4}, 2, 0, "broker-1");
  return run;
}

// three_batches' four messages, each delivered to client 2 and acked, 10ms apart from t.
inline void consume_all(QueueRun& run, std::int64_t t) {
  run.consume(t, "p1", 1, Pos{1, 0, 0});
  run.consume(t + 10 * kMs, "p1", 2, Pos{1, 0, 1});
  run.consume(t + 20 * kMs, "p1", 3, Pos{1, 1, 0});
  run.consume(t + 30 * kMs, "p1", 4, Pos{2, 0, 0});
}

// [SECTION] TxnRun

// A transactional run: every stored partition has one open ledger, numbered from 1 in the
// order of the topics' names and partitions, and each store appends the next entry to it.
// Transactions are named "<most>:<least>"; the client library's sequence ids are its own
// (1000 + the number): the payload names the message.
class TxnRun : public QueueEvidence {
 public:
  // Configured topic -> partitions (0: not partitioned).
  explicit TxnRun(std::map<std::string, std::uint32_t> configured) {
    topics = std::move(configured);
    unseen_grace_ns = 1'000 * kMs;
    for (const auto& [topic, partitions] : topics) {
      for (std::uint32_t p = 0; p < std::max<std::uint32_t>(partitions, 1); ++p) {
        open(stored(topic, p));
      }
    }
  }

  // The coordinator's own log, listed as a topic's: records that are no batches.
  void coordinator_log() {
    topics[pulsar::kTxnCoordinator] = 0;
    open(pulsar::kTxnCoordinator);
    pulsar::TxnLogRecord record;
    record.set_state(pulsar::TxnLogRecord::COMMITTED);
    record.mutable_txn()->set_least(1);
    record.add_topics("orders-partition-0");
    append_raw(ledger_of(pulsar::kTxnCoordinator, 0), record.SerializeAsString());
    topics.erase(pulsar::kTxnCoordinator);
  }

  std::string stored(const std::string& topic, std::uint32_t p) const {
    return topics.at(topic) == 0 ? topic : pulsar::partition_name(topic, p);
  }
  std::uint64_t ledger_of(const std::string& topic, std::uint32_t p) const {
    return partition_ledgers_.at(stored(topic, p));
  }

  // Appends a producer's batch (messages by number, payloads as the queue workload
  // writes them) to the partition, inside txn if set. Returns its entry.
  std::int64_t store(const std::string& topic, std::uint32_t p, const std::string& producer,
                     const std::vector<std::uint64_t>& numbers, const std::string& txn = "") {
    pulsar::EntryData batch = batch_of(producer, txn);
    for (std::uint64_t number : numbers) add_message(batch, 1000 + number, number_payload(number));
    return append(topic, p, batch);
  }
  // A pipeline's output message made from `source`.
  std::int64_t store_output(const std::string& topic, std::uint32_t p, const std::string& producer,
                            std::uint64_t number, const PipelineSource& source,
                            const std::string& txn) {
    pulsar::EntryData batch = batch_of(producer, txn);
    add_message(batch, 1000 + number, encode_pipeline_payload(number, source));
    return append(topic, p, batch);
  }
  std::int64_t marker(const std::string& topic, std::uint32_t p, const std::string& txn,
                      bool commit) {
    pulsar::EntryData entry;
    set_txn(entry.mutable_marker()->mutable_txn(), txn);
    entry.mutable_marker()->set_commit(commit);
    return append(topic, p, entry);
  }
  std::int64_t pending_ack(const std::string& topic, std::uint32_t p, const std::string& txn,
                           const std::string& subscription) {
    pulsar::EntryData entry;
    set_txn(entry.mutable_pending_ack()->mutable_txn(), txn);
    entry.mutable_pending_ack()->set_subscription(subscription);
    entry.mutable_pending_ack()->add_positions(1);
    return append(topic, p, entry);
  }

  void invoke(std::int64_t t, const std::string& producer, std::uint64_t seq,
              const std::string& topic, const std::string& txn = "") {
    QueueOp op = make_op(t, 1, OpType::invoke, QueueOpKind::send, producer, seq, topic, 0);
    op.txn = txn;
    record(op);
  }
  void ok(std::int64_t t, const std::string& producer, std::uint64_t seq,
          const std::string& topic, std::uint32_t p, Pos at, const std::string& txn = "") {
    QueueOp op = make_op(t, 1, OpType::ok, QueueOpKind::send, producer, seq, topic, p, at);
    op.broker = "broker-1";
    op.txn = txn;
    record(op);
  }
  // A send invoked at t, stored as the partition's next entry, acknowledged at t + 1ms.
  Pos send(std::int64_t t, const std::string& producer, std::uint64_t seq,
           const std::string& topic, std::uint32_t p, const std::string& txn = "") {
    invoke(t, producer, seq, topic, txn);
    const Pos at{ledger_of(topic, p), store(topic, p, producer, {seq}, txn), 0};
    ok(t + kMs, producer, seq, topic, p, at, txn);
    return at;
  }
  // A commit (or abort) invoked at t and answered at t + 1ms.
  void end(std::int64_t t, const std::string& txn, bool commit, OpType outcome = OpType::ok) {
    const QueueOpKind kind = commit ? QueueOpKind::commit : QueueOpKind::abort;
    QueueOp op = make_op(t, 1, OpType::invoke, kind, "", 0, "", 0);
    op.txn = txn;
    record(op);
    op.time_ns = t + kMs;
    op.type = outcome;
    if (outcome != OpType::ok) op.error = "timeout";
    record(op);
  }
  void poll(std::int64_t t, std::uint32_t process, const std::string& producer,
            std::uint64_t seq, const std::string& topic, std::uint32_t p, Pos at,
            const std::string& subscription = "sub") {
    QueueOp op = make_op(t, process, OpType::ok, QueueOpKind::poll, producer, seq, topic, p, at);
    op.subscription = subscription;
    record(op);
  }
  void ack(std::int64_t t, std::uint32_t process, const std::string& producer,
           std::uint64_t seq, const std::string& topic, std::uint32_t p, Pos at,
           const std::string& txn = "", const std::string& subscription = "sub") {
    QueueOp op = make_op(t, process, OpType::ok, QueueOpKind::ack, producer, seq, topic, p, at);
    op.subscription = subscription;
    op.txn = txn;
    record(op);
  }

  CheckResult check() const { return check_queue(input()); }

 private:
  void open(const std::string& partition) {
    const std::uint64_t ledger = partition_ledgers_.size() + 1;
    partition_ledgers_[partition] = ledger;
    next_entry_[ledger] = 0;
    create(ledger);
    list(partition, {ledger});
  }

  static void set_txn(pulsar::TxnId* id, const std::string& txn) {
    const std::size_t colon = txn.find(':');
    id->set_most(std::stoull(txn.substr(0, colon)));
    id->set_least(std::stoull(txn.substr(colon + 1)));
  }
  static pulsar::EntryData batch_of(const std::string& producer, const std::string& txn) {
    pulsar::EntryData batch;
    batch.set_producer_name(producer);
    if (!txn.empty()) set_txn(batch.mutable_txn(), txn);
    return batch;
  }

  // Stores the entry as the partition's next.
  std::int64_t append(const std::string& topic, std::uint32_t p, const pulsar::EntryData& entry) {
    return append_raw(ledger_of(topic, p), entry.SerializeAsString());
  }
  std::int64_t append_raw(std::uint64_t ledger, const std::string& payload) {
    const std::int64_t e = next_entry_[ledger]++;
    store_raw(ledger, e, payload);
    return e;
  }

  std::map<std::string, std::uint64_t> partition_ledgers_;  // Stored partition -> its ledger.
  std::map<std::uint64_t, std::int64_t> next_entry_;
};

// "orders" has two partitions (ledger 1: orders-partition-0, ledger 2: orders-partition-1).
inline TxnRun orders() { return TxnRun({{"orders", 2}}); }

// Transaction 0:1 of producer t1 sends #1 to partition 0 and #2 to partition 1 (entry 0 of
// each), then `end` writes its markers (entry 1 of each).
struct TwoPartitionTxn {
  Pos first;
  Pos second;
};
inline TwoPartitionTxn send_two(TxnRun& run) {
  return {run.send(0, "t1", 1, "orders", 0, "0:1"), run.send(0, "t1", 2, "orders", 1, "0:1")};
}

}  // namespace streamlab::workloads::test
