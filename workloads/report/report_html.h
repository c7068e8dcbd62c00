#pragma once

// The HTML report of one run (`streamlab run FILE --report OUT.html`): one self-contained
// file (inline CSS and SVG, no script, no fetch, no URL) that opens from disk in any
// browser: the summary and verdict, the expectations, every anomaly with what its name
// means and its first example, the key metrics, charts over simulated time with the
// faults marked (report_charts.h), the fault schedule as it ran, and the command that
// reproduces the run. Every string from the scenario or the run is escaped.

#include <string>

#include "workloads/scenario/scenario_config.h"
#include "workloads/run/scenario_runner.h"

namespace streamlab::cli {

// `path`: the scenario file as the user named it, for the reproduce command.
std::string report_html(const workloads::ScenarioConfig& config,
                        const workloads::RunResult& result, const std::string& path);

// Writes report_html to out_path (whole or not at all, see write_file_atomically) and
// says where on stdout.
bool write_report(const workloads::ScenarioConfig& config, const workloads::RunResult& result,
                  const std::string& path, const std::string& out_path, std::string* error);

}  // namespace streamlab::cli
