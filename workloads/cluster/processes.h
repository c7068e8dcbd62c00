#pragma once

// The operating-system side of a local cluster: ports, node processes, their liveness.
// Used by `streamlab cluster` (workloads/cli/cmd_cluster.cc); the nodes themselves are
// `streamlab-node` processes (workloads/cluster/node_main.cc).

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "workloads/cluster/cluster.h"

namespace streamlab::cluster {

// `count` ports on 127.0.0.1 that were free a moment ago: all are bound at once (port 0,
// so the kernel picks distinct ones), read, then closed. Another process could take one
// before its node binds it; the node then fails to start and `cluster up` says so.
Result<std::vector<std::uint16_t>> pick_free_ports(std::size_t count);

// `streamlab-node` next to the running executable (/proc/self/exe's directory); an error
// if it is missing or not executable.
Result<std::string> node_binary();

// Starts `argv` (argv[0] a path) in a new session, stdin from /dev/null, stdout and
// stderr appended to `log_path`. An error if fork fails; a failed exec shows as the child
// exiting with 127 after writing the reason to the log.
Result<pid_t> spawn_logged(const std::vector<std::string>& argv, const std::string& log_path);

// Kills (SIGKILL) and reaps child processes of this one, as `cluster up` does with the
// nodes it started when the cluster does not come up.
void kill_children(const std::vector<pid_t>& pids);

// Whether a process accepts TCP connections on 127.0.0.1:port (connects and closes).
bool accepts_connections(std::uint16_t port);

// Whether `pid` is a live streamlab-node process running node `name`: not gone, not a
// zombie, and not another program that was given the pid after the node exited.
bool node_alive(std::int32_t pid, std::string_view name);

// Stops the nodes' processes: SIGTERM (and SIGCONT, so a paused node can act on it), up
// to `grace` for them to exit, then SIGKILL, and up to a second more. Nodes not alive
// are skipped. Returns the names of the nodes that had to be killed.
std::vector<std::string> stop_nodes(const std::vector<ClusterNode>& nodes,
                                    std::chrono::milliseconds grace);

}  // namespace streamlab::cluster
