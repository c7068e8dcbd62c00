// The queue checker (workloads/checkers/queue_checker.h) on plain queue runs: a clean run
// and its metrics, how stored messages are named, and the per-second series. The log's
// anomalies are in queue_checker_log_test.cc, the consumers' in
// queue_checker_delivery_test.cc, split-brain in queue_checker_split_brain_test.cc.

#include "workloads/checkers/queue_checker.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tests/workloads/checkers/queue_runs.h"

namespace streamlab::workloads {
namespace {

using test::anomalies_of;
using test::consume_all;
using test::contains;
using test::count;
using test::example;
using test::kMs;
using test::Pos;
using test::QueueRun;
using test::three_batches;

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
  // What was counted: ops by outcome, deliveries, and the log's messages and entries.
  const std::vector<std::pair<std::string, double>> counts = {
      {"ops_invoked", 7}, {"ops_ok", 4}, {"ops_fail", 1}, {"ops_info", 1}, {"ops_pending", 1},
      {"sends_ok", 4}, {"deliveries", 4}, {"acks", 4}, {"redeliveries", 0},
      {"log_messages", 4}, {"log_entries", 3}, {"log_duplicates", 0}, {"delivery_duplicates", 0}};
  for (const auto& [metric, value] : counts) EXPECT_EQ(r.metrics.at(metric), value) << metric;
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

}  // namespace
}  // namespace streamlab::workloads
