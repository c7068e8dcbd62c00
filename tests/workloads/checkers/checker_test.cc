#include "workloads/checkers/counter_checker.h"

#include <gtest/gtest.h>

#include "broker/demo/counter_log.h"

namespace streamlab::workloads {
namespace {

struct Fixture {
  std::vector<Op> ops;
  std::vector<std::uint8_t> log;
  std::int64_t now = 0;

  void invoke(std::uint32_t p, std::uint64_t id) { ops.push_back(Op{now++, p, OpType::invoke, id, 1, 0, {}}); }
  void complete(std::uint32_t p, std::uint64_t id, OpType t) { ops.push_back(Op{now++, p, t, id, 1, 0, {}}); }
  void in_log(std::uint32_t p, std::uint64_t id) { demo::append_record({p, id, 1}, log); }

  CheckResult check(std::int64_t recover_by = -1) {
    CounterCheckInput in;
    in.history = &ops;
    in.server_log = log;
    in.process_name = [](std::uint32_t p) { return "c" + std::to_string(p); };
    in.duration_ns = 1'000'000'000;
    in.recover_by_ns = recover_by;
    return check_counter(in);
  }
};

TEST(CounterChecker, CleanHistoryHasNoAnomaly) {
  Fixture f;
  f.invoke(1, 10);
  f.complete(1, 10, OpType::ok);
  f.in_log(1, 10);
  f.invoke(1, 11);
  f.complete(1, 11, OpType::info);  // Unknown outcome: absent from the log is fine.
  const CheckResult r = f.check();
  EXPECT_TRUE(r.anomalies.empty());
  EXPECT_EQ(r.metrics.at("ops_ok"), 1);
  EXPECT_EQ(r.metrics.at("ops_info"), 1);
}

TEST(CounterChecker, AcknowledgedButMissingIsLostWrite) {
  Fixture f;
  f.invoke(1, 10);
  f.complete(1, 10, OpType::ok);
  const CheckResult r = f.check();
  ASSERT_EQ(r.anomalies.count("lost-write"), 1u);
  EXPECT_EQ(r.anomalies.at("lost-write"), 1u);
  EXPECT_NE(r.examples.at("lost-write").find("c1 add #a"), std::string::npos);
}

TEST(CounterChecker, TwiceInLogIsDuplicate) {
  Fixture f;
  f.invoke(2, 5);
  f.complete(2, 5, OpType::ok);
  f.in_log(2, 5);
  f.in_log(2, 5);
  EXPECT_EQ(f.check().anomalies.at("duplicate"), 1u);
}

TEST(CounterChecker, NeverInvokedIsUnexpected) {
  Fixture f;
  f.in_log(3, 99);
  EXPECT_EQ(f.check().anomalies.at("unexpected"), 1u);
}

TEST(CounterChecker, LivenessCountsOnlyAddsAfterTheDeadline) {
  Fixture f;
  f.invoke(1, 1);  // t=0, before the deadline: may fail.
  f.complete(1, 1, OpType::info);
  f.now = 100;
  f.invoke(1, 2);  // After the deadline: must succeed.
  f.complete(1, 2, OpType::fail);
  const CheckResult r = f.check(/*recover_by=*/50);
  EXPECT_EQ(r.anomalies.at("not-recovered"), 1u);
}

TEST(CounterChecker, TornTailOfLogIsIgnored) {
  Fixture f;
  f.in_log(1, 1);
  f.invoke(1, 1);
  f.complete(1, 1, OpType::ok);
  f.log.push_back(0xab);  // A partial record, as a torn write leaves.
  EXPECT_TRUE(f.check().anomalies.empty());
}

TEST(CounterChecker, SeriesOverTime) {
  Fixture f;
  f.invoke(1, 10);
  f.complete(1, 10, OpType::ok);
  f.in_log(1, 10);
  f.invoke(1, 11);
  f.complete(1, 11, OpType::ok);  // Not in the log: lost.
  f.invoke(2, 5);
  f.complete(2, 5, OpType::ok);
  f.in_log(2, 5);
  f.in_log(2, 5);  // Twice: duplicate.
  const CheckResult r = f.check();
  using Series = std::vector<std::pair<std::int64_t, double>>;
  EXPECT_EQ(r.series.at("ok_rate"), (Series{{1'000'000'000, 3}}));
  EXPECT_EQ(r.series.at("lost_write_total"), (Series{{1'000'000'000, 1}}));
  EXPECT_EQ(r.series.at("duplicate_total"), (Series{{1'000'000'000, 1}}));
  EXPECT_EQ(r.series.at("add_latency_ms_p99").size(), 1u);
}

}  // namespace
}  // namespace streamlab::workloads
