// `streamlab cluster check`: judges a real run (DESIGN.md section 7) with the queue
// checker the simulator uses (workloads/cluster/cluster_check.h), from the client
// processes' histories and the cluster directory's files.

#include <algorithm>
#include <cstdio>
#include <set>
#include <string>

#include "workloads/checkers/anomaly_glossary.h"
#include "workloads/cli/cli.h"
#include "workloads/report/json_writer.h"
#include "workloads/cluster/cluster_check.h"

namespace streamlab::cli {

namespace {

// At-least-once delivery permits delivering a message again after its ack was sent (the
// ack may be lost with a broker, or not yet persisted in the cursor).
constexpr const char* kAllowedByDefault = "duplicate-delivery";

constexpr const char* kCheckUsage = R"(usage: streamlab cluster check DIR HISTORY... [--json OUT] [--allow ANOMALY]...

Judges a run of the local cluster in DIR with the queue checker the simulator uses: the
histories the client processes wrote (`streamlab produce` / `streamlab consume`, merged
in time order), the metadata store's log and every bookie's journal as DIR holds them,
topics and subscription types from the cluster's scenario (a subscription it does not
name counts as shared), node names from DIR/cluster.textproto. It reads files only, so
it works while the cluster runs or after `streamlab cluster down`. The histories should
cover every producer of the run: a stored message no history sent is `unexpected`.
Times in examples count from the histories' first op.

  --json OUT        also write the anomalies, examples and metrics as JSON to OUT
  --allow ANOMALY   an anomaly to tolerate; repeat for several. Given, it replaces the
                    default, duplicate-delivery (at-least-once delivery permits it);
                    `--allow none` tolerates nothing

exit codes: 0 no anomaly but the tolerated ones, 1 another anomaly, 2 bad input or usage
            (a missing or malformed file is named)
)";

double metric(const workloads::CheckResult& r, const char* name) {
  const auto it = r.metrics.find(name);
  return it == r.metrics.end() ? 0 : it->second;
}

// The tolerated anomalies, checked against the queue checker's names; false after
// printing a usage error.
bool allowed_anomalies(const Args& args, std::set<std::string>* out) {
  const auto given = args.all_values.find("--allow");
  if (given == args.all_values.end()) {
    out->insert(kAllowedByDefault);
    return true;
  }
  // Real clusters run pulsar scenarios, judged by the queue checker.
  const std::vector<std::string> known = workloads::checker_anomalies("queue");
  for (const std::string& name : given->second) {
    if (name == "none") continue;
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string names;
      for (const std::string& k : known) names += (names.empty() ? "" : ", ") + k;
      usage_error("cluster check", "--allow: unknown anomaly \"" + name + "\"; known: " + names,
                  kCheckUsage);
      return false;
    }
    out->insert(name);
  }
  return true;
}

void print_check(const cluster::ClusterCheck& check, const std::set<std::string>& allowed) {
  const workloads::CheckResult& r = check.result;
  std::printf("history    %llu ops over %.3f s\n", static_cast<unsigned long long>(check.ops),
              static_cast<double>(check.last_op_ns - check.first_op_ns) / 1e9);
  std::printf("sends      %.0f ok, %.0f failed, %.0f unknown, %.0f pending\n",
              metric(r, "sends_ok"), metric(r, "ops_fail"), metric(r, "ops_info"),
              metric(r, "ops_pending"));
  std::printf("consume    %.0f deliveries (%.0f redelivered), %.0f acks; backlog at the end %.0f,"
              " max %.0f\n",
              metric(r, "deliveries"), metric(r, "redeliveries"), metric(r, "acks"),
              metric(r, "backlog_end"), metric(r, "backlog_max"));
  std::printf("latency    publish p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
              metric(r, "publish_p50"), metric(r, "publish_p99"), metric(r, "publish_max"));
  std::printf("           end to end p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
              metric(r, "end_to_end_p50"), metric(r, "end_to_end_p99"),
              metric(r, "end_to_end_max"));
  std::printf("log        %.0f messages in %.0f entries\n", metric(r, "log_messages"),
              metric(r, "log_entries"));
  if (r.anomalies.empty()) std::printf("anomalies  none\n");
  for (const auto& [name, count] : r.anomalies) {
    std::printf("anomaly    %s x%llu%s, first: %s\n", name.c_str(),
                static_cast<unsigned long long>(count),
                allowed.contains(name) ? " (tolerated)" : "", r.examples.at(name).c_str());
  }
}

std::string check_json(const cluster::ClusterCheck& check, const std::set<std::string>& allowed,
                       bool passed) {
  const workloads::CheckResult& r = check.result;
  JsonWriter j;
  j.begin_object();
  j.key("passed").value(passed);
  j.key("ops").value(check.ops);
  j.key("first_op_ns").value(check.first_op_ns);
  j.key("last_op_ns").value(check.last_op_ns);
  j.key("allowed").begin_array();
  for (const std::string& name : allowed) j.value(name);
  j.end_array();
  j.key("anomalies").begin_object();
  for (const auto& [name, count] : r.anomalies) j.key(name).value(count);
  j.end_object();
  j.key("examples").begin_object();
  for (const auto& [name, text] : r.examples) j.key(name).value(text);
  j.end_object();
  j.key("metrics").begin_object();
  for (const auto& [name, v] : r.metrics) j.key(name).value(v);
  j.end_object();
  j.end_object();
  return j.str() + "\n";
}

}  // namespace

int cluster_check(int argc, char** argv) {
  std::string error;
  const auto args = parse_args(argc, argv, {"--json", "--allow"}, {}, &error);
  if (!args) return usage_error("cluster check", error, kCheckUsage);
  if (args->help) {
    std::fputs(kCheckUsage, stdout);
    return kExitOk;
  }
  if (args->positional.size() < 2) {
    return usage_error("cluster check", "expected a cluster directory DIR and at least one HISTORY",
                       kCheckUsage);
  }
  std::set<std::string> allowed;
  if (!allowed_anomalies(*args, &allowed)) return kExitBadInput;
  const std::vector<std::string> histories(args->positional.begin() + 1, args->positional.end());
  const Result<cluster::ClusterCheck> check =
      cluster::check_cluster_run(args->positional[0], histories);
  if (!check) {
    std::fprintf(stderr, "streamlab cluster check: %s\n", check.error().c_str());
    return kExitBadInput;
  }
  print_check(check.value(), allowed);
  bool passed = true;
  for (const auto& [name, count] : check.value().result.anomalies) {
    passed = passed && allowed.contains(name);
  }
  if (const auto json = args->flags.find("--json"); json != args->flags.end()) {
    if (!write_file(json->second, check_json(check.value(), allowed, passed), &error)) {
      std::fprintf(stderr, "streamlab cluster check: %s\n", error.c_str());
      return kExitBadInput;
    }
  }
  std::printf("verdict    %s\n", passed ? "ok" : "FAILED: anomalies beyond the tolerated ones");
  return passed ? kExitOk : kExitExpectationFailed;
}

}  // namespace streamlab::cli
