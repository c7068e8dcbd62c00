// The queue log as the checker reads it (workloads/checkers/queue_log.h) when the run has
// transactions: the markers, each message's transaction and a pipeline output's source,
// and control entries told apart from batches that are bad.

#include "workloads/checkers/queue_log.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tests/workloads/checkers/queue_runs.h"
#include "workloads/checkers/queue_checker.h"
#include "workloads/history/pipeline_payload.h"

namespace streamlab::workloads {
namespace {

using test::anomalies_of;
using test::contains;
using test::count;
using test::example;
using test::TxnRun;

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
  const QueueLog log = read_queue_log(in.metadata_log, in.bookie_files, false,
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
