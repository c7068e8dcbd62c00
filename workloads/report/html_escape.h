#pragma once

// Text into HTML and SVG: every string the report writes that it did not write itself
// (scenario names, descriptions, fault texts, anomaly examples) goes through this, so a
// description holding "<script>" shows as text instead of running.

#include <string>
#include <string_view>

namespace streamlab::workloads {

// & < > " ' as character references: safe in element content and in quoted attributes.
std::string html_escape(std::string_view text);

}  // namespace streamlab::workloads
