#include "workloads/shrink/shrink_trial.h"

#include <google/protobuf/text_format.h>

#include <algorithm>

#include "base/assert.h"
#include "workloads/run/run_contained.h"
#include "workloads/scenario/scenario_loader.h"

namespace streamlab::workloads {

std::string print_scenario(const scenario::Scenario& scenario) {
  google::protobuf::TextFormat::Printer printer;
  std::string text;
  const bool printed = printer.PrintToString(scenario, &text);
  SL_ASSERT(printed);
  return text;
}

ShrinkTrial::ShrinkTrial(std::string file_name, std::uint64_t seed, ShrinkProperty property,
                         unsigned jobs, std::size_t max_runs, RunBudget budget)
    : file_name_(std::move(file_name)),
      seed_(seed),
      property_(std::move(property)),
      jobs_(jobs),
      max_runs_(max_runs),
      budget_(budget) {
  SL_ASSERT_GT(seed, 0);
  SL_ASSERT_GT(jobs, 0);
  SL_ASSERT(!property_.conditions.empty());
}

Result<RunResult> ShrinkTrial::run(const scenario::Scenario& candidate) const {
  const auto config = parse_scenario(print_scenario(candidate), file_name_);
  if (!config) return Error{config.error()};
  RunOptions options;
  options.seed = seed_;
  options.budget = budget_;
  ContainedRun run = run_contained(config.value(), options);
  if (run.crashed) return Error{"the run crashed: " + run.crash};
  return std::move(run.result);
}

std::vector<bool> ShrinkTrial::run_batch(const std::vector<scenario::Scenario>& candidates,
                                         std::size_t begin, std::size_t end) {
  SL_ASSERT_LE(begin, end);
  SL_ASSERT_LE(end, candidates.size());
  const std::size_t left = max_runs_ - runs_;
  if (end - begin > left) {
    cap_reached_ = true;
    end = begin + left;
  }
  // Some edits break a rule of the loader (a client that starts after the new end, a
  // liveness stop past it); such a candidate does not keep the property, and is not run.
  std::vector<ScenarioConfig> configs;
  std::vector<std::size_t> loaded;  // Candidate index of each config.
  for (std::size_t i = begin; i < end; ++i) {
    auto config = parse_scenario(print_scenario(candidates[i]), file_name_);
    if (!config) continue;
    configs.push_back(std::move(config.value()));
    loaded.push_back(i);
  }
  std::vector<bool> verdicts(end - begin, false);
  RunOptions options;
  options.seed = seed_;
  options.budget = budget_;
  run_contained_batch(
      configs.size(), jobs_, [&](std::size_t k) { return ContainedJob{&configs[k], options}; },
      [&](std::size_t k, ContainedRun run) {
        verdicts[loaded[k] - begin] = !run.crashed && run.result.runaway == Runaway::none &&
                                      property_holds(property_, run.result.check);
      });
  runs_ += end - begin;
  if (after_batch_) after_batch_();
  return verdicts;
}

std::optional<std::size_t> ShrinkTrial::first_keeping(
    const std::vector<scenario::Scenario>& candidates) {
  for (std::size_t begin = 0; begin < candidates.size() && !cap_reached_; begin += jobs_) {
    const std::size_t end = std::min(candidates.size(), begin + jobs_);
    const std::vector<bool> verdicts = run_batch(candidates, begin, end);
    for (std::size_t i = 0; i < verdicts.size(); ++i) {
      if (verdicts[i]) return begin + i;
    }
  }
  return std::nullopt;
}

std::size_t ShrinkTrial::keeping_prefix(const std::vector<scenario::Scenario>& candidates) {
  std::size_t kept = 0;
  for (std::size_t begin = 0; begin < candidates.size() && !cap_reached_; begin += jobs_) {
    const std::size_t end = std::min(candidates.size(), begin + jobs_);
    for (const bool keeps : run_batch(candidates, begin, end)) {
      if (!keeps) return kept;
      ++kept;
    }
  }
  return kept;
}

}  // namespace streamlab::workloads
