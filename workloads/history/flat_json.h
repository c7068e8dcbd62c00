#pragma once

// One line of a JSON-lines history: a flat object whose values are strings or integers,
// as the history writers produce them (workloads/queue_history_io.h,
// workloads/history_io.h). Values come back as text: strings unescaped, integers as
// written. Errors say what was expected where.

#include <map>
#include <string>

#include "base/result.h"

namespace streamlab::workloads {

Result<std::map<std::string, std::string>> parse_flat_json(const std::string& line);

}  // namespace streamlab::workloads
