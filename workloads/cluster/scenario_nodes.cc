#include "workloads/cluster/scenario_nodes.h"

#include <algorithm>
#include <optional>
#include <string>

#include "broker/pulsar/broker.h"
#include "broker/storage/bookie.h"
#include "broker/storage/metadata_store.h"

namespace streamlab::cluster {

namespace {

bool contains(const std::vector<std::uint32_t>& ids, std::uint32_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

// The server role of topology node `id`, or nullopt if it runs no server (a client).
std::optional<NodeRole> server_role(const workloads::ScenarioConfig& scenario, std::uint32_t id) {
  if (id == scenario.bookkeeper.metadata) return NodeRole::metadata;
  if (contains(scenario.bookkeeper.bookies, id)) return NodeRole::bookie;
  if (contains(scenario.pulsar.brokers, id)) return NodeRole::broker;
  return std::nullopt;
}

Result<std::monostate> require_pulsar(const workloads::ScenarioConfig& scenario) {
  if (scenario.system == workloads::SystemKind::pulsar) return std::monostate{};
  return Error{scenario.file + ": not a pulsar scenario (a cluster runs `system { pulsar "
               "{ ... } }`: a metadata store, bookies and brokers)"};
}

}  // namespace

Result<std::vector<ClusterNode>> cluster_nodes(const workloads::ScenarioConfig& scenario,
                                               std::uint32_t clients) {
  if (Result<std::monostate> ok = require_pulsar(scenario); !ok) return Error{ok.error()};
  std::vector<ClusterNode> nodes;
  const std::vector<sim::NodeSpec>& topology = scenario.topology.nodes;
  for (std::uint32_t id = 0; id < topology.size(); ++id) {
    if (const std::optional<NodeRole> role = server_role(scenario, id)) {
      nodes.push_back(ClusterNode{topology[id].name, *role, 0, 0});
    }
  }
  for (std::uint32_t c = 1; c <= clients; ++c) {
    const std::string name = "client-" + std::to_string(c);
    for (const ClusterNode& node : nodes) {
      if (node.name == name) {
        return Error{scenario.file + ": the client slot " + name + " has the name of the " +
                     to_string(node.role) + " " + name};
      }
    }
    nodes.push_back(ClusterNode{name, NodeRole::client, 0, 0});
  }
  return nodes;
}

Result<NodeFactory> node_factory(const workloads::ScenarioConfig& scenario, NodeRole role,
                                 std::string_view name) {
  if (Result<std::monostate> ok = require_pulsar(scenario); !ok) return Error{ok.error()};
  const std::vector<sim::NodeSpec>& topology = scenario.topology.nodes;
  std::optional<NodeRole> actual;
  for (std::uint32_t id = 0; id < topology.size() && !actual; ++id) {
    if (topology[id].name == name) actual = server_role(scenario, id);
  }
  if (actual != role || role == NodeRole::client) {
    return Error{scenario.file + ": the scenario does not run \"" + std::string(name) +
                 "\" as a " + to_string(role)};
  }
  switch (role) {
    case NodeRole::metadata: {
      const storage::MetadataStoreConfig config = scenario.bookkeeper.store;
      return NodeFactory([config](Runtime& rt) -> std::unique_ptr<Node> {
        return std::make_unique<storage::MetadataStore>(rt, config);
      });
    }
    case NodeRole::bookie: {
      const storage::BookieConfig config = scenario.bookkeeper.bookie;
      return NodeFactory([config](Runtime& rt) -> std::unique_ptr<Node> {
        return std::make_unique<storage::Bookie>(rt, config);
      });
    }
    case NodeRole::broker: {
      const pulsar::BrokerConfig config = scenario.pulsar.broker;
      return NodeFactory([config](Runtime& rt) -> std::unique_ptr<Node> {
        return std::make_unique<pulsar::Broker>(rt, config);
      });
    }
    case NodeRole::client: break;
  }
  return Error{"unreachable"};
}

}  // namespace streamlab::cluster
