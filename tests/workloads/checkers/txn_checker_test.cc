// The queue checker on transactions (REFERENCE.md "Pulsar transactions (PIP-31)"): what
// the log's markers make visible, and the anomalies only transactions have. Each anomaly
// is shown present and absent.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "broker/pulsar/pulsar.pb.h"
#include "broker/pulsar/wire.h"
#include "broker/storage/ledger_client.h"
#include "broker/storage/record_log.h"
#include "broker/storage/storage.pb.h"
#include "workloads/history/pipeline_payload.h"
#include "workloads/checkers/queue_checker.h"
#include "tests/workloads/evidence.h"
#include "workloads/checkers/queue_log.h"

namespace streamlab::workloads {
namespace {

using test::anomalies_of;
using test::contains;
using test::count;
using test::example;
using test::frame;
using test::MetaLogWriter;

constexpr std::int64_t kMs = 1'000'000;
const std::vector<std::string> kBookies = {"b1", "b2", "b3"};

// Where a message was said to be: ledger, entry, batch index.
struct Pos {
  std::uint64_t ledger = 0;
  std::int64_t entry = -1;
  std::int32_t batch = -1;
};

// Builds a transactional run's evidence by hand, as queue_checker_test.cc's QueueRun does:
// the clients' history, the metadata log and the bookies' journals. Every stored partition
// has one open ledger (E=3, Qw=2, Qa=2 on b1 b2 b3), numbered from 1 in the order of the
// topics' names and partitions, and each store appends the next entry to it.
class TxnRun {
 public:
  // Configured topic -> partitions (0: not partitioned).
  explicit TxnRun(std::map<std::string, std::uint32_t> configured) : topics(std::move(configured)) {
    for (const auto& [topic, partitions] : topics) {
      for (std::uint32_t p = 0; p < std::max<std::uint32_t>(partitions, 1); ++p) {
        open(stored(topic, p));
      }
    }
    subscriptions["sub"] = pulsar::EXCLUSIVE;
  }

  // The coordinator's own log, listed as a topic's: records that are no batches.
  void coordinator_log() {
    topics[pulsar::kTxnCoordinator] = 0;
    open(pulsar::kTxnCoordinator);
    pulsar::TxnLogRecord record;
    record.set_state(pulsar::TxnLogRecord::COMMITTED);
    record.mutable_txn()->set_least(1);
    record.add_topics("orders-partition-0");
    const std::uint64_t ledger = ledger_of(pulsar::kTxnCoordinator, 0);
    append_raw(ledger, record.SerializeAsString());
    topics.erase(pulsar::kTxnCoordinator);
  }

  std::string stored(const std::string& topic, std::uint32_t p) const {
    return topics.at(topic) == 0 ? topic : pulsar::partition_name(topic, p);
  }

  // Appends a producer's batch (messages by number, payloads as the queue workload
  // writes them) to the partition, inside txn if set. Returns its entry.
  std::int64_t store(const std::string& topic, std::uint32_t p, const std::string& producer,
                     const std::vector<std::uint64_t>& numbers, const std::string& txn = "") {
    pulsar::EntryData batch = batch_of(producer, txn);
    for (std::uint64_t number : numbers) {
      std::string payload(12, 'x');
      for (int i = 0; i < 8; ++i) payload[i] = static_cast<char>(number >> (8 * i));
      add_message(batch, number, payload);
    }
    return append(topic, p, batch);
  }
  // A pipeline's output message made from `source`.
  std::int64_t store_output(const std::string& topic, std::uint32_t p, const std::string& producer,
                            std::uint64_t number, const PipelineSource& source,
                            const std::string& txn) {
    pulsar::EntryData batch = batch_of(producer, txn);
    add_message(batch, number, encode_pipeline_payload(number, source));
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
    QueueOp op = base(t, 1, OpType::invoke, QueueOpKind::send, producer, seq, topic, 0);
    op.txn = txn;
    history_.push_back(op);
  }
  void ok(std::int64_t t, const std::string& producer, std::uint64_t seq,
          const std::string& topic, std::uint32_t p, Pos at, const std::string& txn = "") {
    QueueOp op = base(t, 1, OpType::ok, QueueOpKind::send, producer, seq, topic, p);
    place(op, at);
    op.broker = "broker-1";
    op.txn = txn;
    history_.push_back(op);
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
    QueueOp op = base(t, 1, OpType::invoke, kind, "", 0, "", 0);
    op.txn = txn;
    history_.push_back(op);
    op.time_ns = t + kMs;
    op.type = outcome;
    if (outcome != OpType::ok) op.error = "timeout";
    history_.push_back(op);
  }
  void poll(std::int64_t t, std::uint32_t process, const std::string& producer,
            std::uint64_t seq, const std::string& topic, std::uint32_t p, Pos at,
            const std::string& subscription = "sub") {
    QueueOp op = base(t, process, OpType::ok, QueueOpKind::poll, producer, seq, topic, p);
    place(op, at);
    op.subscription = subscription;
    history_.push_back(op);
  }
  void ack(std::int64_t t, std::uint32_t process, const std::string& producer,
           std::uint64_t seq, const std::string& topic, std::uint32_t p, Pos at,
           const std::string& txn = "", const std::string& subscription = "sub") {
    QueueOp op = base(t, process, OpType::ok, QueueOpKind::ack, producer, seq, topic, p);
    place(op, at);
    op.subscription = subscription;
    op.txn = txn;
    history_.push_back(op);
  }

  std::uint64_t ledger_of(const std::string& topic, std::uint32_t p) const {
    return ledgers_.at(stored(topic, p));
  }

  QueueCheckInput input() const {
    QueueCheckInput in;
    in.history = &history_;
    in.metadata_log = meta_.bytes();
    for (const auto& [bookie, bytes] : journals_) in.journals[bookie] = bytes;
    in.process_name = [](std::uint32_t p) { return "client-" + std::to_string(p); };
    in.topics = topics;
    in.subscriptions = subscriptions;
    in.unseen_grace_ns = unseen_grace_ns;
    return in;
  }
  CheckResult check() const { return check_queue(input()); }

  std::map<std::string, std::uint32_t> topics;
  std::map<std::string, pulsar::SubscriptionType> subscriptions;
  std::int64_t unseen_grace_ns = 1'000 * kMs;

 private:
  void open(const std::string& partition) {
    const std::uint64_t ledger = ledgers_.size() + 1;
    ledgers_[partition] = ledger;
    next_entry_[ledger] = 0;
    storage::LedgerMetadata m;
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
    pulsar::ManagedLedgerInfo info;
    auto* l = info.add_ledgers();
    l->set_ledger_id(ledger);
    l->set_entries(-1);
    l->set_ordinal(1);
    meta_.put("/topics/" + partition + "/ledgers", info.SerializeAsString());
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
  // The client library's sequence ids are its own (1000 + the number): the payload names it.
  static void add_message(pulsar::EntryData& batch, std::uint64_t number,
                          const std::string& payload) {
    auto* m = batch.add_messages();
    m->set_sequence_id(1000 + number);
    m->set_payload(payload);
  }

  // Stores the entry as the partition's next, on its write set (entry e on bookies e mod 3
  // and e + 1 mod 3).
  std::int64_t append(const std::string& topic, std::uint32_t p, const pulsar::EntryData& entry) {
    return append_raw(ledger_of(topic, p), entry.SerializeAsString());
  }
  std::int64_t append_raw(std::uint64_t ledger, const std::string& payload) {
    const std::int64_t e = next_entry_[ledger]++;
    for (std::uint32_t i = 0; i < 2; ++i) {
      storage::JournalRecord r;
      r.set_ledger_id(ledger);
      r.set_entry_id(e);
      r.set_lac(e - 1);
      r.set_payload(payload);
      frame(r, journals_[kBookies[(static_cast<std::size_t>(e) + i) % 3]]);
    }
    return e;
  }

  QueueOp base(std::int64_t t, std::uint32_t process, OpType type, QueueOpKind kind,
               const std::string& producer, std::uint64_t seq, const std::string& topic,
               std::uint32_t p) const {
    QueueOp op;
    op.time_ns = t;
    op.process = process;
    op.type = type;
    op.kind = kind;
    op.producer = producer;
    op.seq = seq;
    op.topic = topic;
    op.partition = p;
    return op;
  }
  static void place(QueueOp& op, Pos at) {
    op.ledger_id = at.ledger;
    op.entry_id = at.entry;
    op.batch_index = at.batch;
  }


  std::map<std::string, std::uint64_t> ledgers_;  // Stored partition -> its ledger.
  std::map<std::uint64_t, std::int64_t> next_entry_;
  MetaLogWriter meta_;
  std::map<std::string, std::vector<std::uint8_t>> journals_;
  std::vector<QueueOp> history_;
};


// "orders" has two partitions (ledger 1: orders-partition-0, ledger 2: orders-partition-1).
TxnRun orders() { return TxnRun({{"orders", 2}}); }

// Transaction 0:1 of producer t1 sends #1 to partition 0 and #2 to partition 1 (entry 0 of
// each), then `end` writes its markers (entry 1 of each).
struct TwoPartitionTxn {
  Pos first;
  Pos second;
};
TwoPartitionTxn send_two(TxnRun& run) {
  return {run.send(0, "t1", 1, "orders", 0, "0:1"), run.send(0, "t1", 2, "orders", 1, "0:1")};
}

// [SECTION] Visibility: control entries, and the verdicts transactions must not disturb

TEST(TxnChecker, CommittedTransactionIsCleanAndControlEntriesAreNotUnexpected) {
  TxnRun run = orders();
  const TwoPartitionTxn sent = send_two(run);
  run.pending_ack("orders", 0, "0:1", "sub");
  run.marker("orders", 0, "0:1", true);
  run.marker("orders", 1, "0:1", true);
  run.end(10 * kMs, "0:1", true);
  run.poll(20 * kMs, 2, "t1", 1, "orders", 0, sent.first);
  run.poll(21 * kMs, 2, "t1", 2, "orders", 1, sent.second);
  run.invoke(5'000 * kMs, "p9", 1, "orders");  // The history ends at 5s.

  const CheckResult r = run.check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("log_messages"), 2);
  EXPECT_EQ(r.metrics.at("log_entries"), 5);
  EXPECT_EQ(r.metrics.at("log_control_entries"), 3);
  EXPECT_EQ(r.metrics.at("txn_commits_ok"), 1);
  EXPECT_EQ(r.metrics.at("ops_ok"), 2);  // Sends only: the commit is no publish op.
}

// The coordinator's transaction log is a managed ledger listed like a topic's: not read.
TEST(TxnChecker, CoordinatorLogIsNoTopic) {
  TxnRun run = orders();
  const Pos one = run.send(0, "p1", 1, "orders", 0);
  run.poll(10 * kMs, 2, "p1", 1, "orders", 0, one);
  run.coordinator_log();

  const CheckResult r = run.check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("log_entries"), 1);
}

// An aborted transaction's messages are invisible: neither the one the log lost nor the one
// no consumer got is an anomaly, and an exclusive consumer's hole over it is no skip.
TEST(TxnChecker, AbortedTransactionsMessagesAreNeitherLostNorUnseenNorSkipped) {
  TxnRun run = orders();
  const Pos one = run.send(0, "p1", 1, "orders", 0);
  run.send(5 * kMs, "t1", 1, "orders", 0, "0:1");  // Stored, never delivered.
  run.invoke(6 * kMs, "t1", 2, "orders", "0:1");
  run.ok(7 * kMs, "t1", 2, "orders", 0, Pos{1, 5, 0}, "0:1");  // Acked, never stored.
  run.marker("orders", 0, "0:1", false);
  run.end(10 * kMs, "0:1", false);
  const Pos two = run.send(20 * kMs, "p1", 2, "orders", 0);
  run.poll(30 * kMs, 2, "p1", 1, "orders", 0, one);
  run.poll(31 * kMs, 2, "p1", 2, "orders", 0, two);
  run.unseen_grace_ns = 0;
  run.invoke(5'000 * kMs, "p9", 1, "orders");

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "lost-write"), 0u) << anomalies_of(r);
  EXPECT_EQ(count(r, "unseen"), 0u) << anomalies_of(r);
  EXPECT_EQ(count(r, "poll-skip"), 0u) << anomalies_of(r);
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
  // Only the two ordinary messages (never acked) wait: the aborted ones wait for nobody.
  EXPECT_EQ(r.metrics.at("backlog_end"), 2);
}

// The same run with an ordinary message in the aborted one's place: now the hole is real.
TEST(TxnChecker, OrdinaryMessageInTheHoleIsStillSkipped) {
  TxnRun run = orders();
  const Pos one = run.send(0, "p1", 1, "orders", 0);
  run.send(5 * kMs, "p1", 2, "orders", 0);
  const Pos three = run.send(20 * kMs, "p1", 3, "orders", 0);
  run.poll(30 * kMs, 2, "p1", 1, "orders", 0, one);
  run.poll(31 * kMs, 2, "p1", 3, "orders", 0, three);

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "poll-skip"), 1u) << anomalies_of(r);
}

TEST(TxnChecker, AbortedCopyIsNoDuplicateOfTheCommittedOne) {
  TxnRun run = orders();
  run.send(0, "t1", 1, "orders", 0, "0:1");
  run.marker("orders", 0, "0:1", false);
  const Pos again = run.send(10 * kMs, "t1", 1, "orders", 0, "0:2");  // Retried in a new txn.
  run.marker("orders", 0, "0:2", true);
  run.end(20 * kMs, "0:2", true);
  run.poll(30 * kMs, 2, "t1", 1, "orders", 0, again);

  CheckResult r = run.check();
  EXPECT_EQ(count(r, "duplicate"), 0u) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("log_duplicates"), 0);

  TxnRun both = orders();  // Both copies committed: a reader gets it twice.
  both.send(0, "t1", 1, "orders", 0, "0:1");
  both.marker("orders", 0, "0:1", true);
  both.send(10 * kMs, "t1", 1, "orders", 0, "0:2");
  both.marker("orders", 0, "0:2", true);
  r = both.check();
  EXPECT_EQ(count(r, "duplicate"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "duplicate"),
                       "t1 message #1 of orders-partition-0 is stored 2 times, first at ledger 1 "
                       "entry 0 batch index 0 and again at ledger 1 entry 2 batch index 0"))
      << example(r, "duplicate");
}

// Sent in 0:1 (aborted), then again in 0:2 (committed): 0:2 decides, so never delivering
// it is unseen.
TEST(TxnChecker, MessageResentInACommittedTransactionIsJudgedByIt) {
  TxnRun run = orders();
  run.send(0, "t1", 1, "orders", 0, "0:1");
  run.marker("orders", 0, "0:1", false);
  run.end(5 * kMs, "0:1", false);
  run.send(10 * kMs, "t1", 1, "orders", 0, "0:2");
  run.marker("orders", 0, "0:2", true);
  run.end(20 * kMs, "0:2", true);
  run.poll(30 * kMs, 2, "p1", 9, "orders", 1, Pos{});  // "sub" reads orders.
  run.invoke(5'000 * kMs, "p9", 1, "orders");

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "unseen"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "unseen"),
                       "t1 message #1 of orders-partition-0 sent by client-1 in txn 0:2"))
      << example(r, "unseen");
}

// Readers apply a transaction's first marker; a second, contrary one is partial-txn.
TEST(TxnChecker, FirstMarkerDecidesTheOutcome) {
  TxnRun run = orders();
  const Pos one = run.send(0, "t1", 1, "orders", 0, "0:1");
  run.marker("orders", 0, "0:1", true);
  run.marker("orders", 0, "0:1", false);
  run.poll(20 * kMs, 2, "t1", 1, "orders", 0, one);

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "G1a"), 0u) << anomalies_of(r);
  EXPECT_EQ(count(r, "partial-txn"), 1u) << anomalies_of(r);
}

// No commit returned ok: the entry after the marker times the commit only if it was stored
// once, or the ops might speak of another copy.
TEST(TxnChecker, OnlyAMessageStoredOnceTimesACommit) {
  const auto build = [](bool copy_of_an_earlier_message) {
    TxnRun run = orders();
    const Pos early = run.send(kMs, "p1", 1, "orders", 0);  // Entry 0.
    run.send(kMs, "t1", 1, "orders", 0, "0:1");            // Entry 1.
    run.marker("orders", 0, "0:1", true);                  // Entry 2.
    run.end(4 * kMs, "0:1", true, OpType::info);
    run.poll(3 * kMs, 2, "p1", 1, "orders", 0, early);
    if (copy_of_an_earlier_message) {
      run.store("orders", 0, "p1", {1});  // Entry 3: p1 #1 again; its delivery was entry 0.
    } else {
      run.invoke(kMs, "p1", 2, "orders");
      const Pos later{1, run.store("orders", 0, "p1", {2}), 0};
      run.poll(3 * kMs, 2, "p1", 2, "orders", 0, later);
    }
    run.invoke(5'000 * kMs, "p9", 1, "orders");
    return run.check();
  };
  CheckResult r = build(false);
  EXPECT_EQ(count(r, "unseen"), 1u) << anomalies_of(r);  // t1 #1, committed by 3ms.
  EXPECT_TRUE(contains(example(r, "unseen"), "t1 message #1")) << example(r, "unseen");
  r = build(true);
  EXPECT_EQ(count(r, "unseen"), 0u) << anomalies_of(r);  // When it committed is unknown.
}

// A pipeline acked #1 inside a transaction that aborted: the ack never took effect, so the
// broker rightly delivers it again.
TEST(TxnChecker, AckInAnAbortedTransactionDoesNotMakeARedeliveryDuplicate) {
  TxnRun run = orders();
  const Pos one = run.send(0, "p1", 1, "orders", 0);
  run.poll(10 * kMs, 2, "p1", 1, "orders", 0, one);
  run.ack(11 * kMs, 2, "p1", 1, "orders", 0, one, "0:5");
  run.pending_ack("orders", 0, "0:5", "sub");
  run.marker("orders", 0, "0:5", false);
  run.poll(30 * kMs, 2, "p1", 1, "orders", 0, one);

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "duplicate-delivery"), 0u) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("redeliveries"), 1);
}

TEST(TxnChecker, AckInACommittedTransactionMakesARedeliveryDuplicate) {
  TxnRun run = orders();
  const Pos one = run.send(0, "p1", 1, "orders", 0);
  run.poll(10 * kMs, 2, "p1", 1, "orders", 0, one);
  run.ack(11 * kMs, 2, "p1", 1, "orders", 0, one, "0:5");
  run.pending_ack("orders", 0, "0:5", "sub");
  run.marker("orders", 0, "0:5", true);
  run.poll(30 * kMs, 2, "p1", 1, "orders", 0, one);

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "duplicate-delivery"), 1u) << anomalies_of(r);
}

TEST(TxnChecker, CommittedMessageNeverDeliveredIsUnseen) {
  TxnRun run = orders();
  const TwoPartitionTxn sent = send_two(run);
  run.marker("orders", 0, "0:1", true);
  run.marker("orders", 1, "0:1", true);
  run.end(10 * kMs, "0:1", true);  // Committed at 11ms.
  run.poll(20 * kMs, 2, "t1", 1, "orders", 0, sent.first);
  run.invoke(5'000 * kMs, "p9", 1, "orders");

  CheckResult r = run.check();
  EXPECT_EQ(count(r, "unseen"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "unseen"),
                       "t1 message #2 of orders-partition-1 sent by client-1 in txn 0:1 was "
                       "acknowledged by broker-1 at 0.001000s as ledger 2 entry 0 batch index 0"))
      << example(r, "unseen");

  run.unseen_grace_ns = 6'000 * kMs;  // Still on its way.
  r = run.check();
  EXPECT_EQ(count(r, "unseen"), 0u) << anomalies_of(r);
}

// Sent long ago but committed just now (by the commit's ok): not unseen yet.
TEST(TxnChecker, UnseenCountsFromTheCommit) {
  TxnRun run = orders();
  const TwoPartitionTxn sent = send_two(run);
  run.marker("orders", 0, "0:1", true);
  run.marker("orders", 1, "0:1", true);
  run.end(4'900 * kMs, "0:1", true);
  run.poll(4'950 * kMs, 2, "t1", 1, "orders", 0, sent.first);
  run.invoke(5'000 * kMs, "p9", 1, "orders");

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "unseen"), 0u) << anomalies_of(r);
  EXPECT_EQ(count(r, "partial-txn"), 0u) << anomalies_of(r);
}

// [SECTION] G1a

TEST(TxnChecker, ReadOfAnAbortedOrUnfinishedTransactionIsG1a) {
  TxnRun run = orders();
  const Pos aborted = run.send(0, "t1", 1, "orders", 0, "0:1");
  run.marker("orders", 0, "0:1", false);
  run.end(5 * kMs, "0:1", false);
  const Pos open = run.send(10 * kMs, "t1", 2, "orders", 1, "0:2");  // No marker, ever.
  run.poll(20 * kMs, 2, "t1", 1, "orders", 0, aborted);  // A read-uncommitted consumer.
  run.poll(30 * kMs, 2, "t1", 2, "orders", 1, open);

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "G1a"), 2u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "G1a"),
                       "subscription \"sub\" got t1 message #1 of orders-partition-0 (ledger 1 "
                       "entry 0 batch index 0, in txn 0:1) on client-2 at 0.020000s, but txn "
                       "0:1's first marker there is its abort marker at ledger 1 entry 1 of "
                       "orders-partition-0; its abort returned ok at 0.006000s"))
      << example(r, "G1a");
  EXPECT_EQ(r.metrics.at("aborted_reads"), 2);
}

TEST(TxnChecker, ReadOfACommittedTransactionIsNotG1a) {
  TxnRun run = orders();
  const Pos committed = run.send(0, "t1", 1, "orders", 0, "0:1");
  run.marker("orders", 0, "0:1", true);
  run.poll(20 * kMs, 2, "t1", 1, "orders", 0, committed);

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "G1a"), 0u) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("aborted_reads"), 0);
}

// [SECTION] partial-txn

TEST(TxnChecker, CommitInOnePartitionAndAbortInAnotherIsPartialTxn) {
  TxnRun run = orders();
  send_two(run);
  run.marker("orders", 0, "0:1", true);
  run.marker("orders", 1, "0:1", false);
  run.end(10 * kMs, "0:1", true, OpType::info);

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "partial-txn"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "partial-txn"),
                       "txn 0:1 has a commit marker at ledger 1 entry 1 of orders-partition-0 and "
                       "an abort marker at ledger 2 entry 1 of orders-partition-1: it committed "
                       "in part and aborted in part"))
      << example(r, "partial-txn");
}

TEST(TxnChecker, TransactionAbortedEverywhereIsNotPartial) {
  TxnRun run = orders();
  send_two(run);
  run.marker("orders", 0, "0:1", false);
  run.marker("orders", 1, "0:1", false);
  run.end(10 * kMs, "0:1", false);

  const CheckResult r = run.check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
}

// The subscription got #1 of the transaction but, long after the commit, still not #2.
TEST(TxnChecker, SubscriptionGettingPartOfACommittedTransactionIsPartialTxn) {
  TxnRun run = orders();
  const TwoPartitionTxn sent = send_two(run);
  run.marker("orders", 0, "0:1", true);
  run.marker("orders", 1, "0:1", true);
  run.end(10 * kMs, "0:1", true);
  run.poll(20 * kMs, 2, "t1", 1, "orders", 0, sent.first);
  run.invoke(5'000 * kMs, "p9", 1, "orders");

  CheckResult r = run.check();
  EXPECT_EQ(count(r, "partial-txn"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "partial-txn"),
                       "subscription \"sub\" got 1 of the 2 messages txn 0:1 committed on the "
                       "topics it reads, t1 message #1 of orders-partition-0 among them, but "
                       "never t1 message #2 of orders-partition-1 at ledger 2 entry 0 batch "
                       "index 0, although the transaction had committed by 0.011000s (the "
                       "history ends at 5.000000s)"))
      << example(r, "partial-txn");

  run.unseen_grace_ns = 6'000 * kMs;  // The rest may still be on its way.
  r = run.check();
  EXPECT_EQ(count(r, "partial-txn"), 0u) << anomalies_of(r);
}

TEST(TxnChecker, SubscriptionGettingAllOfACommittedTransactionIsNotPartial) {
  TxnRun run = orders();
  const TwoPartitionTxn sent = send_two(run);
  run.marker("orders", 0, "0:1", true);
  run.marker("orders", 1, "0:1", true);
  run.end(10 * kMs, "0:1", true);
  run.poll(20 * kMs, 2, "t1", 1, "orders", 0, sent.first);
  run.poll(21 * kMs, 2, "t1", 2, "orders", 1, sent.second);
  run.invoke(5'000 * kMs, "p9", 1, "orders");

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "partial-txn"), 0u) << anomalies_of(r);
}

// Only the topics a subscription reads count: "sub" reads orders, "audit-sub" audit, and
// each got all of the transaction that is on its topic.
TEST(TxnChecker, PartialTxnCountsOnlyTheTopicsASubscriptionReads) {
  TxnRun run({{"audit", 0}, {"orders", 2}});
  const Pos order = run.send(0, "t1", 1, "orders", 0, "0:1");
  const Pos audit = run.send(0, "t1", 2, "audit", 0, "0:1");
  run.marker("orders", 0, "0:1", true);
  run.marker("audit", 0, "0:1", true);
  run.end(10 * kMs, "0:1", true);
  run.poll(20 * kMs, 2, "t1", 1, "orders", 0, order);
  run.poll(21 * kMs, 3, "t1", 2, "audit", 0, audit, "audit-sub");
  run.invoke(5'000 * kMs, "p9", 1, "orders");

  CheckResult r = run.check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);

  const Pos other = run.send(30 * kMs, "p1", 1, "audit", 0);
  run.poll(40 * kMs, 2, "p1", 1, "audit", 0, other);  // Now "sub" reads audit too...
  r = run.check();
  EXPECT_EQ(count(r, "partial-txn"), 1u) << anomalies_of(r);  // ...and never got t1 #2.
  EXPECT_TRUE(contains(example(r, "partial-txn"), "subscription \"sub\" got 1 of the 2"))
      << example(r, "partial-txn");
}

// Nobody heard the commit's answer, but the log holds the markers: the commit happened by
// the time an entry after a marker was acknowledged, and only then.
TEST(TxnChecker, CommitTimeComesFromTheLogWhenNoCommitReturnedOk) {
  const auto build = [](bool later_entry) {
    TxnRun run = orders();
    const TwoPartitionTxn sent = send_two(run);
    run.marker("orders", 0, "0:1", true);
    run.marker("orders", 1, "0:1", true);
    run.end(10 * kMs, "0:1", true, OpType::info);
    if (later_entry) run.send(100 * kMs, "p1", 1, "orders", 1);  // Acked at 101ms.
    run.poll(200 * kMs, 2, "t1", 1, "orders", 0, sent.first);
    run.invoke(5'000 * kMs, "p9", 1, "orders");
    return run;
  };
  CheckResult r = build(true).check();
  EXPECT_EQ(count(r, "partial-txn"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "partial-txn"), "had committed by 0.101000s"))
      << example(r, "partial-txn");

  r = build(false).check();  // When it committed is unknown: no verdict.
  EXPECT_EQ(count(r, "partial-txn"), 0u) << anomalies_of(r);
}

// [SECTION] lost-write of a confirmed commit

TEST(TxnChecker, ConfirmedCommitWithoutItsMarkerIsLostWrite) {
  TxnRun run = orders();
  send_two(run);
  run.marker("orders", 0, "0:1", true);  // Partition 1 never got its marker.
  run.end(10 * kMs, "0:1", true);

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "lost-write"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "lost-write"),
                       "txn 0:1's commit returned ok on client-1 at 0.011000s, but t1 message #2 "
                       "of orders-partition-1, whose send in it was acknowledged at 0.001000s as "
                       "ledger 2 entry 0 batch index 0, is invisible: the log of "
                       "orders-partition-1 holds no marker of txn 0:1"))
      << example(r, "lost-write");
}

TEST(TxnChecker, ConfirmedCommitOfATransactionAbortedSomewhereIsLostWrite) {
  TxnRun run = orders();
  run.send(0, "t1", 1, "orders", 0, "0:1");
  run.marker("orders", 0, "0:1", true);
  run.pending_ack("orders", 1, "0:1", "sub");
  run.marker("orders", 1, "0:1", false);  // Where it only acked.
  run.end(10 * kMs, "0:1", true);

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "lost-write"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "lost-write"),
                       "txn 0:1's commit returned ok on client-1 at 0.011000s, but the log holds "
                       "its abort marker at ledger 2 entry 1 of orders-partition-1"))
      << example(r, "lost-write");
  EXPECT_EQ(count(r, "partial-txn"), 1u) << anomalies_of(r);
}

TEST(TxnChecker, UnconfirmedCommitWithoutMarkersIsNoLostWrite) {
  TxnRun run = orders();
  send_two(run);
  run.end(10 * kMs, "0:1", true, OpType::info);  // Timed out; the coordinator aborted it.

  TxnRun confirmed = orders();  // A confirmed commit with every marker.
  send_two(confirmed);
  confirmed.marker("orders", 0, "0:1", true);
  confirmed.marker("orders", 1, "0:1", true);
  confirmed.end(10 * kMs, "0:1", true);

  for (const CheckResult& r : {run.check(), confirmed.check()}) {
    EXPECT_EQ(count(r, "lost-write"), 0u) << anomalies_of(r);
  }
}

// Where the transaction committed, an acknowledged message missing from the log is lost
// as any message is (once per message, by the ordinary rule).
TEST(TxnChecker, MessageMissingWhereItsTransactionCommittedIsLostWrite) {
  TxnRun run = orders();
  run.invoke(0, "t1", 1, "orders", "0:1");
  run.ok(kMs, "t1", 1, "orders", 0, Pos{1, 3, 0}, "0:1");  // Acked, never stored.
  run.marker("orders", 0, "0:1", true);
  run.end(10 * kMs, "0:1", true);

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "lost-write"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "lost-write"),
                       "t1 message #1 of orders-partition-0 sent by client-1 in txn 0:1 was "
                       "acknowledged"))
      << example(r, "lost-write");
}

// [SECTION] duplicate across a pipeline

// The pipeline read p1 #1 from "in" and wrote its output twice, in two committed
// transactions (a zombie instance redid the work).
TxnRun pipeline(bool second_commits) {
  TxnRun run({{"in", 0}, {"out", 2}});  // Ledger 1: in; 2, 3: out's partitions.
  run.send(0, "p1", 1, "in", 0);
  const PipelineSource source{"in", "p1", 1};
  run.invoke(10 * kMs, "pipe", 0, "out", "0:1");
  run.store_output("out", 0, "pipe", 0, source, "0:1");
  run.ok(11 * kMs, "pipe", 0, "out", 0, Pos{2, 0, 0}, "0:1");
  run.marker("out", 0, "0:1", true);
  run.invoke(20 * kMs, "pipe", 1, "out", "0:2");
  run.store_output("out", 1, "pipe", 1, source, "0:2");
  run.ok(21 * kMs, "pipe", 1, "out", 1, Pos{3, 0, 0}, "0:2");
  run.marker("out", 1, "0:2", second_commits);
  return run;
}

TEST(TxnChecker, OneInputTransformedTwiceIsDuplicate) {
  const CheckResult r = pipeline(true).check();
  EXPECT_EQ(count(r, "duplicate"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "duplicate"),
                       "one input transformed twice: p1 message #1 of in became pipe message #0 "
                       "of out-partition-0 at ledger 2 entry 0 batch index 0 (txn 0:1, "
                       "acknowledged at 0.011000s), and again pipe message #1 of "
                       "out-partition-1 at ledger 3 entry 0 batch index 0 (txn 0:2, "
                       "acknowledged at 0.021000s)"))
      << example(r, "duplicate");
  EXPECT_EQ(r.metrics.at("pipeline_duplicates"), 1);
  EXPECT_EQ(r.metrics.at("log_duplicates"), 0);
}

TEST(TxnChecker, OutputOfAnAbortedTransactionIsNoDuplicate) {
  const CheckResult r = pipeline(false).check();
  EXPECT_EQ(count(r, "duplicate"), 0u) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("pipeline_duplicates"), 0);
}

// [SECTION] The log as read

TEST(TxnQueueLog, RecordsMarkersTransactionsAndPipelineSources) {
  TxnRun run({{"in", 0}, {"out", 0}});  // Ledger 1: in; ledger 2: out.
  run.store("out", 0, "p1", {1});
  run.store_output("out", 0, "pipe", 0, PipelineSource{"in", "p1", 1}, "0:7");
  run.pending_ack("out", 0, "0:7", "sub");
  run.marker("out", 0, "0:7", true);
  run.store("out", 0, "p1", {2, 3}, "0:8");
  run.marker("out", 0, "0:8", false);

  const QueueCheckInput in = run.input();
  NameTable partitions;
  NameTable producers;
  NameTable txns;
  MessageTable messages;
  const QueueLog log = read_queue_log(in.metadata_log, in.journals, false,
                                      LogNames{partitions, producers, txns, messages});
  EXPECT_TRUE(log.bad_entries.empty());
  EXPECT_EQ(log.control_entries, 3u);
  EXPECT_EQ(log.entries, 6u);
  const PartitionLog& out = log.partitions.at(partitions.find("out").value());
  ASSERT_EQ(out.messages.size(), 4u);
  EXPECT_EQ(out.messages[0].txn, kNoIndex);
  EXPECT_EQ(txns.name(out.messages[1].txn), "0:7");
  EXPECT_EQ(txns.name(out.messages[2].txn), "0:8");
  EXPECT_EQ(out.messages[3].txn, out.messages[2].txn);
  ASSERT_EQ(out.markers.size(), 2u);
  EXPECT_EQ(txns.name(out.markers[0].txn), "0:7");
  EXPECT_TRUE(out.markers[0].commit);
  EXPECT_EQ(out.markers[0].at, 2u);  // After the first two messages...
  EXPECT_EQ(out.markers[0].entry, 3);
  EXPECT_FALSE(out.markers[1].commit);
  EXPECT_EQ(out.markers[1].at, 4u);  // ...and after all four.
  ASSERT_EQ(log.pipeline_outputs.size(), 1u);
  EXPECT_EQ(log.pipeline_outputs[0].at, 1u);
  EXPECT_EQ(log.pipeline_outputs[0].source, (PipelineSource{"in", "p1", 1}));
}

TEST(TxnQueueLog, EmptyBatchIsStillABadEntry) {
  TxnRun run({{"out", 0}});
  run.store("out", 0, "p1", {});
  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "unexpected"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "unexpected"), "holds an empty batch")) << example(r, "unexpected");
}

}  // namespace
}  // namespace streamlab::workloads
