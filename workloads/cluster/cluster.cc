#include "workloads/cluster/cluster.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <set>

#include "workloads/cluster/cluster.pb.h"

namespace streamlab::cluster {

namespace {

// Keeps the parser's first error, with its line, for a message that names the file.
class FirstError final : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (message_.empty()) message_ = std::to_string(line + 1) + ": " + message;
  }
  const std::string& message() const { return message_; }

 private:
  std::string message_;
};

// splitmix64's finalizer: distinct, well-mixed streams for the nodes of one cluster.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// One node of the file, checked; `where` is "FILE: node N".
Result<ClusterNode> from_proto(const NodeEntry& in, const std::string& where) {
  ClusterNode node;
  node.name = in.name();
  if (node.name.empty() || node.name.find('/') != std::string::npos || node.name == "." ||
      node.name == "..") {
    return Error{where + ": name \"" + in.name() + "\" is not a usable node name"};
  }
  const std::optional<NodeRole> role = parse_role(in.role());
  if (!role) {
    return Error{where + " (" + node.name + "): unknown role \"" + in.role() +
                 "\"; expected metadata, bookie, broker or client"};
  }
  node.role = *role;
  if (in.port() == 0 || in.port() > std::numeric_limits<std::uint16_t>::max()) {
    return Error{where + " (" + node.name + "): port " + std::to_string(in.port()) +
                 " is not in [1, 65535]"};
  }
  node.port = static_cast<std::uint16_t>(in.port());
  if (in.pid() < 0 || (node.role == NodeRole::client && in.pid() != 0)) {
    return Error{where + " (" + node.name + "): pid " + std::to_string(in.pid()) +
                 (node.role == NodeRole::client ? " on a client slot (must be 0)" : " < 0")};
  }
  node.pid = in.pid();
  return node;
}

Result<Cluster> from_proto(const ClusterFile& in, const std::string& path) {
  Cluster cluster;
  cluster.scenario = in.scenario();
  cluster.dir = in.dir();
  cluster.seed = in.seed();
  if (cluster.scenario.empty()) return Error{path + ": missing 'scenario'"};
  if (cluster.dir.empty()) return Error{path + ": missing 'dir'"};
  if (in.node_size() == 0) return Error{path + ": no 'node'"};
  std::set<std::string> names;
  for (int i = 0; i < in.node_size(); ++i) {
    Result<ClusterNode> node = from_proto(in.node(i), path + ": node " + std::to_string(i));
    if (!node) return Error{node.error()};
    if (!names.insert(node.value().name).second) {
      return Error{path + ": node \"" + node.value().name + "\" is listed twice"};
    }
    cluster.nodes.push_back(std::move(node.value()));
  }
  return cluster;
}

}  // namespace

const char* to_string(NodeRole role) {
  switch (role) {
    case NodeRole::metadata: return "metadata";
    case NodeRole::bookie: return "bookie";
    case NodeRole::broker: return "broker";
    case NodeRole::client: return "client";
  }
  return "?";
}

std::optional<NodeRole> parse_role(std::string_view text) {
  for (const NodeRole role :
       {NodeRole::metadata, NodeRole::bookie, NodeRole::broker, NodeRole::client}) {
    if (text == to_string(role)) return role;
  }
  return std::nullopt;
}

NodeId Cluster::id_of(std::string_view name) const {
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].name == name) return static_cast<NodeId>(i);
  }
  return kNoNode;
}

std::string cluster_file_path(const std::string& dir) {
  return (std::filesystem::path(dir) / kClusterFileName).string();
}

Result<Cluster> read_cluster_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return Error{"cannot read cluster file " + path};
  const std::string text{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  if (file.bad()) return Error{"cannot read cluster file " + path};
  ClusterFile in;
  FirstError errors;
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, &in)) {
    return Error{path + ":" + (errors.message().empty() ? "1: not a cluster file"
                                                         : errors.message())};
  }
  return from_proto(in, path);
}

Result<std::monostate> write_cluster_file(const std::string& path, const Cluster& cluster) {
  ClusterFile out;
  out.set_scenario(cluster.scenario);
  out.set_dir(cluster.dir);
  out.set_seed(cluster.seed);
  for (const ClusterNode& node : cluster.nodes) {
    NodeEntry* n = out.add_node();
    n->set_name(node.name);
    n->set_role(to_string(node.role));
    n->set_port(node.port);
    n->set_pid(node.pid);
  }
  std::string text =
      "# Written by `streamlab cluster up`; NodeId = index of `node`. See "
      "workloads/cluster/cluster.proto.\n";
  std::string body;
  if (!google::protobuf::TextFormat::PrintToString(out, &body)) {
    return Error{"cannot format cluster file " + path};
  }
  text += body;
  const std::string temporary = path + ".tmp";
  {
    std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
    file << text;
    file.flush();
    if (!file) return Error{"cannot write cluster file " + temporary};
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) return Error{"cannot write cluster file " + path + ": " + ec.message()};
  return std::monostate{};
}

Result<AsioRuntimeConfig> runtime_config(const Cluster& cluster, std::string_view name) {
  const NodeId self = cluster.id_of(name);
  if (self == kNoNode) {
    return Error{"no node named \"" + std::string(name) + "\" in the cluster of " + cluster.dir};
  }
  AsioRuntimeConfig config;
  for (const ClusterNode& node : cluster.nodes) config.peers.push_back({node.name, node.port});
  config.self = self;
  config.data_dir = (std::filesystem::path(cluster.dir) / std::string(name)).string();
  config.seed = mix(cluster.seed ^ mix(self));
  return config;
}

}  // namespace streamlab::cluster
