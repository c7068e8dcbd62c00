#include "workloads/checkers/queue_checker.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "broker/pulsar/pulsar.pb.h"
#include "broker/storage/ledger_client.h"
#include "broker/storage/record_log.h"
#include "broker/storage/storage.pb.h"
#include "tests/workloads/evidence.h"

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

// Builds a queue run's evidence by hand: the clients' history, the metadata store's log
// (ledger metadata and topics' ledger lists, one put per change) and the bookies'
// journals, with each entry a producer's batch stored by the striping rule.
class QueueRun {
 public:
  QueueRun() {
    topics["orders"] = 0;
    subscriptions["sub"] = pulsar::EXCLUSIVE;
  }

  // A ledger on b1 b2 b3 with E=3, Qw=2, Qa=2.
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

  // Puts the topic's ledger list: ledgers in order, ordinals from first_ordinal on.
  void list(const std::string& topic, const std::vector<std::uint64_t>& ledgers,
            std::uint64_t first_ordinal = 1) {
    pulsar::ManagedLedgerInfo info;
    for (std::size_t i = 0; i < ledgers.size(); ++i) {
      auto* l = info.add_ledgers();
      l->set_ledger_id(ledgers[i]);
      l->set_entries(i + 1 == ledgers.size() ? -1 : 1);
      l->set_ordinal(first_ordinal + i);
    }
    meta_.put("/topics/" + topic + "/ledgers", info.SerializeAsString());
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
      auto* m = batch.add_messages();
      m->set_sequence_id(by_sequence_id ? number : 1000 + number);
      std::string payload(12, 'x');
      for (int i = 0; i < 8; ++i) payload[i] = static_cast<char>(number >> (8 * i));
      m->set_payload(payload);
    }
    store_raw(ledger, entry, batch.SerializeAsString());
  }

  void invoke(std::int64_t t, const std::string& producer, std::uint64_t seq,
              std::uint32_t partition = 0) {
    QueueOp op = base(t, 1, OpType::invoke, QueueOpKind::send, producer, seq, partition);
    history_.push_back(op);
  }
  void ok(std::int64_t t, const std::string& producer, std::uint64_t seq, Pos at,
          const std::string& broker = "broker-1", std::uint32_t partition = 0) {
    QueueOp op = base(t, 1, OpType::ok, QueueOpKind::send, producer, seq, partition);
    place(op, at);
    op.broker = broker;
    history_.push_back(op);
  }
  void fail(std::int64_t t, const std::string& producer, std::uint64_t seq,
            OpType type = OpType::fail) {
    QueueOp op = base(t, 1, type, QueueOpKind::send, producer, seq, 0);
    op.error = "timeout";
    history_.push_back(op);
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
    QueueOp op = base(t, process, OpType::ok, QueueOpKind::poll, producer, seq, partition);
    place(op, at);
    op.subscription = subscription;
    history_.push_back(op);
  }
  void ack(std::int64_t t, std::uint32_t process, const std::string& producer,
           std::uint64_t seq, Pos at, const std::string& subscription = "sub",
           std::uint32_t partition = 0) {
    QueueOp op = base(t, process, OpType::ok, QueueOpKind::ack, producer, seq, partition);
    place(op, at);
    op.subscription = subscription;
    history_.push_back(op);
  }
  // A delivery to process 2 followed by its ack 1ms later.
  void consume(std::int64_t t, const std::string& producer, std::uint64_t seq, Pos at,
               const std::string& subscription = "sub") {
    poll(t, 2, producer, seq, at, subscription);
    ack(t + kMs, 2, producer, seq, at, subscription);
  }

  CheckResult check(std::int64_t duration_ns = 0) const {
    QueueCheckInput in;
    in.history = &history_;
    in.metadata_log = meta_.bytes();
    for (const auto& [bookie, bytes] : journals_) in.journals[bookie] = bytes;
    in.process_name = [](std::uint32_t p) { return "client-" + std::to_string(p); };
    in.duration_ns = duration_ns;
    in.topics = topics;
    in.subscriptions = subscriptions;
    in.unseen_grace_ns = unseen_grace_ns;
    if (by_sequence_id) in.identity = QueueIdentity::sequence_id;
    return check_queue(in);
  }

  std::string topic = "orders";
  std::map<std::string, std::uint32_t> topics;
  std::map<std::string, pulsar::SubscriptionType> subscriptions;
  std::int64_t unseen_grace_ns = 5'000'000'000;
  // Store sequence id = number and judge by QueueIdentity::sequence_id.
  bool by_sequence_id = false;

 private:
  QueueOp base(std::int64_t t, std::uint32_t process, OpType type, QueueOpKind kind,
               const std::string& producer, std::uint64_t seq, std::uint32_t partition) const {
    QueueOp op;
    op.time_ns = t;
    op.process = process;
    op.type = type;
    op.kind = kind;
    op.producer = producer;
    op.seq = seq;
    op.topic = topic;
    op.partition = partition;
    return op;
  }
  static void place(QueueOp& op, Pos at) {
    op.ledger_id = at.ledger;
    op.entry_id = at.entry;
    op.batch_index = at.batch;
  }



  std::map<std::uint64_t, storage::LedgerMetadata> ledgers_;
  MetaLogWriter meta_;
  std::map<std::string, std::vector<std::uint8_t>> journals_;
  std::vector<QueueOp> history_;
};


// Ledger 1 (closed at entry 1) then ledger 2 (open) of "orders": p1 sends 1..3 in three
// batches (seq 1 and 2 together in ledger 1 entry 0).
QueueRun three_batches() {
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

void consume_all(QueueRun& run, std::int64_t t) {
  run.consume(t, "p1", 1, Pos{1, 0, 0});
  run.consume(t + 10 * kMs, "p1", 2, Pos{1, 0, 1});
  run.consume(t + 20 * kMs, "p1", 3, Pos{1, 1, 0});
  run.consume(t + 30 * kMs, "p1", 4, Pos{2, 0, 0});
}

TEST(QueueChecker, CleanRunHasNoAnomalies) {
  QueueRun run = three_batches();
  run.invoke(30 * kMs, "p1", 5);  // Refused: never stored.
  run.fail(31 * kMs, "p1", 5);
  run.invoke(32 * kMs, "p1", 6);  // Unknown outcome, never stored: fine too.
  run.fail(33 * kMs, "p1", 6, OpType::info);
  run.invoke(34 * kMs, "p1", 7);  // Still pending at the end.
  consume_all(run, 100 * kMs);

  const CheckResult r = run.check(2'000'000'000);
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("ops_invoked"), 7);
  EXPECT_EQ(r.metrics.at("ops_ok"), 4);
  EXPECT_EQ(r.metrics.at("ops_fail"), 1);
  EXPECT_EQ(r.metrics.at("ops_info"), 1);
  EXPECT_EQ(r.metrics.at("ops_pending"), 1);
  EXPECT_EQ(r.metrics.at("sends_ok"), 4);
  EXPECT_EQ(r.metrics.at("deliveries"), 4);
  EXPECT_EQ(r.metrics.at("acks"), 4);
  EXPECT_EQ(r.metrics.at("redeliveries"), 0);
  EXPECT_EQ(r.metrics.at("log_messages"), 4);
  EXPECT_EQ(r.metrics.at("log_entries"), 3);
  EXPECT_EQ(r.metrics.at("log_duplicates"), 0);
  EXPECT_EQ(r.metrics.at("delivery_duplicates"), 0);
  EXPECT_NEAR(r.metrics.at("publish_p50"), 1.0, 0.05);
  EXPECT_NEAR(r.metrics.at("publish_max"), 1.0, 0.05);
  // Invoked at 0, 0, 10, 20ms; first delivered at 100, 110, 120, 130ms.
  EXPECT_NEAR(r.metrics.at("end_to_end_p50"), 110.0, 1.0);
  EXPECT_NEAR(r.metrics.at("end_to_end_max"), 110.0, 1.0);
  EXPECT_DOUBLE_EQ(r.metrics.at("throughput_publish_per_s"), 2.0);
  EXPECT_DOUBLE_EQ(r.metrics.at("throughput_consume_per_s"), 2.0);
  EXPECT_EQ(r.metrics.at("backlog_max"), 4);  // All four acked before the first delivery.
  EXPECT_EQ(r.metrics.at("backlog_end"), 0);
}

TEST(QueueChecker, EmptyRunHasNoAnomalies) {
  const CheckResult r = QueueRun().check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("log_messages"), 0);
  EXPECT_EQ(r.metrics.count("throughput_publish_per_s"), 0u);  // No duration, no rate.
  EXPECT_TRUE(r.series.at("publish_rate").empty());
}

// The client library's sequence ids and instance suffix ("~2") are not the history's names.
TEST(QueueChecker, StoredMessagesAreNamedByProducerAndPayloadNumber) {
  QueueRun run = three_batches();
  run.invoke(40 * kMs, "p1", 5);
  run.store(2, 1, "p1~2", {5});  // A second instance of producer p1.
  run.ok(41 * kMs, "p1", 5, Pos{2, 1, 0});
  consume_all(run, 100 * kMs);
  run.poll(200 * kMs, 2, "p1", 5, Pos{2, 1, 0});

  const CheckResult r = run.check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("log_messages"), 5);
}

TEST(QueueChecker, StoredMessagesCanBeNamedBySequenceId) {
  QueueRun run;
  run.by_sequence_id = true;
  run.create(1);
  run.list("orders", {1});
  run.publish(0, "p1", {1, 2}, 1, 0);
  run.publish(10 * kMs, "p1~2", {3}, 1, 1);  // Taken as stored: another producer.
  run.invoke(20 * kMs, "p1", 3);
  run.ok(21 * kMs, "p1", 3, Pos{1, 1, 0});

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "lost-write"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "lost-write"), "p1 message #3 of orders sent by client-1 was acknowledged by broker-1 at 0.021000s as ledger 1 entry 1 batch index 0, but its partition's log does not hold it"))
      << example(r, "lost-write");
  EXPECT_EQ(count(r, "unexpected"), 0u) << anomalies_of(r);  // p1~2 sent #3 itself.
}

TEST(QueueChecker, SeriesArePerSecond) {
  QueueRun run;
  run.create(1);
  run.list("orders", {1});
  run.publish(100 * kMs, "p1", {1, 2}, 1, 0);     // Acked at 0.101s.
  run.publish(1'500 * kMs, "p1", {3}, 1, 1);      // Acked at 1.501s.
  run.consume(1'600 * kMs, "p1", 1, Pos{1, 0, 0});  // Acked at 1.601s.

  const CheckResult r = run.check(2'500 * kMs);
  using Series = std::vector<std::pair<std::int64_t, double>>;
  EXPECT_EQ(r.series.at("publish_rate"),
            (Series{{1'000 * kMs, 2}, {2'000 * kMs, 1}, {3'000 * kMs, 0}}));
  EXPECT_EQ(r.series.at("consume_rate"),
            (Series{{1'000 * kMs, 0}, {2'000 * kMs, 1}, {3'000 * kMs, 0}}));
  EXPECT_EQ(r.series.at("backlog"), (Series{{1'000 * kMs, 2}, {2'000 * kMs, 2}, {3'000 * kMs, 2}}));
  EXPECT_EQ(r.series.at("backlog_peak"),
            (Series{{1'000 * kMs, 2}, {2'000 * kMs, 3}, {3'000 * kMs, 2}}));
  EXPECT_EQ(r.metrics.at("backlog_max"), 3);
  EXPECT_EQ(r.metrics.at("backlog_end"), 2);
}

TEST(QueueChecker, LatencyAndDurabilitySeriesPerSecond) {
  QueueRun run;
  run.create(1);
  run.list("orders", {1});
  run.publish(100 * kMs, "p1", {1, 2}, 1, 0);  // 1 ms each.
  run.publish(1'500 * kMs, "p1", {3}, 1, 1);   // 1 ms.
  run.store(1, 2, "p1", {3});                  // A second copy of #3: duplicate.
  run.invoke(1'700 * kMs, "p1", 9);
  run.ok(1'750 * kMs, "p1", 9, Pos{1, 5, 0});  // 50 ms, and never stored: lost.
  run.consume(1'600 * kMs, "p1", 1, Pos{1, 0, 0});  // 1.5 s after its send.

  const CheckResult r = run.check(2'500 * kMs);
  using Series = std::vector<std::pair<std::int64_t, double>>;
  const Series& p50 = r.series.at("publish_p50");
  ASSERT_EQ(p50.size(), 2u);  // Nothing acknowledged in the third second: no point.
  EXPECT_EQ(p50[0].first, 1'000 * kMs);
  EXPECT_NEAR(p50[0].second, 1.0, 0.01);
  EXPECT_NEAR(r.series.at("publish_p99").at(1).second, 50.0, 0.5);
  ASSERT_EQ(r.series.at("end_to_end_p50").size(), 1u);
  EXPECT_EQ(r.series.at("end_to_end_p50")[0].first, 2'000 * kMs);
  EXPECT_NEAR(r.series.at("end_to_end_p50")[0].second, 1'500.0, 15.0);
  EXPECT_EQ(r.series.at("acked_not_in_log_total"),
            (Series{{1'000 * kMs, 0}, {2'000 * kMs, 1}, {3'000 * kMs, 1}}));
  EXPECT_EQ(r.series.at("duplicate_total"),
            (Series{{1'000 * kMs, 0}, {2'000 * kMs, 1}, {3'000 * kMs, 1}}));
  // Acked at 0.101 s (2), 1.501 s (3), acked by "sub" at 1.601 s (2), 1.75 s (3).
  EXPECT_EQ(r.series.at("backlog"), (Series{{1'000 * kMs, 2}, {2'000 * kMs, 3}, {3'000 * kMs, 3}}));
  EXPECT_EQ(r.series.at("backlog_peak"),
            (Series{{1'000 * kMs, 2}, {2'000 * kMs, 3}, {3'000 * kMs, 3}}));
  EXPECT_EQ(count(r, "lost-write"), 1u) << anomalies_of(r);
  EXPECT_EQ(count(r, "duplicate"), 1u) << anomalies_of(r);
}

TEST(QueueChecker, SendMissingFromTheLogIsLostWrite) {
  QueueRun run = three_batches();
  run.invoke(40 * kMs, "p1", 9);
  run.ok(41 * kMs, "p1", 9, Pos{2, 1, 0}, "broker-1");  // Acked, never stored.

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "lost-write"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "lost-write"),
                       "p1 message #9 of orders sent by client-1 was acknowledged by broker-1 at "
                       "0.041000s as ledger 2 entry 1 batch index 0, but ledger 2 (ordinal 2) "
                       "ends at entry 0 for its readers: the message is in no ledger of the log "
                       "of orders"))
      << example(r, "lost-write");
}

TEST(QueueChecker, SendBeyondTheClosedLedgersEndIsLostWrite) {
  QueueRun run;
  run.create(1);
  run.list("orders", {1});
  for (std::uint64_t i = 0; i < 3; ++i) {
    run.publish(static_cast<std::int64_t>(i) * 10 * kMs, "p1", {i}, 1, static_cast<std::int64_t>(i));
  }
  run.close(1, 1);  // Recovery closed it at entry 1 although entry 2 was acknowledged.
  run.create(2);
  run.list("orders", {1, 2});
  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "lost-write"), 1u) << anomalies_of(r);
  // The story in words: where the reader's log ends, and who took it on from there.
  EXPECT_TRUE(contains(example(r, "lost-write"),
                       "p1 message #2 of orders sent by client-1 was acknowledged by broker-1 at "
                       "0.021000s as ledger 1 entry 2 batch index 0, but ledger 1 (ordinal 1) "
                       "ends at entry 1 for its readers, and the log goes on in ledger 2 "
                       "(ordinal 2): the next owner's recovery closed it before entry 2"))
      << example(r, "lost-write");
  EXPECT_EQ(r.metrics.at("log_messages"), 2);
}

TEST(QueueChecker, PositionHoldingAnotherMessageIsLostWrite) {
  QueueRun run = three_batches();
  run.invoke(40 * kMs, "p2", 1);
  run.ok(41 * kMs, "p2", 1, Pos{1, 1, 0});  // Ledger 1 entry 1 holds p1 #3.
  run.invoke(40 * kMs, "p2", 2);
  run.store(2, 1, "p2", {2});
  run.ok(41 * kMs, "p2", 2, Pos{1, 1, 0});  // Stored, but elsewhere: both claim the spot.

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "lost-write"), 2u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "lost-write"), "but that position holds p1 message #3 of orders"))
      << example(r, "lost-write");
}

// A broker acks a resent message it already holds as a duplicate, without a position.
TEST(QueueChecker, SendAckedAsDuplicateNeedsOnlyToBePresent) {
  QueueRun run = three_batches();
  run.invoke(50 * kMs, "p1", 3);  // A resend of #3, dropped by deduplication.
  run.ok(51 * kMs, "p1", 3, Pos{0, -1, -1});
  run.invoke(60 * kMs, "p1", 8);  // Acked as a duplicate, but nowhere: lost.
  run.ok(61 * kMs, "p1", 8, Pos{0, -1, -1});

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "lost-write"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "lost-write"), "p1 message #8 of orders")) << example(r, "lost-write");
  EXPECT_TRUE(contains(example(r, "lost-write"), "as a duplicate")) << example(r, "lost-write");
  EXPECT_EQ(count(r, "duplicate"), 0u);
  EXPECT_EQ(count(r, "inconsistent-offsets"), 0u);
}

// A ledger trimmed from the list (every cursor passed it) and even deleted still counts:
// its entries were consumed before, and the journals keep them.
TEST(QueueChecker, TrimmedLedgerStillCounts) {
  QueueRun run = three_batches();
  consume_all(run, 100 * kMs);
  run.list("orders", {2}, 2);
  run.remove(storage::ledger_key(1));

  const CheckResult r = run.check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("log_messages"), 4);
}

// Ledgers no topic lists (cursor ledgers, or one whose list update failed) are not read.
TEST(QueueChecker, UnlistedLedgersAreIgnored) {
  QueueRun run = three_batches();
  run.create(77);
  pulsar::CursorState cursor;
  cursor.set_mark_delete(5);
  run.store_raw(77, 0, cursor.SerializeAsString());
  run.create(78);
  run.store(78, 0, "ghost", {1});

  const CheckResult r = run.check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("log_entries"), 3);
}

TEST(QueueChecker, OpenLedgerEndsAtTheFirstEntryNoBookieHolds) {
  QueueRun run = three_batches();
  run.invoke(40 * kMs, "p1", 5);
  run.ok(41 * kMs, "p1", 5, Pos{2, 1, 0});  // Entry 1 is on no bookie ...
  run.publish(50 * kMs, "p1", {6}, 2, 2);   // ... so entry 2 is past the end.

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "lost-write"), 2u) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("log_messages"), 4);
}

TEST(QueueChecker, MessageStoredTwiceIsDuplicate) {
  QueueRun run = three_batches();
  run.store(2, 1, "p1", {3});  // Resent after a lost ack, without deduplication.

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "duplicate"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "duplicate"),
                       "p1 message #3 of orders is stored 2 times, first at ledger 1 entry 1 "
                       "batch index 0 and again at ledger 2 entry 1 batch index 0"))
      << example(r, "duplicate");
  EXPECT_EQ(r.metrics.at("log_duplicates"), 1);
  EXPECT_EQ(count(r, "lost-write"), 0u);
  EXPECT_EQ(count(r, "unexpected"), 0u);
}

TEST(QueueChecker, DeliveryAfterTheAckIsDuplicateDelivery) {
  QueueRun run = three_batches();
  consume_all(run, 100 * kMs);
  run.poll(500 * kMs, 3, "p1", 2, Pos{1, 0, 1});  // Acked at 111ms; redelivered anyway.

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "duplicate-delivery"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "duplicate-delivery"),
                       "subscription \"sub\" got p1 message #2 of orders (ledger 1 entry 0 batch "
                       "index 1) on client-3 at 0.500000s, after it had acknowledged it at "
                       "0.111000s"))
      << example(r, "duplicate-delivery");
  EXPECT_EQ(r.metrics.at("delivery_duplicates"), 1);
  EXPECT_EQ(r.metrics.at("redeliveries"), 1);
  EXPECT_EQ(count(r, "nonmonotonic-poll"), 0u);  // A redelivery, not a first delivery.
}

// At-least-once: a message delivered again before it was acked is normal.
TEST(QueueChecker, RedeliveryOfAnUnackedMessageIsNotDuplicateDelivery) {
  QueueRun run = three_batches();
  run.poll(100 * kMs, 2, "p1", 1, Pos{1, 0, 0});
  run.poll(200 * kMs, 2, "p1", 1, Pos{1, 0, 0});  // Ack timeout: delivered again.
  run.ack(200 * kMs, 2, "p1", 1, Pos{1, 0, 0});   // Acked at the same instant: not before.
  run.consume(300 * kMs, "p1", 2, Pos{1, 0, 1});

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "duplicate-delivery"), 0u) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("redeliveries"), 1);
  EXPECT_EQ(r.metrics.at("delivery_duplicates"), 0);
}

TEST(QueueChecker, AckedSendNeverDeliveredIsUnseen) {
  QueueRun run = three_batches();
  run.unseen_grace_ns = 1'000 * kMs;
  run.consume(100 * kMs, "p1", 1, Pos{1, 0, 0});
  run.consume(110 * kMs, "p1", 2, Pos{1, 0, 1});
  run.consume(120 * kMs, "p1", 4, Pos{2, 0, 0});  // #3 never arrives.
  run.invoke(3'000 * kMs, "p9", 1);               // The history ends at 3s.

  CheckResult r = run.check();
  EXPECT_EQ(count(r, "unseen"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "unseen"),
                       "p1 message #3 of orders sent by client-1 was acknowledged by broker-1 at "
                       "0.011000s as ledger 1 entry 1 batch index 0, stored at ledger 1 entry 1 "
                       "batch index 0, but was never delivered to subscription \"sub\" of orders"))
      << example(r, "unseen");
  // The consumer skipped it, too.
  EXPECT_EQ(count(r, "poll-skip"), 1u) << anomalies_of(r);

  run.unseen_grace_ns = 5'000 * kMs;  // It might still be on its way.
  r = run.check();
  EXPECT_EQ(count(r, "unseen"), 0u) << anomalies_of(r);
}

TEST(QueueChecker, TopicWithoutSubscriptionsHasNothingUnseen) {
  QueueRun run = three_batches();
  run.unseen_grace_ns = 0;
  run.invoke(3'000 * kMs, "p9", 1);
  const CheckResult r = run.check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
}

TEST(QueueChecker, HoleBetweenFirstDeliveriesIsPollSkip) {
  QueueRun run = three_batches();
  run.consume(100 * kMs, "p1", 1, Pos{1, 0, 0});
  run.consume(110 * kMs, "p1", 3, Pos{1, 1, 0});  // #2 is never delivered.
  run.consume(120 * kMs, "p1", 4, Pos{2, 0, 0});

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "poll-skip"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "poll-skip"),
                       "client-2 got p1 message #1 of orders at ledger 1 entry 0 batch index 0 "
                       "and then, at 0.110000s, p1 message #3 of orders at ledger 1 entry 1 "
                       "batch index 0 for subscription \"sub\", skipping 1 message(s) it never "
                       "received, first p1 message #2 of orders at ledger 1 entry 0 batch index 1"))
      << example(r, "poll-skip");
}

// Failover: the hole went to the other consumer; shared subscriptions have no order.
TEST(QueueChecker, HoleDeliveredToAnotherConsumerOrOnSharedIsNotPollSkip) {
  QueueRun run = three_batches();
  run.subscriptions["sub"] = pulsar::FAILOVER;
  run.consume(100 * kMs, "p1", 1, Pos{1, 0, 0});
  run.poll(105 * kMs, 5, "p1", 2, Pos{1, 0, 1});  // Process 5 was active for a moment.
  run.consume(110 * kMs, "p1", 3, Pos{1, 1, 0});
  run.poll(120 * kMs, 2, "p1", 4, Pos{2, 0, 0});
  run.poll(130 * kMs, 2, "p1", 1, Pos{1, 0, 0}, "shared");  // Shared: any order, holes.
  run.poll(140 * kMs, 2, "p1", 4, Pos{2, 0, 0}, "shared");
  run.poll(150 * kMs, 2, "p1", 2, Pos{1, 0, 1}, "shared");

  const CheckResult r = run.check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
}

TEST(QueueChecker, FirstDeliveryBehindThePreviousIsNonmonotonicPoll) {
  QueueRun run = three_batches();
  run.consume(100 * kMs, "p1", 1, Pos{1, 0, 0});
  run.consume(110 * kMs, "p1", 3, Pos{1, 1, 0});
  run.consume(120 * kMs, "p1", 2, Pos{1, 0, 1});  // First time, but behind #3.
  run.consume(130 * kMs, "p1", 4, Pos{2, 0, 0});

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "nonmonotonic-poll"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "nonmonotonic-poll"),
                       "client-2 got p1 message #2 of orders at ledger 1 entry 0 batch index 1 "
                       "for subscription \"sub\" at 0.120000s for the first time, after it had "
                       "first got p1 message #3 of orders at the later ledger 1 entry 1 batch "
                       "index 0"))
      << example(r, "nonmonotonic-poll");
  // #2 arrived in the end, so the earlier hole is no skip.
  EXPECT_EQ(count(r, "poll-skip"), 0u);
}

// After a reconnect, a consumer gets its unacked messages again from the start.
TEST(QueueChecker, RewindingRedeliveryIsNotNonmonotonicPoll) {
  QueueRun run = three_batches();
  run.poll(100 * kMs, 2, "p1", 1, Pos{1, 0, 0});
  run.poll(110 * kMs, 2, "p1", 2, Pos{1, 0, 1});
  run.poll(120 * kMs, 2, "p1", 3, Pos{1, 1, 0});
  run.poll(200 * kMs, 2, "p1", 2, Pos{1, 0, 1});  // Rewound to #2.
  run.poll(210 * kMs, 2, "p1", 3, Pos{1, 1, 0});
  run.poll(220 * kMs, 2, "p1", 4, Pos{2, 0, 0});

  const CheckResult r = run.check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("redeliveries"), 2);
}

TEST(QueueChecker, SendsStoredOutOfOrderAreNonmonotonicSend) {
  QueueRun run = three_batches();
  run.invoke(40 * kMs, "p1", 5);
  run.invoke(40 * kMs, "p1", 6);
  run.store(2, 1, "p1", {6});  // #6 overtook #5.
  run.store(2, 2, "p1", {5});
  run.ok(41 * kMs, "p1", 6, Pos{2, 1, 0});
  run.ok(42 * kMs, "p1", 5, Pos{2, 2, 0});

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "nonmonotonic-send"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "nonmonotonic-send"),
                       "p1 message #5 of orders and p1 message #6 of orders were acknowledged at "
                       "0.042000s and 0.041000s but are stored in the opposite order, at ledger 2 "
                       "entry 2 batch index 0 and ledger 2 entry 1 batch index 0"))
      << example(r, "nonmonotonic-send");
}

TEST(QueueChecker, OnePositionReportedForTwoMessagesIsInconsistentOffsets) {
  QueueRun run = three_batches();
  run.poll(100 * kMs, 2, "p1", 9, Pos{1, 0, 0});  // The log and the send said #1 is there.

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "inconsistent-offsets"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "inconsistent-offsets"),
                       "ledger 1 entry 0 batch index 0 of orders was reported for p1 message #1 "
                       "of orders and, by client-2's poll at 0.100000s, for p1 message #9 of "
                       "orders"))
      << example(r, "inconsistent-offsets");
}

TEST(QueueChecker, MessageNoProducerSentIsUnexpected) {
  QueueRun run = three_batches();
  run.store(2, 1, "ghost", {42});

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "unexpected"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "unexpected"),
                       "ledger 2 entry 1 batch index 0 of orders holds ghost message #2a of "
                       "orders, which no producer sent"))
      << example(r, "unexpected");
}

TEST(QueueChecker, EntryThatIsNotABatchIsUnexpected) {
  QueueRun run = three_batches();
  run.store_raw(2, 1, std::string("\xff\xff\xff", 3));
  run.publish(40 * kMs, "p1", {5}, 2, 2);  // The bad entry does not end the ledger.

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "unexpected"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "unexpected"),
                       "ledger 2 entry 1 of orders does not parse as a batch"))
      << example(r, "unexpected");
  EXPECT_EQ(count(r, "lost-write"), 0u);
  EXPECT_EQ(r.metrics.at("log_entries"), 5);
}

// Ledger 2 follows ledger 1 once broker-2 took the topic over.
QueueRun handover() {
  QueueRun run;
  run.create(1);
  run.list("orders", {1});
  run.publish(0, "p1", {1}, 1, 0, "broker-1");
  run.create(2);
  run.list("orders", {1, 2});
  return run;
}

TEST(QueueChecker, OldOwnerAckingAfterTheNewOneIsSplitBrain) {
  QueueRun run = handover();
  run.publish(10 * kMs, "p2", {1}, 2, 0, "broker-2");  // Acked at 11ms.
  run.publish(20 * kMs, "p1", {2}, 1, 1, "broker-1");  // Acked at 21ms into ledger 1.

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "split-brain"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "split-brain"),
                       "broker-1 acknowledged p1 message #2 of orders (invoked at 0.020000s) for "
                       "ledger 1 (ordinal 1) of orders at 0.021000s, after broker-2 had "
                       "acknowledged a send for ledger 2 (ordinal 2) at 0.011000s"))
      << example(r, "split-brain");
}

// broker-1 stored p1 #2 before the takeover but paused with the reply queued: recovery
// kept the entry, so the late reply agrees with the log.
TEST(QueueChecker, LateReplyForAWriteTheLogKeptIsNotSplitBrain) {
  QueueRun run = handover();
  run.invoke(5 * kMs, "p1", 2);
  run.store(1, 1, "p1", {2});
  run.close(1, 1);
  run.publish(10 * kMs, "p2", {1}, 2, 0, "broker-2");  // Acked at 11ms.
  run.ok(30 * kMs, "p1", 2, Pos{1, 1, 0}, "broker-1");

  const CheckResult r = run.check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
}

// The same late reply, but the takeover's recovery closed ledger 1 before the entry.
TEST(QueueChecker, LateReplyForAWriteTheLogLostIsSplitBrain) {
  QueueRun run = handover();
  run.invoke(5 * kMs, "p1", 2);
  run.store(1, 1, "p1", {2});
  run.close(1, 0);
  run.publish(10 * kMs, "p2", {1}, 2, 0, "broker-2");
  run.ok(30 * kMs, "p1", 2, Pos{1, 1, 0}, "broker-1");

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "split-brain"), 1u) << anomalies_of(r);
  EXPECT_EQ(count(r, "lost-write"), 1u) << anomalies_of(r);
}

TEST(QueueChecker, HandoverInOrderIsNotSplitBrain) {
  QueueRun run = handover();
  run.publish(10 * kMs, "p1", {2}, 1, 1, "broker-1");  // Old owner, before the handover.
  run.close(1, 1);
  run.publish(20 * kMs, "p2", {1}, 2, 0, "broker-2");
  run.publish(30 * kMs, "p2", {2}, 2, 1, "broker-2");

  const CheckResult r = run.check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
}

// Partitions are separate logs: one producer's sequence ids may repeat across them.
TEST(QueueChecker, PartitionsAreSeparateLogs) {
  QueueRun run;
  run.topics["orders"] = 2;
  run.create(1);
  run.create(2);
  run.list("orders-partition-0", {1});
  run.list("orders-partition-1", {2});
  run.publish(0, "p1", {1}, 1, 0, "broker-1", 0);
  run.publish(0, "p1", {1}, 2, 0, "broker-1", 1);
  run.poll(10 * kMs, 2, "p1", 1, Pos{1, 0, 0}, "sub", 0);
  run.poll(10 * kMs, 2, "p1", 1, Pos{2, 0, 0}, "sub", 1);
  // A send to partition 1 that only partition 0 holds is lost.
  run.invoke(20 * kMs, "p1", 2, 1);
  run.store(1, 1, "p1", {2});
  run.ok(21 * kMs, "p1", 2, Pos{1, 1, 0}, "broker-1", 1);

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "lost-write"), 1u) << anomalies_of(r);
  EXPECT_TRUE(contains(example(r, "lost-write"), "p1 message #2 of orders-partition-1"))
      << example(r, "lost-write");
  EXPECT_EQ(count(r, "unexpected"), 1u) << anomalies_of(r);  // Partition 0's copy.
  EXPECT_EQ(count(r, "duplicate"), 0u);
  EXPECT_EQ(r.metrics.at("log_messages"), 3);
  EXPECT_EQ(r.metrics.at("redeliveries"), 0);
}

// A send that timed out (or was never answered) learns no partition, yet the broker may
// have stored it: the partition whose log holds it is the one it was sent to, so it is
// neither unexpected there nor anything at partition 0.
TEST(QueueChecker, UnacknowledgedSendStoredInAnotherPartitionIsNotUnexpected) {
  QueueRun run;
  run.topics["orders"] = 3;
  run.create(1);
  run.create(2);
  run.list("orders-partition-0", {1});
  run.list("orders-partition-2", {2});
  run.publish(0, "p1", {1}, 1, 0, "broker-1", 0);
  run.invoke(10 * kMs, "p1", 2);
  run.store(2, 0, "p1", {2});
  run.fail(20 * kMs, "p1", 2, OpType::info);
  run.invoke(30 * kMs, "p1", 3);  // Still pending at the end, and stored too.
  run.store(2, 1, "p1", {3});

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "unexpected"), 0u) << anomalies_of(r);
  EXPECT_EQ(count(r, "lost-write"), 0u) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("log_messages"), 3);
  EXPECT_EQ(r.metrics.at("ops_info"), 1);
  EXPECT_EQ(r.metrics.at("ops_pending"), 1);
}

}  // namespace
}  // namespace streamlab::workloads
