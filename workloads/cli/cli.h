#pragma once

// The `streamlab` command line: shared pieces of its commands.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "workloads/report/files.h"
#include "workloads/run/reproduce.h"
#include "workloads/scenario/scenario_config.h"
#include "workloads/scenario/scenario_loader.h"
#include "workloads/run/scenario_runner.h"

namespace streamlab::cli {
using workloads::FollowUpCommands;
using workloads::follow_up_commands;
using workloads::hex64;
using workloads::reproduce_command;
using workloads::ScenarioConfig;
using workloads::write_file;
using workloads::write_file_atomically;
}

namespace streamlab::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitExpectationFailed = 1,
  kExitBadInput = 2,
  kExitNondeterministic = 3,
  // 4 is streamlab-gui's "no display".
  kExitRunaway = 5,
};



// Arguments after the command name: positionals and --flags (with or without values).
struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;  // "--seed" -> "7"; valueless flags -> "".
  // Every value of each flag that takes one, in order, for flags given more than once
  // ("--allow a --allow b"); `flags` keeps the last.
  std::map<std::string, std::vector<std::string>> all_values;
  bool help = false;
};

// Parses argv; flags in `with_value` take the next argument (or "=value"). Unknown flags
// are an error naming them.
std::optional<Args> parse_args(int argc, char** argv, const std::vector<std::string>& with_value,
                               const std::vector<std::string>& without_value,
                               std::string* error);
// Strict unsigned parse of a flag value; false on junk.
bool parse_u64(const std::string& text, std::uint64_t* out);

// The controls of run, replay, explore and shrink: --duration D (the scenario's length,
// workloads::ScenarioOverrides) and --max-events N / --max-memory SIZE, the budget of one
// run (workloads::RunBudget; generous by default, 0 lifts a limit).
inline constexpr std::uint64_t kDefaultMaxEvents = 1'000'000'000;
inline constexpr std::uint64_t kDefaultMaxMemoryBytes = 4ULL << 30;
inline const std::vector<std::string> kBudgetFlags = {"--max-events", "--max-memory"};
// Their help lines, the text starting at `column` to line up with the command's other
// flags.
std::string run_control_help(std::size_t column);
Result<workloads::RunBudget> parse_budget(const Args& args);
Result<workloads::ScenarioOverrides> parse_overrides(const Args& args);
// The flags that give `budget` where it is not the default (" --max-events 5000"), for a
// runaway's reproduce command.
std::string budget_flags(const workloads::RunBudget& budget);
// Flags that take a value plus the run controls'.
std::vector<std::string> with_run_control_flags(std::vector<std::string> flags);

int usage_error(const std::string& command, const std::string& message, const char* usage);

std::string scenario_dir();
void print_summary(const ScenarioConfig& config, const workloads::RunResult& result,
                   const std::string& path);
std::string result_json(const ScenarioConfig& config, const workloads::RunResult& result);

int cmd_run(int argc, char** argv);
// `streamlab capacity`: a load test of a cluster with an OMB workload (cmd_capacity.cc).
int cmd_capacity(int argc, char** argv);
int cmd_explore(int argc, char** argv);
int cmd_list(int argc, char** argv);
// `streamlab replay`: a run again with its structured event log (cmd_replay.cc).
int cmd_replay(int argc, char** argv);
// `streamlab check`: judges a recorded run again (cmd_check.cc).
int cmd_check(int argc, char** argv);
// `streamlab shrink`: minimizes a failing run (cmd_shrink.cc, engine workloads/shrink.h).
int cmd_shrink(int argc, char** argv);
// `streamlab cluster up|down|status|check`: a local real-mode cluster (cmd_cluster.cc).
int cmd_cluster(int argc, char** argv);
// `streamlab cluster check` (cmd_cluster_check.cc).
int cluster_check(int argc, char** argv);
// `streamlab produce` and `streamlab consume`: client processes of a local cluster
// (cmd_produce.cc, cmd_consume.cc).
int cmd_produce(int argc, char** argv);
int cmd_consume(int argc, char** argv);

}  // namespace streamlab::cli
