#include "workloads/run/scenario_runner.h"

#include <algorithm>

#include "base/assert.h"
#include "sim/swarm.h"
#include "workloads/run/scenario_session.h"

namespace streamlab::workloads {

namespace {

constexpr std::uint64_t kSwarmStream = 7;

}  // namespace

const char* runaway_name(Runaway runaway) {
  switch (runaway) {
    case Runaway::none:
      return "none";
    case Runaway::events:
      return "events";
    case Runaway::memory:
      return "memory";
  }
  SL_ASSERT_MSG(false, "unknown runaway kind");
  return "";
}

std::vector<std::string> failed_expectations(const ScenarioConfig& config,
                                             const CheckResult& check) {
  std::vector<std::string> failed;
  for (const Expectation& e : config.expectations) {
    const auto it = check.anomalies.find(e.anomaly);
    const std::uint64_t count = it == check.anomalies.end() ? 0 : it->second;
    if (e.present && count == 0) {
      failed.push_back("expected " + e.anomaly + " but found none (" + e.origin + ")");
    } else if (!e.present && count > 0) {
      failed.push_back("expected no " + e.anomaly + " but found " + std::to_string(count) +
                       " (" + e.origin + ")");
    }
  }
  return failed;
}

std::vector<sim::Fault> scheduled_faults(const ScenarioConfig& config, std::uint64_t seed) {
  std::vector<sim::Fault> faults = config.faults;
  if (!config.has_swarm) return faults;
  // The world's kernel seeds its generator with `seed`, and fork depends on the seed
  // alone, so this is the stream the run's own generator would fork.
  std::vector<sim::Fault> drawn =
      sim::draw_swarm(config.swarm, config.topology, sim::Rng(seed).fork(kSwarmStream));
  faults.insert(faults.end(), drawn.begin(), drawn.end());
  std::stable_sort(faults.begin(), faults.end(), [](const sim::Fault& a, const sim::Fault& b) {
    return a.at_ns < b.at_ns;
  });
  return faults;
}

RunResult run_scenario(const ScenarioConfig& config, const RunOptions& options) {
  ScenarioSession session(config, options);
  return session.finish();
}

}  // namespace streamlab::workloads
