#pragma once

// The commands that reproduce a run and take a failing seed further: what every output
// (the summary, explore's list, the HTML report) prints under a run.

#include <cstdint>
#include <string>

namespace streamlab::workloads {

// A trace hash as the outputs print it: 16 hex digits.
std::string hex64(std::uint64_t v);
// `flags`: what the command line changed in the scenario (ScenarioConfig::run_flags).
std::string reproduce_command(const std::string& path, std::uint64_t seed,
                              const std::string& flags = "");
// What to run next on a failing seed: its event log, a smaller scenario that fails the
// same way, and an HTML report with a Perfetto timeline.
struct FollowUpCommands {
  std::string replay;
  std::string shrink;
  std::string report;
};
FollowUpCommands follow_up_commands(const std::string& path, std::uint64_t seed,
                                    const std::string& flags = "");

}  // namespace streamlab::workloads
