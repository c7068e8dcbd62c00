#pragma once

// Reads a scenario file (Protobuf text format, schema workloads/scenario.proto) into a
// ScenarioConfig. Every problem found is reported, each as "file:line: message"; the
// result is an error if there was any.

#include <string>
#include <string_view>

#include "base/result.h"
#include "workloads/scenario/scenario_config.h"

namespace streamlab::workloads {

// What the command line changes in a scenario, as if the file said it.
struct ScenarioOverrides {
  // Replaces the file's `duration` (text as the file would have it, e.g. "1h"): what ends
  // with the run (producers, consumers and swarms without their own stop) runs on to it;
  // times the file sets stay.
  std::string duration;

  // The flags a command must repeat to run the same scenario (" --duration 1h"), for the
  // reproduce commands; empty without overrides.
  std::string flags() const { return duration.empty() ? "" : " --duration " + duration; }
};

Result<ScenarioConfig> load_scenario(const std::string& path, const ScenarioOverrides& overrides = {});
// The file's text, for a caller that also keeps or edits it (the GUI, shrink's tests).
Result<std::string> read_scenario_text(const std::string& path);
Result<ScenarioConfig> parse_scenario(std::string_view text, const std::string& file_name,
                                      const ScenarioOverrides& overrides = {});

}  // namespace streamlab::workloads
