#include <cinttypes>
#include <cstdio>

#include "sim/kernel.h"
#include "workloads/cli/cli.h"
#include "workloads/report/report_html.h"
#include "workloads/report/run_outputs.h"
#include "workloads/run/determinism_check.h"
#include "workloads/scenario/scenario_loader.h"

namespace streamlab::cli {

namespace {

constexpr const char* kRunUsageFormat = R"(usage: streamlab run FILE [--seed N] [--json OUT] [--report OUT.html]
                     [--history OUT.edn|OUT.jsonl] [--save-logs DIR] [--trace OUT.json]
                     [--check-determinism] [--duration D] [--max-events N] [--max-memory M]

Runs the scenario FILE once and prints a summary: trace hash, simulated and wall time,
operations, latency, anomalies found, and whether every expectation was met.

  --seed N               use seed N instead of the scenario's own
  --json OUT             also write the result as JSON to OUT
  --report OUT.html      also write an HTML report to OUT.html: summary, anomalies with
                         examples, metrics, charts over simulated time with the faults
                         marked, the fault schedule and the reproduce command (one file,
                         opens from disk)
  --history OUT          also write the clients' history: OUT.edn in the shape of
                         Jepsen's histories (queue runs as its Kafka workload's send and
                         poll ops), OUT.jsonl as JSON lines `streamlab check` reads back
  --save-logs DIR        also keep every node's files as DIR/NODE/FILE, so the run can be
                         judged again: streamlab check FILE OUT.jsonl --logs DIR
  --trace OUT.json       also write the run as a Chrome trace / Perfetto timeline (open in
                         ui.perfetto.dev): a track per node, messages and disk operations
                         as spans, faults and the nodes' notes as instants, throughput and
                         backlog as counters
  --check-determinism    run twice and compare every event; on a difference name the
                         first divergent event and exit 3
%s
exit codes: 0 expectations met, 1 an expectation failed, 2 bad input, 3 not deterministic,
            5 runaway (the run went over its budget and was stopped, not judged)
)";

std::string usage_text() {
  char buffer[4096];
  std::snprintf(buffer, sizeof buffer, kRunUsageFormat, run_control_help(25).c_str());
  return buffer;
}

std::string node_label(const ScenarioConfig& config, std::uint32_t node) {
  if (node == sim::kKernelNode) return "(kernel)";
  return config.topology.nodes[node].name;
}

std::string describe(const ScenarioConfig& config, const sim::EventRecord& e) {
  char buffer[160];
  std::snprintf(buffer, sizeof buffer, "event %" PRIu64 " at %.9f s on %s, kind %s", e.index,
                static_cast<double>(e.time_ns) / 1e9, node_label(config, e.node).c_str(),
                sim::to_string(e.kind));
  return buffer;
}

// Runs the scenario a second time, comparing each event with the first run's record.
// Returns true when both runs are identical.
bool check_determinism(const ScenarioConfig& config, std::uint64_t seed,
                       workloads::DeterminismCheck& check,
                       const workloads::RunResult& first_result) {
  workloads::RunOptions options;
  options.seed = seed;
  options.observer = [&check](const sim::EventRecord& e) { check.compare(e); };
  const workloads::RunResult second = workloads::run_scenario(config, options);
  if (!check.divergence() && second.trace_hash == first_result.trace_hash &&
      second.events == first_result.events) {
    std::printf("determinism: both runs executed %" PRIu64 " events with trace %s\n",
                second.events, hex64(second.trace_hash).c_str());
    return true;
  }
  std::fprintf(stderr, "NOT DETERMINISTIC: run 1 trace %s (%" PRIu64 " events), run 2 trace %s"
               " (%" PRIu64 " events)\n",
               hex64(first_result.trace_hash).c_str(), first_result.events,
               hex64(second.trace_hash).c_str(), second.events);
  if (const auto& d = check.divergence()) {
    std::fprintf(stderr, "first divergent event: index %" PRIu64 "\n  run 1: %s\n  run 2: %s\n",
                 d->first_run.index, describe(config, d->first_run).c_str(),
                 describe(config, d->second_run).c_str());
  } else {
    std::fprintf(stderr, "the runs agree on the first %zu events; they differ after them\n",
                 check.recorded());
  }
  return false;
}

}  // namespace

int cmd_run(int argc, char** argv) {
  std::string error;
  const std::string usage_string = usage_text();
  const char* usage = usage_string.c_str();
  const auto args = parse_args(
      argc, argv,
      with_run_control_flags({"--seed", "--json", "--report", "--history", "--save-logs", "--trace"}),
      {"--check-determinism"}, &error);
  if (!args) return usage_error("run", error, usage);
  if (args->help) {
    std::fputs(usage, stdout);
    return kExitOk;
  }
  const Result<workloads::RunBudget> budget = parse_budget(*args);
  if (!budget) return usage_error("run", budget.error(), usage);
  const Result<workloads::ScenarioOverrides> overrides = parse_overrides(*args);
  if (!overrides) return usage_error("run", overrides.error(), usage);
  if (args->positional.size() != 1) {
    return usage_error("run", "expected exactly one scenario FILE", usage);
  }
  std::uint64_t seed = 0;
  if (args->flags.count("--seed") &&
      (!parse_u64(args->flags.at("--seed"), &seed) || seed == 0)) {
    return usage_error("run", "--seed needs a positive integer", usage);
  }
  const std::string& path = args->positional[0];
  const auto config = workloads::load_scenario(path, overrides.value());
  if (!config) {
    std::fprintf(stderr, "%s\n", config.error().c_str());
    return kExitBadInput;
  }
  const bool determinism = args->flags.count("--check-determinism") > 0;
  workloads::DeterminismCheck check;
  workloads::RunOptions options;
  options.seed = seed;
  options.budget = budget.value();
  if (determinism) {
    options.observer = [&check](const sim::EventRecord& e) { check.record(e); };
  }
  const auto flag = [&args](const char* name) {
    const auto it = args->flags.find(name);
    return it == args->flags.end() ? std::string() : it->second;
  };
  RunOutputs outputs(config.value(), flag("--history"), flag("--save-logs"), flag("--trace"));
  if (const Result<std::monostate> ready = outputs.prepare(options); !ready) {
    return usage_error("run", ready.error(), usage);
  }
  const workloads::RunResult result = workloads::run_scenario(config.value(), options);
  print_summary(config.value(), result, path);
  // A runaway was stopped, not judged: there is no verdict or complete history to write.
  if (result.runaway != workloads::Runaway::none) return kExitRunaway;
  if (const Result<std::monostate> written = outputs.finish(result); !written) {
    std::fprintf(stderr, "streamlab run: %s\n", written.error().c_str());
    return kExitBadInput;
  }
  if (args->flags.count("--json") &&
      !write_file(args->flags.at("--json"), result_json(config.value(), result), &error)) {
    std::fprintf(stderr, "streamlab run: %s\n", error.c_str());
    return kExitBadInput;
  }
  if (args->flags.count("--report") &&
      !write_report(config.value(), result, path, args->flags.at("--report"), &error)) {
    std::fprintf(stderr, "streamlab run: %s\n", error.c_str());
    return kExitBadInput;
  }
  if (determinism && !check_determinism(config.value(), result.seed, check, result)) {
    return kExitNondeterministic;
  }
  return result.expectations_met ? kExitOk : kExitExpectationFailed;
}

}  // namespace streamlab::cli
