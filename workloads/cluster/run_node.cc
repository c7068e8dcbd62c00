#include "workloads/cluster/run_node.h"

#include <signal.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <memory>
#include <thread>

#include "workloads/scenario/scenario_loader.h"

namespace streamlab::cluster {

Result<NodePlan> plan_node(const std::string& cluster_file, NodeRole role,
                           const std::string& name) {
  Result<Cluster> cluster = read_cluster_file(cluster_file);
  if (!cluster) return Error{cluster.error()};
  const NodeId id = cluster.value().id_of(name);
  if (id == kNoNode) return Error{cluster_file + ": no node named \"" + name + "\""};
  const NodeRole listed = cluster.value().nodes[id].role;
  if (listed != role) {
    return Error{cluster_file + ": node \"" + name + "\" has role " + to_string(listed) +
                 ", not " + to_string(role)};
  }
  Result<workloads::ScenarioConfig> scenario = workloads::load_scenario(cluster.value().scenario);
  if (!scenario) return Error{scenario.error()};
  Result<NodeFactory> factory = node_factory(scenario.value(), role, name);
  if (!factory) return Error{factory.error()};
  Result<AsioRuntimeConfig> runtime = runtime_config(cluster.value(), name);
  if (!runtime) return Error{runtime.error()};
  return NodePlan{role, std::move(runtime.value()), std::move(factory.value())};
}

Result<std::monostate> run_node(NodePlan plan) {
  // Blocked before the io thread exists, so it inherits the mask and only sigwait below
  // receives them; a signal never interrupts node code.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  SL_ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr), 0);
  // A peer that goes away mid-write must break a connection, not end the process.
  ::signal(SIGPIPE, SIG_IGN);

  const std::string name = plan.runtime.peers[plan.runtime.self].name;
  const std::string data_dir = plan.runtime.data_dir;
  boost::asio::io_context io;
  auto runtime = std::make_unique<AsioRuntime>(io, std::move(plan.runtime));
  std::unique_ptr<Node> node = plan.factory(*runtime);
  runtime->attach(*node);
  const Result<std::uint16_t> port = runtime->start();
  if (!port) return Error{name + ": " + port.error()};
  std::printf("streamlab-node: %s (%s) listening on 127.0.0.1:%u, files in %s, pid %d\n",
              name.c_str(), to_string(plan.role), static_cast<unsigned>(port.value()),
              data_dir.c_str(), static_cast<int>(::getpid()));
  std::fflush(stdout);
  std::thread thread([&io] { io.run(); });

  int received = 0;
  while (sigwait(&stop_signals, &received) != 0) {
  }
  std::printf("streamlab-node: %s stopping on %s\n", name.c_str(),
              received == SIGTERM ? "SIGTERM" : "SIGINT");
  std::fflush(stdout);
  // As a process exit: the thread stops, then the actor and its runtime (closing its
  // sockets); the io_context goes last and drops what never ran.
  io.stop();
  thread.join();
  node.reset();
  runtime.reset();
  return std::monostate{};
}

}  // namespace streamlab::cluster
