// `streamlab cluster up|down|status`: a local real-mode cluster (DESIGN.md section 7), one
// streamlab-node process per metadata store, bookie and broker of a pulsar scenario, over
// TCP on 127.0.0.1. The cluster directory holds the cluster file every process reads
// (workloads/cluster/cluster.h), each node's files in DIR/NAME and its log in DIR/NAME.log.
// `cluster check` lives in cmd_cluster_check.cc.

#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "workloads/cli/cli.h"
#include "workloads/cluster/cluster.h"
#include "workloads/cluster/processes.h"
#include "workloads/cluster/scenario_nodes.h"
#include "workloads/scenario/scenario_loader.h"

namespace streamlab::cli {

namespace {

using cluster::Cluster;
using cluster::ClusterNode;
using cluster::NodeRole;

constexpr std::uint64_t kDefaultClients = 4;
constexpr std::uint64_t kMaxClients = 64;
constexpr auto kStartTimeout = std::chrono::seconds(10);
constexpr auto kStopGrace = std::chrono::seconds(5);
constexpr auto kPollInterval = std::chrono::milliseconds(20);

constexpr const char* kClusterUsage = R"(usage: streamlab cluster up|down|status|check ...

Runs a pulsar scenario's metadata store, bookies and brokers for real: one streamlab-node
process each, over TCP on 127.0.0.1, with real files and fsync.

  up SCENARIO [--dir DIR] [--clients N]   start a cluster, leave it running
  down DIR                                stop it
  status DIR                              list its nodes and whether they are alive
  check DIR HISTORY... [--json OUT] [--allow ANOMALY]...
                                          judge a run from the client processes'
                                          histories (`streamlab produce`, `consume`)

`streamlab cluster SUBCOMMAND --help` describes a subcommand.
)";

constexpr const char* kUpUsage = R"(usage: streamlab cluster up SCENARIO [--dir DIR] [--clients N]

Starts one streamlab-node process per metadata store, bookie and broker of the pulsar
scenario SCENARIO, each on a free port of 127.0.0.1, waits until every one accepts
connections (at most 10 s), prints the nodes and exits, leaving them running.

  --dir DIR       the cluster directory (created if missing; default: a new directory
                  /tmp/streamlab-cluster-XXXXXX). It receives cluster.textproto (the
                  nodes, ports and pids every process reads), each node's files in
                  DIR/NAME and its output in DIR/NAME.log. A directory of a stopped
                  cluster can be reused: the nodes recover from their files.
  --clients N     client slots client-1..N to reserve in the peer table (default 4, at
                  most 64), for client processes that join the cluster later

exit codes: 0 the cluster is up, 1 a node did not come up (the ones started are
            killed), 2 bad input or usage
)";

constexpr const char* kDownUsage = R"(usage: streamlab cluster down DIR

Stops the cluster in DIR: SIGTERM to every node process, up to 5 s for them to exit, then
SIGKILL. Nodes already stopped are fine, so running it twice is harmless. The directory
and the nodes' files stay.

exit codes: 0 every node is stopped, 2 bad input or usage
)";

constexpr const char* kStatusUsage = R"(usage: streamlab cluster status DIR

Lists the nodes of the cluster in DIR: role, port, pid and whether the process is alive.

exit codes: 0 every node is alive, 1 some node is not, 2 bad input or usage
)";

int fail(const std::string& command, const std::string& message, int code = kExitBadInput) {
  std::fprintf(stderr, "streamlab cluster %s: %s\n", command.c_str(), message.c_str());
  return code;
}

std::string log_path(const Cluster& c, const ClusterNode& node) {
  return (std::filesystem::path(c.dir) / (node.name + ".log")).string();
}

// [SECTION] up

// The cluster directory, absolute: DIR (created if missing) or a new one under /tmp. An
// error if DIR holds a cluster that is still running.
Result<std::string> prepare_dir(const std::string& requested) {
  if (requested.empty()) {
    std::string pattern = "/tmp/streamlab-cluster-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) return Error{"cannot create a directory in /tmp"};
    return pattern;
  }
  std::error_code ec;
  std::filesystem::create_directories(requested, ec);
  if (ec) return Error{"cannot create directory " + requested + ": " + ec.message()};
  const std::string dir = std::filesystem::canonical(requested, ec).string();
  if (ec) return Error{"cannot resolve " + requested + ": " + ec.message()};
  if (!std::filesystem::exists(cluster::cluster_file_path(dir))) return dir;
  const Result<Cluster> old = cluster::read_cluster_file(cluster::cluster_file_path(dir));
  if (!old) return dir;  // Not a usable cluster file: overwritten.
  for (const ClusterNode& node : old.value().nodes) {
    if (cluster::node_alive(node.pid, node.name)) {
      return Error{dir + " holds a running cluster (" + node.name + " is alive, pid " +
                   std::to_string(node.pid) + "); stop it with `streamlab cluster down " +
                   dir + "`"};
    }
  }
  return dir;
}

// The cluster as planned: `nodes` with free ports, no pids yet.
Result<Cluster> plan_cluster(const workloads::ScenarioConfig& scenario,
                             const std::string& scenario_path, const std::string& dir,
                             std::vector<ClusterNode> nodes) {
  const Result<std::vector<std::uint16_t>> ports = cluster::pick_free_ports(nodes.size());
  if (!ports) return Error{ports.error()};
  Cluster c;
  c.scenario = std::filesystem::absolute(scenario_path).lexically_normal().string();
  c.dir = dir;
  c.seed = scenario.seed;
  c.nodes = std::move(nodes);
  for (std::size_t i = 0; i < c.nodes.size(); ++i) c.nodes[i].port = ports.value()[i];
  return c;
}

// Starts every server node, filling in its pid; `started` gets each child's pid.
Result<std::monostate> start_nodes(Cluster& c, const std::string& node_bin,
                                   std::vector<pid_t>* started) {
  const std::string file = cluster::cluster_file_path(c.dir);
  for (ClusterNode& node : c.nodes) {
    if (node.role == NodeRole::client) continue;
    const Result<pid_t> pid = cluster::spawn_logged(
        {node_bin, "--role", cluster::to_string(node.role), "--config", file, "--id", node.name},
        log_path(c, node));
    if (!pid) return Error{"cannot start " + node.name + ": " + pid.error()};
    node.pid = pid.value();
    started->push_back(pid.value());
  }
  return std::monostate{};
}

std::string exit_description(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "stopped";
}

// An error naming the node (and its log) if it exited; reaps it then.
Result<std::monostate> check_not_exited(const Cluster& c, const ClusterNode& node) {
  int status = 0;
  if (::waitpid(node.pid, &status, WNOHANG) != node.pid) return std::monostate{};
  return Error{node.name + " " + exit_description(status) + " before it listened; see " +
               log_path(c, node)};
}

// Waits until every server node accepts connections on its port.
Result<std::monostate> wait_listening(const Cluster& c) {
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  std::vector<bool> ready(c.nodes.size(), false);
  for (std::size_t i = 0; i < c.nodes.size(); ++i) ready[i] = c.nodes[i].role == NodeRole::client;
  while (true) {
    bool all = true;
    for (std::size_t i = 0; i < c.nodes.size(); ++i) {
      if (ready[i]) continue;
      if (Result<std::monostate> ok = check_not_exited(c, c.nodes[i]); !ok) return ok;
      ready[i] = cluster::accepts_connections(c.nodes[i].port);
      all = all && ready[i];
    }
    if (all) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      for (std::size_t i = 0; i < c.nodes.size(); ++i) {
        if (ready[i]) continue;
        return Error{c.nodes[i].name + " did not accept connections on 127.0.0.1:" +
                     std::to_string(c.nodes[i].port) + " within 10 s; see " +
                     log_path(c, c.nodes[i])};
      }
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  // A node that lost its port to another process exits at once: catch it still here.
  for (const ClusterNode& node : c.nodes) {
    if (node.role == NodeRole::client) continue;
    if (Result<std::monostate> ok = check_not_exited(c, node); !ok) return ok;
  }
  return std::monostate{};
}

void print_up(const Cluster& c, const std::string& scenario_name) {
  std::printf("cluster of \"%s\" up in %s\n", scenario_name.c_str(), c.dir.c_str());
  for (const ClusterNode& node : c.nodes) {
    if (node.role == NodeRole::client) {
      std::printf("  %-12s %-9s 127.0.0.1:%-5u (slot for a client process)\n", node.name.c_str(),
                  cluster::to_string(node.role), static_cast<unsigned>(node.port));
    } else {
      std::printf("  %-12s %-9s 127.0.0.1:%-5u pid %d\n", node.name.c_str(),
                  cluster::to_string(node.role), static_cast<unsigned>(node.port), node.pid);
    }
  }
  std::printf("cluster file %s; logs in %s/NAME.log\n",
              cluster::cluster_file_path(c.dir).c_str(), c.dir.c_str());
  std::printf("status: streamlab cluster status %s\nstop:   streamlab cluster down %s\n",
              c.dir.c_str(), c.dir.c_str());
}

// Starts the planned cluster and waits for it; on failure kills what it started.
int bring_up(Cluster& c, const std::string& node_bin, const std::string& scenario_name) {
  const std::string file = cluster::cluster_file_path(c.dir);
  if (Result<std::monostate> ok = cluster::write_cluster_file(file, c); !ok) {
    return fail("up", ok.error());
  }
  std::vector<pid_t> started;
  Result<std::monostate> ok = start_nodes(c, node_bin, &started);
  if (ok) ok = cluster::write_cluster_file(file, c);
  if (ok) ok = wait_listening(c);
  if (!ok) {
    cluster::kill_children(started);
    for (ClusterNode& node : c.nodes) node.pid = 0;
    (void)cluster::write_cluster_file(file, c);
    return fail("up", ok.error() + "\nthe nodes it started were killed", kExitExpectationFailed);
  }
  print_up(c, scenario_name);
  return kExitOk;
}

int cluster_up(int argc, char** argv) {
  std::string error;
  const auto args = parse_args(argc, argv, {"--dir", "--clients"}, {}, &error);
  if (!args) return usage_error("cluster up", error, kUpUsage);
  if (args->help) {
    std::fputs(kUpUsage, stdout);
    return kExitOk;
  }
  if (args->positional.size() != 1) {
    return usage_error("cluster up", "expected exactly one SCENARIO", kUpUsage);
  }
  std::uint64_t clients = kDefaultClients;
  if (args->flags.contains("--clients") &&
      (!parse_u64(args->flags.at("--clients"), &clients) || clients > kMaxClients)) {
    return usage_error("cluster up", "--clients must be a number in [0, 64]", kUpUsage);
  }
  const std::string& scenario_path = args->positional[0];
  const Result<workloads::ScenarioConfig> scenario = workloads::load_scenario(scenario_path);
  if (!scenario) return fail("up", scenario.error());
  Result<std::vector<ClusterNode>> nodes =
      cluster::cluster_nodes(scenario.value(), static_cast<std::uint32_t>(clients));
  if (!nodes) return fail("up", nodes.error());
  const Result<std::string> node_bin = cluster::node_binary();
  if (!node_bin) return fail("up", node_bin.error());
  const auto dir_flag = args->flags.find("--dir");
  const Result<std::string> dir = prepare_dir(dir_flag == args->flags.end() ? "" : dir_flag->second);
  if (!dir) return fail("up", dir.error());
  Result<Cluster> c =
      plan_cluster(scenario.value(), scenario_path, dir.value(), std::move(nodes.value()));
  if (!c) return fail("up", c.error());
  return bring_up(c.value(), node_bin.value(), scenario.value().name);
}

// [SECTION] down and status

// The cluster of directory `dir`, or an error naming the directory or file.
Result<Cluster> read_dir(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return Error{dir + ": no such directory"};
  return cluster::read_cluster_file(cluster::cluster_file_path(dir));
}

// Parses `SUBCOMMAND DIR`; returns the cluster or prints the error and sets *exit_code.
std::optional<Cluster> cluster_of_args(const char* sub, const char* usage, int argc, char** argv,
                                       int* exit_code) {
  std::string error;
  const auto args = parse_args(argc, argv, {}, {}, &error);
  const std::string command = std::string("cluster ") + sub;
  if (!args) {
    *exit_code = usage_error(command, error, usage);
  } else if (args->help) {
    std::fputs(usage, stdout);
    *exit_code = kExitOk;
  } else if (args->positional.size() != 1) {
    *exit_code = usage_error(command, "expected exactly one cluster directory DIR", usage);
  } else if (Result<Cluster> c = read_dir(args->positional[0]); !c) {
    *exit_code = fail(sub, c.error());
  } else {
    return std::move(c.value());
  }
  return std::nullopt;
}

int cluster_down(int argc, char** argv) {
  int exit_code = kExitOk;
  const std::optional<Cluster> c = cluster_of_args("down", kDownUsage, argc, argv, &exit_code);
  if (!c) return exit_code;
  std::vector<ClusterNode> running;
  for (const ClusterNode& node : c->nodes) {
    if (cluster::node_alive(node.pid, node.name)) running.push_back(node);
  }
  const std::vector<std::string> killed = cluster::stop_nodes(running, kStopGrace);
  for (const ClusterNode& node : running) {
    const bool was_killed = std::find(killed.begin(), killed.end(), node.name) != killed.end();
    std::printf("  %-12s pid %-7d %s\n", node.name.c_str(), node.pid,
                was_killed ? "killed (SIGKILL after 5 s)" : "stopped");
  }
  std::printf("cluster in %s is down (%zu node process%s stopped now)\n", c->dir.c_str(),
              running.size(), running.size() == 1 ? "" : "es");
  return kExitOk;
}

int cluster_status(int argc, char** argv) {
  int exit_code = kExitOk;
  const std::optional<Cluster> c = cluster_of_args("status", kStatusUsage, argc, argv, &exit_code);
  if (!c) return exit_code;
  std::printf("cluster in %s (scenario %s)\n", c->dir.c_str(), c->scenario.c_str());
  bool all_alive = true;
  for (const ClusterNode& node : c->nodes) {
    const char* role = cluster::to_string(node.role);
    if (node.role == NodeRole::client) {
      std::printf("  %-12s %-9s 127.0.0.1:%-5u client slot\n", node.name.c_str(), role,
                  static_cast<unsigned>(node.port));
      continue;
    }
    const bool alive = cluster::node_alive(node.pid, node.name);
    all_alive = all_alive && alive;
    std::printf("  %-12s %-9s 127.0.0.1:%-5u pid %-7d %s\n", node.name.c_str(), role,
                static_cast<unsigned>(node.port), node.pid, alive ? "alive" : "dead");
  }
  return all_alive ? kExitOk : kExitExpectationFailed;
}

}  // namespace

int cmd_cluster(int argc, char** argv) {
  if (argc < 1) return usage_error("cluster", "expected up, down, status or check", kClusterUsage);
  const std::string sub = argv[0];
  if (sub == "--help" || sub == "-h" || sub == "help") {
    std::fputs(kClusterUsage, stdout);
    return kExitOk;
  }
  if (sub == "up") return cluster_up(argc - 1, argv + 1);
  if (sub == "down") return cluster_down(argc - 1, argv + 1);
  if (sub == "status") return cluster_status(argc - 1, argv + 1);
  if (sub == "check") return cluster_check(argc - 1, argv + 1);
  return usage_error("cluster", "unknown subcommand \"" + sub + "\"", kClusterUsage);
}

}  // namespace streamlab::cli
