#include "workloads/checkers/counter_checker.h"

#include <algorithm>
#include <map>
#include <utility>

#include "base/assert.h"
#include "broker/demo/counter_log.h"
#include "workloads/checkers/op_report.h"

namespace streamlab::workloads {

namespace {

using Key = std::pair<std::uint32_t, std::uint64_t>;  // (process, request id)

struct OpSummary {
  std::int64_t invoked_ns = -1;
  std::int64_t completed_ns = -1;
  OpType outcome = OpType::invoke;
};

std::string describe(const CounterCheckInput& in, const Key& key) {
  return describe_op(in.process_name(key.first), "add", key.second);
}

}  // namespace

CheckResult check_counter(const CounterCheckInput& in) {
  SL_ASSERT_NE(in.history, nullptr);
  CheckResult result;
  std::map<Key, OpSummary> ops;
  OpTally tally;
  OpTimeline timeline;
  std::int64_t last_ns = 0;
  for (const Op& op : *in.history) {
    last_ns = std::max(last_ns, op.time_ns);
    OpSummary& s = ops[Key{op.process, op.request_id}];
    if (op.type == OpType::invoke) {
      SL_ASSERT_MSG(s.invoked_ns < 0, "request id invoked twice by one process");
      s.invoked_ns = op.time_ns;
      continue;
    }
    SL_ASSERT_MSG(s.invoked_ns >= 0, "completion without an invoke");
    SL_ASSERT_MSG(s.outcome == OpType::invoke, "operation completed twice");
    s.outcome = op.type;
    s.completed_ns = op.time_ns;
    if (op.type == OpType::ok) {
      tally.latency.record(op.time_ns - s.invoked_ns);
      timeline.ok(op.time_ns, op.time_ns - s.invoked_ns);
    }
  }

  const demo::ParsedLog log = demo::parse_log(in.server_log);
  std::map<Key, int> in_log;
  for (const demo::CounterRecord& r : log.records) {
    const Key key{r.client, r.request_id};
    const auto op = ops.find(key);
    if (++in_log[key] == 2) {
      result.add("duplicate", describe(in, key) + " is in the server's log more than once");
      if (op != ops.end()) {
        const OpSummary& s = op->second;
        timeline.duplicated_ns.push_back(s.outcome == OpType::ok ? s.completed_ns : s.invoked_ns);
      }
    }
    if (op == ops.end()) {
      result.add("unexpected", describe(in, key) + " is in the log but was never invoked");
    }
  }

  for (const auto& [key, s] : ops) {
    tally.count(s.outcome);
    if (s.outcome == OpType::ok && in_log.find(key) == in_log.end()) {
      result.add("lost-write", describe(in, key) + " was acknowledged at " +
                                   format_seconds(s.completed_ns) + " but is not in the server's log");
      timeline.lost_ns.push_back(s.completed_ns);
    }
    if (in.recover_by_ns >= 0 && s.invoked_ns >= in.recover_by_ns &&
        s.invoked_ns < in.settle_by_ns && s.outcome != OpType::ok) {
      result.add("not-recovered", describe(in, key) + " invoked at " + format_seconds(s.invoked_ns) +
                                      ", after the recovery deadline, did not succeed");
    }
  }

  auto& m = result.metrics;
  report_ops(tally, "add_latency_ms", in.duration_ns, m);
  m["log_records"] = static_cast<double>(log.records.size());
  report_timeline(timeline, "add_latency_ms", std::max(in.duration_ns, last_ns), result.series);
  return result;
}

}  // namespace streamlab::workloads
