#include "workloads/shrink/shrink_property.h"

#include <algorithm>

#include "base/assert.h"
#include "workloads/checkers/anomaly_glossary.h"

namespace streamlab::workloads {

namespace {

bool found(const CheckResult& check, const std::string& anomaly) {
  const auto it = check.anomalies.find(anomaly);
  return it != check.anomalies.end() && it->second > 0;
}

// The runner's rule (scenario_runner.cc weigh_expectations), on the expectation itself.
bool fails(const Expectation& e, const CheckResult& check) {
  return found(check, e.anomaly) != e.present;
}

std::string known_list(const std::vector<std::string>& known) {
  std::string names;
  for (const std::string& k : known) names += (names.empty() ? "" : ", ") + k;
  return names;
}

Result<ShrinkProperty> keep_named(const ScenarioConfig& config, std::uint64_t seed,
                                  const CheckResult& check, const std::string& anomaly) {
  const std::vector<std::string> known = checker_anomalies(config.checker);
  if (std::find(known.begin(), known.end(), anomaly) == known.end()) {
    return Error{"--keep: unknown anomaly \"" + anomaly + "\"; " + config.file +
                 " is judged by the " + config.checker + " checker, which knows: " +
                 known_list(known)};
  }
  if (!found(check, anomaly)) {
    return Error{config.file + ": seed " + std::to_string(seed) + " finds no " + anomaly +
                 "; nothing to keep"};
  }
  return ShrinkProperty{{{anomaly, true}}, "finds " + anomaly + " (--keep)"};
}

}  // namespace

Result<ShrinkProperty> derive_property(const ScenarioConfig& config, std::uint64_t seed,
                                       const CheckResult& check,
                                       const std::string& keep_anomaly) {
  if (!keep_anomaly.empty()) return keep_named(config, seed, check, keep_anomaly);
  // A run that finds an anomaly it must not is what there is to shrink. One that misses
  // an anomaly it should find is not: removing every fault keeps "finds none".
  const Expectation* missed = nullptr;
  for (const Expectation& e : config.expectations) {
    if (!fails(e, check)) continue;
    if (e.present) {
      if (missed == nullptr) missed = &e;
      continue;
    }
    return ShrinkProperty{{{e.anomaly, true}}, "fails expect { anomaly: \"" + e.anomaly +
                                                   "\" present: false }: finds " + e.anomaly};
  }
  if (missed != nullptr) {
    return Error{config.file + ": seed " + std::to_string(seed) + " fails only by finding no " +
                 missed->anomaly + " (" + missed->origin + "); a run that misses an anomaly "
                 "shrinks to nothing. Shrink a seed that finds one, or name one it finds "
                 "with --keep ANOMALY"};
  }
  ShrinkProperty property;
  for (const Expectation& e : config.expectations) {
    if (!e.present) continue;
    SL_ASSERT_MSG(found(check, e.anomaly), "a met present expectation whose anomaly is absent");
    property.conditions.push_back({e.anomaly, true});
    property.description += (property.description.empty() ? "finds " : " and ") + e.anomaly;
  }
  if (property.conditions.empty()) {
    return Error{config.file + ": seed " + std::to_string(seed) +
                 " meets every expectation and the scenario expects no anomaly: nothing to "
                 "keep; name one with --keep ANOMALY"};
  }
  return property;
}

bool property_holds(const ShrinkProperty& property, const CheckResult& check) {
  SL_ASSERT(!property.conditions.empty());
  return std::all_of(property.conditions.begin(), property.conditions.end(),
                     [&](const AnomalyCondition& c) { return found(check, c.anomaly) == c.found; });
}

}  // namespace streamlab::workloads
