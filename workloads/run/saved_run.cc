#include "workloads/run/saved_run.h"

#include <filesystem>
#include <fstream>
#include <map>

#include "workloads/systems/system_adapter.h"

namespace streamlab::workloads {

namespace fs = std::filesystem;

Result<std::monostate> save_node_files(sim::World& world, const ScenarioConfig& config,
                                       const std::string& dir) {
  for (std::uint32_t n = 0; n < world.node_count(); ++n) {
    const sim::SimDisk& disk = world.disk(n);
    for (const std::string& file : disk.file_names()) {
      const fs::path node_dir = fs::path(dir) / config.topology.nodes[n].name;
      std::error_code ec;
      fs::create_directories(node_dir, ec);
      if (ec) return Error{"cannot create " + node_dir.string() + ": " + ec.message()};
      std::ofstream out(node_dir / file, std::ios::binary | std::ios::trunc);
      const std::span<const std::uint8_t> bytes = disk.view(file);
      out.write(reinterpret_cast<const char*>(bytes.data()),
                static_cast<std::streamsize>(bytes.size()));
      if (!out) return Error{"cannot write " + (node_dir / file).string()};
    }
  }
  return std::monostate{};
}

Result<CheckResult> check_saved_run(const ScenarioConfig& config,
                                    const std::vector<std::string>& histories,
                                    const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Error{dir + ": no such directory"};
  SavedFiles files(config, dir);
  // As the run judged it (ScenarioSession::finish): at the end, over the whole duration.
  const JudgeRequest request{&config, &files, config.duration_ns, true};
  return system_adapter(config.system).check_saved(request, histories);
}

}  // namespace streamlab::workloads
