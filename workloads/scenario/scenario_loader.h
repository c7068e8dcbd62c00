#pragma once

// Reads a scenario file (Protobuf text format, schema workloads/scenario.proto) into a
// ScenarioConfig. Every problem found is reported, each as "file:line: message"; the
// result is an error if there was any.

#include <string>
#include <string_view>

#include "base/result.h"
#include "workloads/scenario/scenario_config.h"

namespace streamlab::workloads {

Result<ScenarioConfig> load_scenario(const std::string& path);
// The file's text, for a caller that also keeps or edits it (the GUI, shrink's tests).
Result<std::string> read_scenario_text(const std::string& path);
Result<ScenarioConfig> parse_scenario(std::string_view text, const std::string& file_name);

}  // namespace streamlab::workloads
