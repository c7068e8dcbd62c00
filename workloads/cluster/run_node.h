#pragma once

// One cluster node as a process: the actor on an AsioRuntime whose io_context runs on its
// own thread, as tests/runtime/asio_test_process.h runs one inside a test, until the
// process is asked to stop.

#include <string>
#include <variant>

#include "base/result.h"
#include "runtime/asio_runtime.h"
#include "workloads/cluster/cluster.h"
#include "workloads/cluster/scenario_nodes.h"

namespace streamlab::cluster {

// Everything a node process needs, checked before it starts.
struct NodePlan {
  NodeRole role = NodeRole::client;
  AsioRuntimeConfig runtime;
  NodeFactory factory;
};

// Reads the cluster file and its scenario and plans node `name`: an error (bad input) if
// the file or scenario does not load, no node has that name, or its role is not `role`.
Result<NodePlan> plan_node(const std::string& cluster_file, NodeRole role,
                           const std::string& name);

// Runs the node until SIGTERM or SIGINT, then stops cleanly: the io_context stops, its
// thread is joined, the actor and runtime go. Prints one line to stdout once it listens.
// An error if it cannot listen on its port. Must be called before the process starts any
// other thread: it blocks both signals for every thread and waits for them on this one.
Result<std::monostate> run_node(NodePlan plan);

}  // namespace streamlab::cluster
