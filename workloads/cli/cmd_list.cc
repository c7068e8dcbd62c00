#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "workloads/cli/cli.h"
#include "workloads/scenario/scenario_loader.h"

namespace streamlab::cli {

namespace {

constexpr const char* kListUsage = R"(usage: streamlab list

Lists the scenarios shipped in workloads/scenarios/ (or $STREAMLAB_SCENARIO_DIR) and its
folders (long/: runs of an hour or more) with their names and descriptions. A scenario
that does not load is listed with its error.
)";

}  // namespace

int cmd_list(int argc, char** argv) {
  std::string error;
  const auto args = parse_args(argc, argv, {}, {}, &error);
  if (!args) return usage_error("list", error, kListUsage);
  if (args->help) {
    std::fputs(kListUsage, stdout);
    return kExitOk;
  }
  if (!args->positional.empty()) return usage_error("list", "takes no arguments", kListUsage);
  const std::filesystem::path dir = scenario_dir();
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".textproto") files.push_back(entry.path());
  }
  if (ec) {
    std::fprintf(stderr, "streamlab list: cannot read %s: %s\n", dir.c_str(),
                 ec.message().c_str());
    return kExitBadInput;
  }
  std::sort(files.begin(), files.end());
  std::printf("scenarios in %s:\n", dir.c_str());
  int broken = 0;
  for (const auto& file : files) {
    const auto config = workloads::load_scenario(file.string());
    if (!config) {
      ++broken;
      std::printf("  %-44s  DOES NOT LOAD: %s\n", file.lexically_relative(dir).c_str(),
                  config.error().c_str());
      continue;
    }
    std::printf("  %-44s  %s\n", file.lexically_relative(dir).c_str(),
                config.value().description.c_str());
  }
  return broken == 0 ? kExitOk : kExitBadInput;
}

}  // namespace streamlab::cli
