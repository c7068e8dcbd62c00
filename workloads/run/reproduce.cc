#include "workloads/run/reproduce.h"

#include <cinttypes>
#include <cstdio>

namespace streamlab::workloads {

std::string hex64(std::uint64_t v) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "%016" PRIx64, v);
  return buffer;
}

std::string reproduce_command(const std::string& path, std::uint64_t seed,
                              const std::string& flags) {
  return "streamlab run " + path + " --seed " + std::to_string(seed) + flags;
}

FollowUpCommands follow_up_commands(const std::string& path, std::uint64_t seed,
                                    const std::string& flags) {
  const std::string stem = "seed" + std::to_string(seed);
  const std::string rest = path + " --seed " + std::to_string(seed) + flags;
  return {"streamlab replay " + rest + " --events " + stem + ".events.jsonl",
          "streamlab shrink " + rest + " --out " + stem + ".min.textproto",
          "streamlab run " + rest + " --report " + stem + ".html --trace " + stem +
              ".trace.json"};
}

}  // namespace streamlab::workloads
