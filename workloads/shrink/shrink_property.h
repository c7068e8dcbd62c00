#pragma once

// What `streamlab shrink` preserves while it cuts a run down: "fails the same way".
// Taken from the original run: the first expectation it fails (same anomaly, same
// direction); else the anomalies the scenario expects and the run finds; or one anomaly
// the user names. Counts do not matter, only whether each anomaly is found.

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "workloads/checkers/check_result.h"
#include "workloads/scenario/scenario_config.h"

namespace streamlab::workloads {

struct AnomalyCondition {
  std::string anomaly;
  bool found = false;  // true: the run must find it; false: it must find none.
};

struct ShrinkProperty {
  std::vector<AnomalyCondition> conditions;  // All must hold; never empty.
  std::string description;                   // In words, for the output file and the user.
};

// The property the run of `config` with `seed`, which gave `check`, has. `keep_anomaly`
// (empty: none) overrides the expectations. An error when there is nothing to keep (the
// run passes and expects no anomaly) or the named anomaly is unknown or not found.
Result<ShrinkProperty> derive_property(const ScenarioConfig& config, std::uint64_t seed,
                                       const CheckResult& check,
                                       const std::string& keep_anomaly);

bool property_holds(const ShrinkProperty& property, const CheckResult& check);

}  // namespace streamlab::workloads
