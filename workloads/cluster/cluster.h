#pragma once

// A local real-mode cluster (DESIGN.md section 7) as every one of its processes sees it:
// the cluster file `streamlab cluster up` writes (schema workloads/cluster/cluster.proto)
// and the peer table built from it. Every process, node or client, reads the same file
// and so builds the same table: NodeId = index in Cluster::nodes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/result.h"
#include "runtime/asio_runtime.h"

namespace streamlab::cluster {

// The file's name inside the cluster directory.
inline constexpr char kClusterFileName[] = "cluster.textproto";

enum class NodeRole : std::uint8_t { metadata, bookie, broker, client };

const char* to_string(NodeRole role);
std::optional<NodeRole> parse_role(std::string_view text);

struct ClusterNode {
  std::string name;
  NodeRole role = NodeRole::client;
  std::uint16_t port = 0;  // On 127.0.0.1.
  std::int32_t pid = 0;    // Of its streamlab-node process; 0 for client slots.
};

struct Cluster {
  std::string scenario;  // Absolute path.
  std::string dir;       // Absolute path.
  std::uint64_t seed = 0;
  std::vector<ClusterNode> nodes;  // NodeId = index.

  // kNoNode when no node has that name.
  NodeId id_of(std::string_view name) const;
};

// "DIR/cluster.textproto".
std::string cluster_file_path(const std::string& dir);

// Reads and checks a cluster file: names unique and non-empty, roles known, ports set,
// client slots without a pid. Errors name the file.
Result<Cluster> read_cluster_file(const std::string& path);
// Writes the file whole (to a temporary file renamed over it, so that a reader never
// sees half of it).
Result<std::monostate> write_cluster_file(const std::string& path, const Cluster& cluster);

// The runtime configuration of node `name` in any process of the cluster: the peer table
// of every node and client slot, its files in <dir>/<name>, a random stream derived from
// the cluster's seed and its id. An error names the unknown node.
Result<AsioRuntimeConfig> runtime_config(const Cluster& cluster, std::string_view name);

}  // namespace streamlab::cluster
