// streamlab-node: one node of a local real-mode cluster (DESIGN.md section 7), the same
// actor the simulator runs, over TCP on 127.0.0.1 with real files. `streamlab cluster up`
// starts one per metadata store, bookie and broker; it can also be run by hand.

#include <cstdio>
#include <map>
#include <optional>
#include <string>

#include "workloads/cluster/run_node.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitBadInput = 2;

constexpr const char* kUsage = R"(usage: streamlab-node --role metadata|bookie|broker --config CLUSTER_FILE --id NAME

Runs node NAME of the cluster described by CLUSTER_FILE (the cluster.textproto that
`streamlab cluster up` writes) until SIGTERM or SIGINT. Its peers and port come from the
file, its settings from the scenario the file names, its files live in DIR/NAME; a node
restarted on the same directory recovers from its files.

  --role ROLE     metadata, bookie or broker: must be NAME's role in the file
  --config FILE   the cluster file
  --id NAME       the node's name in the file

exit codes: 0 stopped by a signal, 1 could not listen on its port, 2 bad input or usage
)";

int bad_input(const std::string& message) {
  std::fprintf(stderr, "streamlab-node: %s\n", message.c_str());
  return kExitBadInput;
}

// "--flag value" or "--flag=value" for each of --role, --config, --id; nullopt after an
// error, which is in *error. An empty map with *help set means --help.
std::optional<std::map<std::string, std::string>> parse(int argc, char** argv, bool* help,
                                                        std::string* error) {
  std::map<std::string, std::string> flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      *help = true;
      return flags;
    }
    std::string value;
    const auto eq = arg.find('=');
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    if (arg != "--role" && arg != "--config" && arg != "--id") {
      *error = "unknown argument " + arg;
      return std::nullopt;
    }
    if (eq == std::string::npos) {
      if (i + 1 >= argc) {
        *error = arg + " needs a value";
        return std::nullopt;
      }
      value = argv[++i];
    }
    flags[arg] = value;
  }
  return flags;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace streamlab::cluster;
  bool help = false;
  std::string error;
  const auto flags = parse(argc, argv, &help, &error);
  if (help) {
    std::fputs(kUsage, stdout);
    return kExitOk;
  }
  if (!flags) return bad_input(error + "\n\n" + kUsage);
  for (const char* required : {"--role", "--config", "--id"}) {
    if (!flags->contains(required)) {
      return bad_input(std::string("missing ") + required + "\n\n" + kUsage);
    }
  }
  const std::optional<NodeRole> role = parse_role(flags->at("--role"));
  if (!role || *role == NodeRole::client) {
    return bad_input("unknown role \"" + flags->at("--role") +
                     "\"; expected metadata, bookie or broker");
  }
  streamlab::Result<NodePlan> plan = plan_node(flags->at("--config"), *role, flags->at("--id"));
  if (!plan) return bad_input(plan.error());
  const streamlab::Result<std::monostate> ran = run_node(std::move(plan.value()));
  if (!ran) {
    std::fprintf(stderr, "streamlab-node: %s\n", ran.error().c_str());
    return kExitFailed;
  }
  return kExitOk;
}
