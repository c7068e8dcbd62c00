#pragma once

// The HTML report's charts of one run: which of the checker's series (CheckResult::series)
// go on which chart, over the run's simulated time, with the run's faults marked on each
// chart's time axis (workloads/fault_windows.h).

#include <string>
#include <vector>

#include "workloads/scenario/scenario_config.h"
#include "workloads/run/scenario_runner.h"

namespace streamlab::cli {

struct ReportChart {
  std::string id;     // For the page's anchors: "chart-throughput".
  std::string title;
  std::string note;   // What the chart shows, in words, for under it.
  std::string svg;
};

// A chart for each that the checker has any series of, in reading order.
std::vector<ReportChart> report_charts(const workloads::ScenarioConfig& config,
                                       const workloads::RunResult& result);

}  // namespace streamlab::cli
