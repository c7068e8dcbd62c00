// Real mode's local cluster (DESIGN.md section 7): the cluster file, and `streamlab
// cluster up|status|down` run as a user would, starting real streamlab-node processes for
// a shipped pulsar scenario and stopping them again.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/runtime/asio_test_process.h"
#include "tests/runtime/cluster_commands.h"
#include "workloads/cluster/cluster.h"
#include "workloads/cluster/processes.h"

namespace streamlab {
namespace {

using cluster::Cluster;
using cluster::ClusterNode;
using cluster::NodeRole;
using test_util::ClusterGuard;
using test_util::contains;
using test_util::node;
using test_util::Outcome;
using test_util::scenario;
using test_util::streamlab;
using test_util::TempDir;

constexpr char kPulsarScenario[] = "broker-failover.safe.textproto";
constexpr std::size_t kServers = 6;  // meta, bookie-1..3, broker-a, broker-b.

Cluster sample_cluster(const std::string& dir) {
  Cluster c;
  c.scenario = scenario(kPulsarScenario);
  c.dir = dir;
  c.seed = 7;
  c.nodes = {{"meta", NodeRole::metadata, 4001, 11},
             {"bookie-1", NodeRole::bookie, 4002, 12},
             {"broker-a", NodeRole::broker, 4003, 13},
             {"client-1", NodeRole::client, 4004, 0}};
  return c;
}

TEST(ClusterFile, RoundTripsAndBuildsTheSamePeerTableForEveryNode) {
  TempDir dir;
  const std::string file = cluster::cluster_file_path(dir.path());
  ASSERT_TRUE(cluster::write_cluster_file(file, sample_cluster(dir.path())).ok());
  const Result<Cluster> read = cluster::read_cluster_file(file);
  ASSERT_TRUE(read.ok()) << read.error();
  ASSERT_EQ(read.value().nodes.size(), 4u);
  EXPECT_EQ(read.value().nodes[1].name, "bookie-1");
  EXPECT_EQ(read.value().nodes[2].role, NodeRole::broker);
  EXPECT_EQ(read.value().nodes[3].port, 4004);
  EXPECT_EQ(read.value().nodes[0].pid, 11);

  const Result<AsioRuntimeConfig> broker = cluster::runtime_config(read.value(), "broker-a");
  const Result<AsioRuntimeConfig> client = cluster::runtime_config(read.value(), "client-1");
  ASSERT_TRUE(broker.ok() && client.ok());
  EXPECT_EQ(broker.value().self, 2u);
  EXPECT_EQ(client.value().self, 3u);
  EXPECT_EQ(client.value().data_dir, dir.path() + "/client-1");
  ASSERT_EQ(client.value().peers.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(client.value().peers[i].name, broker.value().peers[i].name);
    EXPECT_EQ(client.value().peers[i].port, broker.value().peers[i].port);
  }
  EXPECT_NE(client.value().seed, broker.value().seed);

  const Result<AsioRuntimeConfig> unknown = cluster::runtime_config(read.value(), "nobody");
  ASSERT_FALSE(unknown.ok());
  EXPECT_TRUE(contains(unknown.error(), "nobody"));
}

TEST(ClusterFile, ErrorsNameTheFileAndTheProblem) {
  TempDir dir;
  const std::string file = dir.path() + "/bad.textproto";
  auto read_text = [&file](const std::string& text) {
    std::ofstream(file) << text;
    return cluster::read_cluster_file(file);
  };
  const std::string head = "scenario: \"s\" dir: \"/d\" ";
  const Result<Cluster> missing = cluster::read_cluster_file(dir.path() + "/none.textproto");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(contains(missing.error(), dir.path() + "/none.textproto")) << missing.error();

  const Result<Cluster> syntax = read_text(head + "node { name: }");
  ASSERT_FALSE(syntax.ok());
  EXPECT_TRUE(contains(syntax.error(), file + ":1:")) << syntax.error();

  const Result<Cluster> role = read_text(head + "node { name: \"x\" role: \"oracle\" port: 1 }");
  ASSERT_FALSE(role.ok());
  EXPECT_TRUE(contains(role.error(), file) && contains(role.error(), "oracle")) << role.error();

  const Result<Cluster> twice = read_text(head + "node { name: \"x\" role: \"bookie\" port: 1 } "
                                                 "node { name: \"x\" role: \"broker\" port: 2 }");
  ASSERT_FALSE(twice.ok());
  EXPECT_TRUE(contains(twice.error(), "listed twice")) << twice.error();

  const Result<Cluster> port = read_text(head + "node { name: \"x\" role: \"bookie\" }");
  ASSERT_FALSE(port.ok());
  EXPECT_TRUE(contains(port.error(), "port 0")) << port.error();
}

TEST(ClusterCommand, UpStatusDownRunsRealNodeProcesses) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/c";
  ClusterGuard guard(dir);
  const Outcome up =
      streamlab("cluster up " + scenario(kPulsarScenario) + " --dir " + dir + " --clients 2");
  ASSERT_EQ(up.exit_code, 0) << up.out;
  EXPECT_TRUE(contains(up.out, dir)) << up.out;

  const Result<Cluster> c = cluster::read_cluster_file(cluster::cluster_file_path(dir));
  ASSERT_TRUE(c.ok()) << c.error();
  ASSERT_EQ(c.value().nodes.size(), kServers + 2);
  EXPECT_EQ(c.value().nodes.back().name, "client-2");
  EXPECT_EQ(c.value().nodes.back().role, NodeRole::client);
  for (const ClusterNode& n : c.value().nodes) {
    EXPECT_TRUE(contains(up.out, n.name + " ")) << up.out;
    if (n.role == NodeRole::client) continue;
    EXPECT_TRUE(cluster::node_alive(n.pid, n.name)) << n.name;
    EXPECT_TRUE(cluster::accepts_connections(n.port)) << n.name;
    EXPECT_TRUE(std::filesystem::is_directory(dir + "/" + n.name)) << n.name;
  }

  const Outcome alive = streamlab("cluster status " + dir);
  EXPECT_EQ(alive.exit_code, 0) << alive.out;
  EXPECT_FALSE(contains(alive.out, "dead")) << alive.out;
  // A second cluster cannot start over a running one.
  const Outcome again = streamlab("cluster up " + scenario(kPulsarScenario) + " --dir " + dir);
  EXPECT_EQ(again.exit_code, 2) << again.out;
  EXPECT_TRUE(contains(again.out, "holds a running cluster")) << again.out;

  const Outcome down = streamlab("cluster down " + dir);
  EXPECT_EQ(down.exit_code, 0) << down.out;
  for (const ClusterNode& n : c.value().nodes) {
    if (n.role == NodeRole::client) continue;
    EXPECT_FALSE(cluster::node_alive(n.pid, n.name)) << n.name;
    EXPECT_FALSE(cluster::accepts_connections(n.port)) << n.name;
    std::ifstream log(dir + "/" + n.name + ".log");
    const std::string text{std::istreambuf_iterator<char>(log), std::istreambuf_iterator<char>()};
    EXPECT_TRUE(contains(text, "stopping on SIGTERM")) << n.name << ": " << text;
  }
  const Outcome dead = streamlab("cluster status " + dir);
  EXPECT_EQ(dead.exit_code, 1) << dead.out;
  EXPECT_TRUE(contains(dead.out, "dead")) << dead.out;
  EXPECT_EQ(streamlab("cluster down " + dir).exit_code, 0);  // Idempotent.
}

TEST(ClusterCommand, BadInputExitsTwoWithAMessage) {
  TempDir tmp;
  const Outcome ledger = streamlab("cluster up " + scenario("ledger-basic.textproto") +
                                   " --dir " + tmp.path() + "/c");
  EXPECT_EQ(ledger.exit_code, 2);
  EXPECT_TRUE(contains(ledger.out, "not a pulsar scenario")) << ledger.out;
  EXPECT_FALSE(std::filesystem::exists(tmp.path() + "/c"));

  for (const char* sub : {"status", "down"}) {
    const Outcome missing = streamlab(std::string("cluster ") + sub + " " + tmp.path() + "/none");
    EXPECT_EQ(missing.exit_code, 2) << sub;
    EXPECT_TRUE(contains(missing.out, tmp.path() + "/none: no such directory")) << missing.out;
    // A directory without a cluster file.
    const Outcome empty = streamlab(std::string("cluster ") + sub + " " + tmp.path());
    EXPECT_EQ(empty.exit_code, 2) << sub;
    EXPECT_TRUE(contains(empty.out, "cluster.textproto")) << empty.out;
  }
  const Outcome clients = streamlab("cluster up " + scenario(kPulsarScenario) + " --clients x");
  EXPECT_EQ(clients.exit_code, 2);
  EXPECT_TRUE(contains(clients.out, "--clients")) << clients.out;
  EXPECT_EQ(streamlab("cluster").exit_code, 2);
  EXPECT_EQ(streamlab("cluster frob").exit_code, 2);
  for (const char* sub : {"up", "down", "status"}) {
    const Outcome help = streamlab(std::string("cluster ") + sub + " --help");
    EXPECT_EQ(help.exit_code, 0) << sub;
    EXPECT_TRUE(contains(help.out, std::string("usage: streamlab cluster ") + sub)) << help.out;
  }
}

TEST(NodeCommand, BadInputExitsTwoNamingTheProblem) {
  TempDir dir;
  const std::string file = cluster::cluster_file_path(dir.path());
  ASSERT_TRUE(cluster::write_cluster_file(file, sample_cluster(dir.path())).ok());
  struct Case {
    std::string args;
    std::string message;
  };
  const Case cases[] = {
      {"--role oracle --config " + file + " --id meta", "unknown role \"oracle\""},
      {"--role broker --config " + file + " --id nobody", "no node named \"nobody\""},
      {"--role bookie --config " + file + " --id meta", "has role metadata, not bookie"},
      {"--role broker --config " + dir.path() + "/none --id broker-a", "cannot read cluster file"},
      {"--role broker --config " + file, "missing --id"},
      {"--role broker --config " + file + " --id broker-a --frob", "unknown argument --frob"},
  };
  for (const Case& c : cases) {
    const Outcome o = node(c.args);
    EXPECT_EQ(o.exit_code, 2) << c.args << "\n" << o.out;
    EXPECT_TRUE(contains(o.out, c.message)) << c.args << "\n" << o.out;
  }
  const Outcome help = node("--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_TRUE(contains(help.out, "usage: streamlab-node")) << help.out;
}

}  // namespace
}  // namespace streamlab
