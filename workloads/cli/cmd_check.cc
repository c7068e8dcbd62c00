// `streamlab check SCENARIO HISTORY... --logs DIR`: judges a recorded run again with the
// checker of the scenario's system, from its history and its nodes' files alone (as
// `streamlab run --history H --save-logs DIR` kept them), and weighs the scenario's
// expectations as `run` does: a history can be archived, shared and judged later.

#include <cinttypes>
#include <cstdio>
#include <string>
#include <vector>

#include "workloads/cli/cli.h"
#include "workloads/run/saved_run.h"
#include "workloads/scenario/scenario_loader.h"

namespace streamlab::cli {

namespace {

constexpr const char* kCheckUsage = R"(usage: streamlab check SCENARIO HISTORY... --logs DIR

Judges a recorded simulated run of SCENARIO with the checker of its system: the clients'
histories (JSON lines, as `streamlab run --history OUT.jsonl` writes them; several files
are merged by time) and the nodes' files under DIR (DIR/NODE/FILE, as `streamlab run
--save-logs DIR` writes them). Prints the anomalies with their first examples and
weighs the scenario's expectations, as `streamlab run` does.

  --logs DIR     the nodes' files (required)

A real cluster's run is judged with `streamlab cluster check DIR HISTORY...`, which knows
the cluster's own node numbering.

exit codes: 0 expectations met, 1 an expectation failed, 2 bad input or usage
)";

}  // namespace

int cmd_check(int argc, char** argv) {
  std::string error;
  const auto args = parse_args(argc, argv, {"--logs"}, {}, &error);
  if (!args) return usage_error("check", error, kCheckUsage);
  if (args->help) {
    std::fputs(kCheckUsage, stdout);
    return kExitOk;
  }
  if (args->positional.size() < 2) {
    return usage_error("check", "expected a SCENARIO and at least one HISTORY", kCheckUsage);
  }
  if (!args->flags.contains("--logs")) {
    return usage_error("check", "--logs DIR is required (the nodes' files)", kCheckUsage);
  }
  const auto config = workloads::load_scenario(args->positional[0]);
  if (!config) {
    std::fprintf(stderr, "%s\n", config.error().c_str());
    return kExitBadInput;
  }
  const std::vector<std::string> histories(args->positional.begin() + 1, args->positional.end());
  const Result<workloads::CheckResult> check =
      workloads::check_saved_run(config.value(), histories, args->flags.at("--logs"));
  if (!check) {
    std::fprintf(stderr, "streamlab check: %s\n", check.error().c_str());
    return kExitBadInput;
  }
  std::printf("scenario   %s (%s)\n", config.value().name.c_str(), args->positional[0].c_str());
  std::printf("checker    %s, %zu history file%s, files of %s\n",
              config.value().checker.c_str(), histories.size(),
              histories.size() == 1 ? "" : "s", args->flags.at("--logs").c_str());
  if (check.value().anomalies.empty()) std::printf("anomalies  none\n");
  for (const auto& [name, count] : check.value().anomalies) {
    std::printf("anomaly    %s x%" PRIu64 ", first: %s\n", name.c_str(), count,
                check.value().examples.at(name).c_str());
  }
  const std::vector<std::string> failed =
      workloads::failed_expectations(config.value(), check.value());
  if (failed.empty()) {
    std::printf("expect     met (%zu expectations)\n", config.value().expectations.size());
    return kExitOk;
  }
  for (const std::string& f : failed) std::printf("FAILED     %s\n", f.c_str());
  return kExitExpectationFailed;
}

}  // namespace streamlab::cli
