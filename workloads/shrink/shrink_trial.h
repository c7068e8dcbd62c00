#pragma once

// Runs the candidates of `streamlab shrink`: each one printed as scenario text, loaded as
// a user's file would be, and run in full with the seed; it is kept when it loads and its
// run keeps the property. Runs go in parallel, each in its own world and process, under a
// cap on the total number of runs.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "workloads/scenario/scenario.pb.h"
#include "workloads/run/scenario_runner.h"
#include "workloads/shrink/shrink_property.h"

namespace streamlab::workloads {

// The text a candidate is loaded from, and the body of the file shrink writes.
std::string print_scenario(const scenario::Scenario& scenario);

class ShrinkTrial {
 public:
  ShrinkTrial(std::string file_name, std::uint64_t seed, ShrinkProperty property,
              unsigned jobs, std::size_t max_runs, RunBudget budget);

  // The first candidate, in order, that keeps the property. Runs `jobs` at a time and
  // stops after the first batch that has one, so the answer does not depend on `jobs`.
  std::optional<std::size_t> first_keeping(const std::vector<scenario::Scenario>& candidates);
  // How many candidates, from the first, keep the property before one does not.
  std::size_t keeping_prefix(const std::vector<scenario::Scenario>& candidates);
  // One run of `candidate` (not counted against the cap), in a process of its own
  // (workloads/run_contained.h): the loader's error if it does not load, the crash in words
  // if the run dies. A candidate that crashes or runs away does not keep the property.
  Result<RunResult> run(const scenario::Scenario& candidate) const;

  // Called after every batch of runs, on the calling thread (for progress reports).
  void set_after_batch(std::function<void()> after_batch) { after_batch_ = std::move(after_batch); }

  const ShrinkProperty& property() const { return property_; }
  std::size_t runs() const { return runs_; }
  // True once a step wanted more runs than the cap left; every later step then stops.
  bool cap_reached() const { return cap_reached_; }

 private:
  // Runs candidates[begin, end) up to the cap; one verdict per candidate run.
  std::vector<bool> run_batch(const std::vector<scenario::Scenario>& candidates,
                              std::size_t begin, std::size_t end);

  std::string file_name_;
  std::uint64_t seed_;
  ShrinkProperty property_;
  unsigned jobs_;
  std::size_t max_runs_;
  RunBudget budget_;
  std::size_t runs_ = 0;
  bool cap_reached_ = false;
  std::function<void()> after_batch_;
};

}  // namespace streamlab::workloads
