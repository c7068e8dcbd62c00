#include "workloads/cli/client_command.h"

#include <signal.h>

#include <cstdio>
#include <filesystem>

#include "workloads/scenario/scenario_loader.h"
#include "workloads/scenario/units.h"

namespace streamlab::cli {

namespace {

std::optional<ClientCommand> fail(const std::string& command, const std::string& message) {
  std::fprintf(stderr, "streamlab %s: %s\n", command.c_str(), message.c_str());
  return std::nullopt;
}

// The scenario's topic names, quoted, for an error message.
std::string topic_names(const ScenarioConfig& scenario) {
  std::string names;
  for (const auto& [name, partitions] : scenario.pulsar.topics) {
    names += (names.empty() ? "\"" : ", \"") + name + "\"";
  }
  return names.empty() ? "none" : names;
}

}  // namespace

bool duration_flag(const std::string& command, const Args& args, const std::string& flag,
                   std::int64_t fallback, const char* usage, std::int64_t* out) {
  const auto it = args.flags.find(flag);
  if (it == args.flags.end()) {
    *out = fallback;
    return true;
  }
  const Result<std::int64_t> ns = workloads::parse_duration_ns(it->second);
  if (!ns || ns.value() <= 0) {
    usage_error(command, flag + ": " + (ns ? "must be > 0" : ns.error()), usage);
    return false;
  }
  *out = ns.value();
  return true;
}

std::optional<ClientCommand> prepare_client_command(const std::string& command, const Args& args,
                                                    const char* usage,
                                                    std::int64_t default_timeout_ns) {
  if (args.positional.size() != 1) {
    usage_error(command, "expected exactly one cluster directory DIR", usage);
    return std::nullopt;
  }
  if (!args.flags.contains("--topic") || args.flags.at("--topic").empty()) {
    usage_error(command, "missing --topic", usage);
    return std::nullopt;
  }
  std::int64_t timeout_ns = 0;
  if (!duration_flag(command, args, "--timeout", default_timeout_ns, usage, &timeout_ns)) {
    return std::nullopt;
  }
  const std::string& dir = args.positional[0];
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return fail(command, dir + ": no such directory");
  const auto as = args.flags.find("--as");
  Result<cluster::ClientSlot> slot = cluster::claim_client_slot(
      cluster::cluster_file_path(dir), as == args.flags.end() ? "" : as->second);
  if (!slot) return fail(command, slot.error());
  Result<ScenarioConfig> scenario = workloads::load_scenario(slot.value().cluster.scenario);
  if (!scenario) return fail(command, scenario.error());
  const std::string& topic = args.flags.at("--topic");
  if (!scenario.value().pulsar.topics.contains(topic)) {
    return fail(command, "the cluster's scenario " + slot.value().cluster.scenario +
                             " has no topic \"" + topic + "\"; its topics: " +
                             topic_names(scenario.value()));
  }
  const auto history = args.flags.find("--history");
  const std::string path =
      history != args.flags.end()
          ? history->second
          : (std::filesystem::path(slot.value().cluster.dir) /
             (slot.value().name + "-" + command + ".jsonl"))
                .string();
  Result<cluster::HistoryFile> file = cluster::HistoryFile::create(path);
  if (!file) return fail(command, file.error());
  return ClientCommand{std::move(slot.value()), std::move(scenario.value()), topic,
                       std::move(file.value()), timeout_ns};
}

std::string stop_words(const cluster::ClientOutcome& outcome, std::int64_t timeout_ns) {
  switch (outcome.stop) {
    case cluster::ClientStop::done:
      return "done";
    case cluster::ClientStop::timeout: {
      char buffer[48];
      std::snprintf(buffer, sizeof buffer, "the timeout (%.3g s)", seconds(timeout_ns));
      return buffer;
    }
    case cluster::ClientStop::signal:
      return outcome.signal == SIGINT ? "SIGINT" : "SIGTERM";
  }
  return "?";
}

double seconds(std::int64_t ns) { return static_cast<double>(ns) / 1e9; }

}  // namespace streamlab::cli
