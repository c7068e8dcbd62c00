#include "workloads/systems/node_files.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "base/assert.h"

namespace streamlab::workloads {

Result<std::span<const std::uint8_t>> WorldFiles::file(std::uint32_t node,
                                                       const std::string& name) {
  SL_ASSERT_LT(node, world_.node_count());
  // A keep_recent_only file (capacity runs) has forgotten its head: no checker can judge it.
  SL_ASSERT_MSG(world_.disk(node).kept_from(name) == 0,
                "the files of a keep_recent_only run cannot be judged");
  return world_.disk(node).view(name);
}

Result<std::span<const std::uint8_t>> SavedFiles::file(std::uint32_t node,
                                                       const std::string& name) {
  SL_ASSERT_LT(node, config_.topology.nodes.size());
  const auto key = std::make_pair(node, name);
  if (const auto it = read_.find(key); it != read_.end()) {
    return std::span<const std::uint8_t>(it->second);
  }
  const std::string& node_name = config_.topology.nodes[node].name;
  const std::string path = (std::filesystem::path(dir_) / node_name / name).string();
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read " + path + " (" + node_name + "'s file)"};
  std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in),
                                  std::istreambuf_iterator<char>()};
  if (in.bad()) return Error{"cannot read " + path};
  return std::span<const std::uint8_t>(read_.emplace(key, std::move(bytes)).first->second);
}

Result<std::vector<std::string>> WorldFiles::names(std::uint32_t node) {
  SL_ASSERT_LT(node, world_.node_count());
  return world_.disk(node).file_names();
}

Result<std::vector<std::string>> SavedFiles::names(std::uint32_t node) {
  SL_ASSERT_LT(node, config_.topology.nodes.size());
  const std::string& node_name = config_.topology.nodes[node].name;
  const std::filesystem::path dir = std::filesystem::path(dir_) / node_name;
  std::error_code ec;
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.is_regular_file(ec)) out.push_back(entry.path().filename().string());
  }
  if (ec) return Error{"cannot list " + dir.string() + " (" + node_name + "'s files): " + ec.message()};
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace streamlab::workloads
