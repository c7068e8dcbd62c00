#include "workloads/counter_checker.h"

#include <cstdio>
#include <map>
#include <utility>

#include "base/assert.h"
#include "broker/demo/counter_log.h"
#include "workloads/latency_histogram.h"

namespace streamlab::workloads {

namespace {

using Key = std::pair<std::uint32_t, std::uint64_t>;  // (process, request id)

struct OpSummary {
  std::int64_t invoked_ns = -1;
  std::int64_t completed_ns = -1;
  OpType outcome = OpType::invoke;
};

std::string seconds(std::int64_t ns) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6fs", static_cast<double>(ns) / 1e9);
  return buffer;
}

std::string describe(const CounterCheckInput& in, const Key& key) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%s add #%llx", in.process_name(key.first).c_str(),
                static_cast<unsigned long long>(key.second));
  return buffer;
}

}  // namespace

CheckResult check_counter(const CounterCheckInput& in) {
  SL_ASSERT(in.history != nullptr);
  CheckResult result;
  std::map<Key, OpSummary> ops;
  LatencyHistogram latency;
  for (const Op& op : *in.history) {
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
    if (op.type == OpType::ok) latency.record(op.time_ns - s.invoked_ns);
  }

  const demo::ParsedLog log = demo::parse_log(in.server_log);
  std::map<Key, int> in_log;
  for (const demo::CounterRecord& r : log.records) {
    const Key key{r.client, r.request_id};
    if (++in_log[key] == 2) {
      result.add("duplicate", describe(in, key) + " is in the server's log more than once");
    }
    if (ops.find(key) == ops.end()) {
      result.add("unexpected", describe(in, key) + " is in the log but was never invoked");
    }
  }

  std::uint64_t counts[4] = {0, 0, 0, 0};
  for (const auto& [key, s] : ops) {
    ++counts[static_cast<int>(s.outcome)];
    if (s.outcome == OpType::ok && in_log.find(key) == in_log.end()) {
      result.add("lost-write", describe(in, key) + " was acknowledged at " +
                                   seconds(s.completed_ns) + " but is not in the server's log");
    }
    if (in.recover_by_ns >= 0 && s.invoked_ns >= in.recover_by_ns &&
        s.invoked_ns < in.settle_by_ns && s.outcome != OpType::ok) {
      result.add("not-recovered", describe(in, key) + " invoked at " + seconds(s.invoked_ns) +
                                      ", after the recovery deadline, did not succeed");
    }
  }

  auto& m = result.metrics;
  m["ops_invoked"] = static_cast<double>(ops.size());
  m["ops_ok"] = static_cast<double>(counts[static_cast<int>(OpType::ok)]);
  m["ops_fail"] = static_cast<double>(counts[static_cast<int>(OpType::fail)]);
  m["ops_info"] = static_cast<double>(counts[static_cast<int>(OpType::info)]);
  m["ops_pending"] = static_cast<double>(counts[static_cast<int>(OpType::invoke)]);
  m["log_records"] = static_cast<double>(log.records.size());
  m["add_latency_ms_p50"] = static_cast<double>(latency.quantile(0.50)) / 1e6;
  m["add_latency_ms_p99"] = static_cast<double>(latency.quantile(0.99)) / 1e6;
  m["add_latency_ms_p999"] = static_cast<double>(latency.quantile(0.999)) / 1e6;
  m["add_latency_ms_max"] = static_cast<double>(latency.max()) / 1e6;
  if (in.duration_ns > 0) {
    m["throughput_ok_per_s"] = m["ops_ok"] / (static_cast<double>(in.duration_ns) / 1e9);
  }
  return result;
}

}  // namespace streamlab::workloads
