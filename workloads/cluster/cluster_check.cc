#include "workloads/cluster/cluster_check.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "broker/storage/bookie.h"
#include "broker/storage/metadata_state.h"
#include "workloads/cluster/cluster.h"
#include "workloads/checkers/queue_checker.h"
#include "workloads/history/queue_history_io.h"
#include "workloads/scenario/scenario_loader.h"

namespace streamlab::cluster {

namespace {

using workloads::QueueOp;

Result<std::vector<std::uint8_t>> read_node_file(const Cluster& c, const ClusterNode& node,
                                                 const char* file) {
  const std::string path = (std::filesystem::path(c.dir) / node.name / file).string();
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read " + path + " (the " + to_string(node.role) + " " + node.name +
                        "'s file; did the cluster run?)"};
  std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in),
                                  std::istreambuf_iterator<char>()};
  if (in.bad()) return Error{"cannot read " + path};
  return bytes;
}

// Every history's ops, stable-sorted by time (one process's ops keep their order when
// times tie), with times counted from the first op: the checker's per-second series
// start at 0.
Result<std::vector<QueueOp>> merged_history(const std::vector<std::string>& paths,
                                            std::int64_t* first_ns) {
  std::vector<QueueOp> ops;
  for (const std::string& path : paths) {
    Result<std::vector<QueueOp>> one = workloads::read_queue_history(path);
    if (!one) return Error{one.error()};
    ops.insert(ops.end(), std::make_move_iterator(one.value().begin()),
               std::make_move_iterator(one.value().end()));
  }
  std::stable_sort(ops.begin(), ops.end(),
                   [](const QueueOp& a, const QueueOp& b) { return a.time_ns < b.time_ns; });
  *first_ns = ops.empty() ? 0 : ops.front().time_ns;
  for (QueueOp& op : ops) op.time_ns -= *first_ns;
  return ops;
}

}  // namespace

Result<ClusterCheck> check_cluster_run(const std::string& dir,
                                       const std::vector<std::string>& history_paths) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return Error{dir + ": no such directory"};
  const Result<Cluster> cluster = read_cluster_file(cluster_file_path(dir));
  if (!cluster) return Error{cluster.error()};
  const Cluster& c = cluster.value();
  const Result<workloads::ScenarioConfig> scenario = workloads::load_scenario(c.scenario);
  if (!scenario) return Error{scenario.error()};
  ClusterCheck check;
  Result<std::vector<QueueOp>> history = merged_history(history_paths, &check.first_op_ns);
  if (!history) return Error{history.error()};

  // The views below point into these, which live until the checker is done.
  std::vector<std::uint8_t> metadata_log;
  std::map<std::string, std::map<std::string, std::vector<std::uint8_t>>> bookie_files;
  for (const ClusterNode& node : c.nodes) {
    if (node.role == NodeRole::metadata) {
      Result<std::vector<std::uint8_t>> log = read_node_file(c, node, storage::kMetadataLogFile);
      if (!log) return Error{log.error()};
      metadata_log = std::move(log.value());
    } else if (node.role == NodeRole::bookie) {
      std::error_code ec;
      const std::filesystem::path dir = std::filesystem::path(c.dir) / node.name;
      for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        Result<std::vector<std::uint8_t>> bytes = read_node_file(c, node, name.c_str());
        if (!bytes) return Error{bytes.error()};
        bookie_files[node.name][name] = std::move(bytes.value());
      }
      if (ec) return Error{"cannot list " + dir.string() + " (the bookie " + node.name + "'s files)"};
    }
  }

  workloads::QueueCheckInput input;
  input.history = &history.value();
  input.metadata_log = metadata_log;
  for (const auto& [bookie, files] : bookie_files) {
    for (const auto& [name, bytes] : files) input.bookie_files[bookie][name] = bytes;
  }
  input.process_name = [&c](std::uint32_t id) {
    return id < c.nodes.size() ? c.nodes[id].name : "process " + std::to_string(id);
  };
  const std::vector<QueueOp>& ops = history.value();
  input.duration_ns = ops.empty() ? 0 : ops.back().time_ns;
  input.topics = scenario.value().pulsar.topics;
  input.subscriptions = scenario.value().pulsar.subscriptions;
  check.result = workloads::check_queue(input);
  check.ops = ops.size();
  check.last_op_ns = check.first_op_ns + input.duration_ns;
  return check;
}

}  // namespace streamlab::cluster
