// Queue histories as JSON lines: what one process writes another reads back unchanged,
// and a bad line is named.

#include "workloads/history/queue_history_io.h"

#include <gtest/gtest.h>

namespace streamlab::workloads {
namespace {

TEST(QueueHistoryIo, EveryFieldSurvivesARoundTrip) {
  QueueOp op;
  op.time_ns = 12'345'678'901;
  op.process = 7;
  op.type = OpType::ok;
  op.kind = QueueOpKind::poll;
  op.producer = "client-1-p0";
  op.seq = 41;
  op.topic = "orders";
  op.partition = 3;
  op.subscription = "audit";
  op.key = "k\"1\\\n";
  op.ledger_id = 9'007'199'254'740'993ULL;
  op.entry_id = 17;
  op.batch_index = 2;
  op.broker = "broker-a";
  op.redelivery_count = 1;
  op.error = "";
  const Result<QueueOp> back = queue_op_from_json(queue_op_to_json(op));
  ASSERT_TRUE(back.ok()) << back.error();
  const QueueOp& b = back.value();
  EXPECT_EQ(b.time_ns, op.time_ns);
  EXPECT_EQ(b.process, op.process);
  EXPECT_EQ(b.type, op.type);
  EXPECT_EQ(b.kind, op.kind);
  EXPECT_EQ(b.producer, op.producer);
  EXPECT_EQ(b.seq, op.seq);
  EXPECT_EQ(b.topic, op.topic);
  EXPECT_EQ(b.partition, op.partition);
  EXPECT_EQ(b.subscription, op.subscription);
  EXPECT_EQ(b.key, op.key);
  EXPECT_EQ(b.ledger_id, op.ledger_id);
  EXPECT_EQ(b.entry_id, op.entry_id);
  EXPECT_EQ(b.batch_index, op.batch_index);
  EXPECT_EQ(b.broker, op.broker);
  EXPECT_EQ(b.redelivery_count, op.redelivery_count);
}

TEST(QueueHistoryIo, DefaultsAreLeftOutAndComeBack) {
  QueueOp op;
  op.process = 2;
  op.producer = "p";
  const std::string line = queue_op_to_json(op);
  EXPECT_EQ(line.find("ledger"), std::string::npos);
  const Result<QueueOp> back = queue_op_from_json(line);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back.value().entry_id, -1);
  EXPECT_EQ(back.value().kind, QueueOpKind::send);
  EXPECT_EQ(back.value().type, OpType::invoke);
}

// Transactions: sends and acks inside one name it, and its end is a commit or abort op.
TEST(QueueHistoryIo, TransactionsSurviveARoundTrip) {
  QueueOp send;
  send.time_ns = 10;
  send.type = OpType::ok;
  send.producer = "t1";
  send.seq = 4;
  send.topic = "orders";
  send.txn = "0:17";
  QueueOp commit;
  commit.time_ns = 20;
  commit.type = OpType::info;
  commit.kind = QueueOpKind::commit;
  commit.txn = "0:17";
  commit.error = "timeout";
  QueueOp abort;
  abort.kind = QueueOpKind::abort;
  abort.txn = "3:18446744073709551615";
  for (const QueueOp& op : {send, commit, abort}) {
    const std::string line = queue_op_to_json(op);
    const Result<QueueOp> back = queue_op_from_json(line);
    ASSERT_TRUE(back.ok()) << back.error();
    EXPECT_EQ(back.value().kind, op.kind) << line;
    EXPECT_EQ(back.value().type, op.type) << line;
    EXPECT_EQ(back.value().txn, op.txn) << line;
    EXPECT_EQ(back.value().error, op.error) << line;
    EXPECT_EQ(queue_op_to_json(back.value()), line);
  }
  EXPECT_EQ(queue_op_to_json(commit),
            R"({"time":20,"process":0,"type":"info","f":"commit","seq":0,"error":"timeout",)"
            R"("txn":"0:17"})");
}

// Histories written before transactions read the same, and are written the same.
TEST(QueueHistoryIo, LinesWithoutTransactionsAreUnchanged) {
  QueueOp op;
  op.time_ns = 5;
  op.process = 1;
  op.type = OpType::ok;
  op.producer = "p1";
  op.seq = 3;
  op.topic = "orders";
  op.ledger_id = 7;
  op.entry_id = 2;
  op.batch_index = 0;
  op.broker = "b1";
  const std::string line =
      R"({"time":5,"process":1,"type":"ok","f":"send","producer":"p1","seq":3,)"
      R"("topic":"orders","ledger":7,"entry":2,"batch":0,"broker":"b1"})";
  EXPECT_EQ(queue_op_to_json(op), line);
  const Result<QueueOp> back = queue_op_from_json(line);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back.value().txn, "");
}

TEST(QueueHistoryIo, BadLinesAreNamed) {
  EXPECT_FALSE(queue_op_from_json("not json").ok());
  const Result<QueueOp> unknown = queue_op_from_json(R"({"colour":"red"})");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().find("colour"), std::string::npos);
  const Result<QueueOp> type = queue_op_from_json(R"({"type":"maybe"})");
  ASSERT_FALSE(type.ok());
  EXPECT_NE(type.error().find("maybe"), std::string::npos);
  const Result<QueueOp> kind = queue_op_from_json(R"({"f":"prepare"})");
  ASSERT_FALSE(kind.ok());
  EXPECT_NE(kind.error().find("prepare"), std::string::npos);
  const Result<std::vector<QueueOp>> missing = read_queue_history("/nonexistent/history.jsonl");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("/nonexistent/history.jsonl"), std::string::npos);
}

}  // namespace
}  // namespace streamlab::workloads
