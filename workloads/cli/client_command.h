#pragma once

// What `streamlab produce` and `streamlab consume` share: the cluster directory and its
// scenario, the client slot the process takes, the topic, where the history goes, the
// timeout, and the words of their summaries.

#include <cstdint>
#include <optional>
#include <string>

#include "workloads/cli/cli.h"
#include "workloads/cluster/client_process.h"
#include "workloads/cluster/history_file.h"

namespace streamlab::cli {

struct ClientCommand {
  cluster::ClientSlot slot;
  ScenarioConfig scenario;
  std::string topic;
  cluster::HistoryFile history;
  std::int64_t timeout_ns = 0;
};

// The flags every client command takes, with a value.
inline const std::vector<std::string> kClientFlags = {"--topic", "--as", "--history", "--timeout"};

// From `streamlab COMMAND DIR --topic T [--as SLOT] [--history FILE] [--timeout D]`: the
// cluster of DIR, its scenario (which must declare the topic), a claimed slot and the
// history file, created (default DIR/<slot>-<command>.jsonl). On bad input prints why
// and returns nullopt.
std::optional<ClientCommand> prepare_client_command(const std::string& command, const Args& args,
                                                    const char* usage,
                                                    std::int64_t default_timeout_ns);

// The value of duration flag `flag` (`fallback` when absent) in *out; false after
// printing a usage error. Durations must be > 0.
bool duration_flag(const std::string& command, const Args& args, const std::string& flag,
                   std::int64_t fallback, const char* usage, std::int64_t* out);

// "the timeout (120 s)", "SIGINT", ...: why a client stopped, for summaries.
std::string stop_words(const cluster::ClientOutcome& outcome, std::int64_t timeout_ns);
double seconds(std::int64_t ns);

}  // namespace streamlab::cli
