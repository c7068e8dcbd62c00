#pragma once

// The nodes' files a checker reads: from a simulated world's disks as they are now, or
// from a saved run's directory (DIR/NODE/FILE, as `streamlab run --save-logs` writes and
// a real cluster keeps them).

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "sim/world.h"
#include "workloads/scenario/scenario_config.h"

namespace streamlab::workloads {

class NodeFiles {
 public:
  virtual ~NodeFiles() = default;
  // The bytes stay valid while this object lives and the world does not run on.
  virtual Result<std::span<const std::uint8_t>> file(std::uint32_t node,
                                                     const std::string& name) = 0;
  // The names of the node's files, sorted.
  virtual Result<std::vector<std::string>> names(std::uint32_t node) = 0;
};

class WorldFiles final : public NodeFiles {
 public:
  explicit WorldFiles(sim::World& world) : world_(world) {}
  Result<std::span<const std::uint8_t>> file(std::uint32_t node, const std::string& name) override;
  Result<std::vector<std::string>> names(std::uint32_t node) override;

 private:
  sim::World& world_;
};

class SavedFiles final : public NodeFiles {
 public:
  SavedFiles(const ScenarioConfig& config, std::string dir) : config_(config), dir_(std::move(dir)) {}
  Result<std::span<const std::uint8_t>> file(std::uint32_t node, const std::string& name) override;
  Result<std::vector<std::string>> names(std::uint32_t node) override;

 private:
  const ScenarioConfig& config_;
  std::string dir_;
  std::map<std::pair<std::uint32_t, std::string>, std::vector<std::uint8_t>> read_;
};

}  // namespace streamlab::workloads
