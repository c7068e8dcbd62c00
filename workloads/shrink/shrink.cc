#include "workloads/shrink/shrink.h"

#include <google/protobuf/text_format.h>

#include <algorithm>
#include <chrono>
#include <numeric>
#include <optional>
#include <vector>

#include "base/assert.h"
#include "workloads/scenario/scenario_loader.h"
#include "workloads/run/scenario_runner.h"
#include "workloads/shrink/shrink_edits.h"
#include "workloads/shrink/shrink_property.h"
#include "workloads/run/run_contained.h"
#include "workloads/shrink/shrink_trial.h"
#include "workloads/scenario/units.h"

namespace streamlab::workloads {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::int64_t kMillisecond = 1'000'000;
// Durations tried per round of the search for the earliest failing end. Fixed rather
// than --jobs, so that the result does not depend on how many cores ran it.
constexpr std::int64_t kDurationProbes = 3;

std::int64_t duration_of(const scenario::Scenario& s) {
  const auto d = parse_duration_ns(s.duration());
  SL_ASSERT_MSG(d.ok(), "a candidate's duration does not parse");
  return d.value();
}

ShrinkSize size_of(const scenario::Scenario& s) {
  return ShrinkSize{static_cast<std::size_t>(s.fault_size()), duration_of(s),
                    workload_entries(s).size()};
}

// Splits `items` into n nearly equal consecutive parts (ddmin's Delta_1..Delta_n).
std::vector<std::vector<int>> split(const std::vector<int>& items, std::size_t n) {
  SL_ASSERT(n >= 1 && n <= items.size());
  std::vector<std::vector<int>> parts;
  for (std::size_t i = 0; i < n; ++i) {
    parts.emplace_back(items.begin() + static_cast<std::ptrdiff_t>(i * items.size() / n),
                       items.begin() + static_cast<std::ptrdiff_t>((i + 1) * items.size() / n));
  }
  return parts;
}

std::vector<int> complement(const std::vector<int>& items, const std::vector<int>& part) {
  std::vector<int> rest;
  std::set_difference(items.begin(), items.end(), part.begin(), part.end(),
                      std::back_inserter(rest));
  return rest;
}

// Holds the smallest scenario found so far that keeps the property; each step offers it
// smaller candidates and takes the first that keeps.
class Shrinker {
 public:
  Shrinker(ShrinkTrial& trial, scenario::Scenario start, const ShrinkProgressFn& progress,
           Clock::time_point started)
      : trial_(trial), best_(std::move(start)), progress_(progress), started_(started) {
    // Long stretches of candidates that do not keep still show that work goes on.
    trial_.set_after_batch([this] { report(step_); });
  }
  ~Shrinker() { trial_.set_after_batch({}); }

  void faults();
  void duration();
  void workload();
  void knobs();
  const scenario::Scenario& best() const { return best_; }

 private:
  void ddmin_faults();
  void report(const char* step) const;
  void begin(const char* step) {
    step_ = step;
    report(step);
  }
  void accept(scenario::Scenario candidate) {
    best_ = std::move(candidate);
    report(step_);
  }

  ShrinkTrial& trial_;
  scenario::Scenario best_;
  const ShrinkProgressFn& progress_;
  Clock::time_point started_;
  const char* step_ = "swarm";
};

void Shrinker::report(const char* step) const {
  if (!progress_) return;
  progress_(ShrinkProgress{step, trial_.runs(), size_of(best_),
                           std::chrono::duration<double>(Clock::now() - started_).count()});
}

void Shrinker::faults() {
  begin("faults");
  ddmin_faults();
  // A liveness swarm left after its draw was written out only heals and judges recovery;
  // without it the run may also end before its stop + recovery bound.
  if (best_.has_swarm() && !trial_.cap_reached()) {
    scenario::Scenario without_heal = best_;
    without_heal.clear_swarm();
    if (trial_.first_keeping({without_heal})) accept(std::move(without_heal));
  }
}

// Zeller's ddmin: try each of n parts alone, then each complement; on success continue
// from it (n back to 2 after a part, n - 1 after a complement), else split finer.
void Shrinker::ddmin_faults() {
  const scenario::Scenario base = best_;
  std::vector<int> current(static_cast<std::size_t>(base.fault_size()));
  std::iota(current.begin(), current.end(), 0);
  if (current.empty()) return;
  // A run that fails without any fault at all is the smallest answer; ddmin never tries it.
  if (trial_.first_keeping({with_faults(base, {})})) {
    accept(with_faults(base, {}));
    return;
  }
  std::size_t n = 2;
  while (current.size() >= 2 && !trial_.cap_reached()) {
    std::vector<std::vector<int>> subsets = split(current, n);
    // With two parts, each one's complement is the other part.
    for (std::size_t i = 0; n > 2 && i < n; ++i) {
      subsets.push_back(complement(current, subsets[i]));
    }
    std::vector<scenario::Scenario> candidates;
    for (const auto& subset : subsets) candidates.push_back(with_faults(base, subset));
    const std::optional<std::size_t> kept = trial_.first_keeping(candidates);
    if (kept) {
      current = subsets[*kept];
      n = *kept < n ? 2 : std::max<std::size_t>(n - 1, 2);
      accept(std::move(candidates[*kept]));
      continue;
    }
    if (n >= current.size()) break;
    n = std::min(2 * n, current.size());
  }
}

// A search for the earliest end that still fails, on a millisecond grid: lo never kept
// (0 at first), hi always does; each round probes a few ends between them.
void Shrinker::duration() {
  begin("duration");
  std::int64_t lo = 0;
  std::int64_t hi = duration_of(best_);
  while (hi - lo > kMillisecond && !trial_.cap_reached()) {
    std::vector<std::int64_t> probes;
    for (std::int64_t k = 1; k <= kDurationProbes; ++k) {
      const std::int64_t d =
          (lo + (hi - lo) * k / (kDurationProbes + 1)) / kMillisecond * kMillisecond;
      if (d > lo && d < hi && (probes.empty() || d > probes.back())) probes.push_back(d);
    }
    if (probes.empty()) break;
    std::vector<scenario::Scenario> candidates;
    for (const std::int64_t d : probes) candidates.push_back(with_duration(best_, d));
    const std::optional<std::size_t> kept = trial_.first_keeping(candidates);
    if (!kept) {
      lo = probes.back();
      continue;
    }
    // Every probe before the first that keeps was run and did not.
    if (*kept > 0) lo = probes[*kept - 1];
    hi = probes[*kept];
    accept(std::move(candidates[*kept]));
  }
}

// One entry at a time, in order; after a removal the next entry takes its place.
void Shrinker::workload() {
  begin("workload");
  std::size_t from = 0;
  while (!trial_.cap_reached()) {
    const std::vector<WorkloadEntry> entries = workload_entries(best_);
    std::vector<scenario::Scenario> candidates;
    for (std::size_t i = from; i < entries.size(); ++i) {
      candidates.push_back(without_entry(best_, entries[i]));
    }
    const std::optional<std::size_t> kept = trial_.first_keeping(candidates);
    if (!kept) return;
    from += *kept;
    accept(std::move(candidates[*kept]));
  }
}

// Each knob halved while the run still fails. Halving never unsets a knob, so knob k of
// the current best is the same knob throughout.
void Shrinker::knobs() {
  begin("knobs");
  const std::size_t count = workload_knobs(best_).size();
  for (std::size_t k = 0; k < count && !trial_.cap_reached(); ++k) {
    std::vector<scenario::Scenario> halvings;
    std::optional<scenario::Scenario> next = with_knob_halved(best_, workload_knobs(best_)[k]);
    while (next) {
      halvings.push_back(*next);
      const std::vector<WorkloadKnob> knobs = workload_knobs(halvings.back());
      SL_ASSERT_EQ(knobs.size(), count);
      next = with_knob_halved(halvings.back(), knobs[k]);
    }
    const std::size_t kept = trial_.keeping_prefix(halvings);
    if (kept > 0) accept(std::move(halvings[kept - 1]));
  }
}

std::string output_text(const scenario::Scenario& best, const scenario::Scenario& original,
                        const std::string& file_name, const ShrinkOptions& options,
                        const ShrinkSummary& summary) {
  const std::string seed = std::to_string(options.seed);
  scenario::Scenario out = best;
  out.set_name(original.name() + " (shrunk)");
  out.set_seed(options.seed);
  std::string description = "Shrunk by streamlab shrink from " + file_name + " with seed " +
                            seed + "; it still " + summary.property + ".";
  if (!original.description().empty()) description += " The original: " + original.description();
  out.set_description(description);
  const std::string drawn = summary.swarm_faults == 0
                                ? ""
                                : " (" + std::to_string(summary.swarm_faults) +
                                      " drawn by the swarm)";
  return "# Shrunk by `streamlab shrink` from " + file_name + ", seed " + seed + ".\n" +
         "# It keeps: " + summary.property + ".\n" +
         "# Before: " + describe(summary.before) + drawn + "; after: " + describe(summary.after) +
         (summary.cap_reached ? " (the run cap was reached: it may shrink further)" : "") +
         ".\n# Reproduce: streamlab run " + options.out_path + " --seed " + seed + "\n" +
         print_scenario(out);
}

// The written file, loaded and run as a user will: it must still fail the same way.
Result<std::uint64_t> confirm(const std::string& text, const std::string& file_name,
                              const ShrinkOptions& options, const ShrinkProperty& property) {
  const auto config = parse_scenario(text, file_name + " (shrunk)");
  if (!config) return Error{"the shrunk scenario does not load: " + config.error()};
  RunOptions run_options;
  run_options.seed = options.seed;
  run_options.budget = options.budget;
  const RunResult r = run_scenario(config.value(), run_options);
  if (!property_holds(property, r.check)) {
    return Error{file_name + ": the shrunk scenario no longer " + property.description +
                 " (a bug in streamlab shrink)"};
  }
  return r.trace_hash;
}

}  // namespace

std::string describe(const ShrinkSize& size) {
  const auto count = [](std::size_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
  };
  return count(size.faults, "fault", "faults") + ", " + format_duration_ns(size.duration_ns) +
         ", " + count(size.workload_entries, "workload entry", "workload entries");
}

Result<ShrinkSummary> shrink_scenario(std::string_view text, const std::string& file_name,
                                      const ShrinkOptions& options,
                                      const ShrinkProgressFn& progress) {
  SL_ASSERT_GT(options.seed, 0);
  SL_ASSERT_GT(options.jobs, 0);
  SL_ASSERT(!options.out_path.empty());
  const Clock::time_point started = Clock::now();
  const auto config = parse_scenario(text, file_name, options.overrides);
  if (!config) return Error{config.error()};
  scenario::Scenario original;
  const bool parsed = google::protobuf::TextFormat::ParseFromString(std::string(text), &original);
  SL_ASSERT_MSG(parsed, "the loader accepted text the proto parser rejects");
  original.set_seed(options.seed);
  if (!options.overrides.duration.empty()) original.set_duration(options.overrides.duration);

  RunOptions run_options;
  run_options.seed = options.seed;
  run_options.budget = options.budget;
  const ContainedRun contained = run_contained(config.value(), run_options);
  if (contained.crashed) {
    return Error{file_name + ": seed " + std::to_string(options.seed) + ": the run crashed (" +
                 contained.crash + "); shrink keeps anomalies, not crashes: " +
                 "reproduce it with streamlab run"};
  }
  const RunResult& first = contained.result;
  if (first.runaway != Runaway::none) {
    return Error{file_name + ": seed " + std::to_string(options.seed) + ": " +
                 first.failed_expectations.front() + "; shrink keeps anomalies, not runaways"};
  }
  const auto property =
      derive_property(config.value(), options.seed, first.check, options.keep_anomaly);
  if (!property) return Error{property.error()};
  ShrinkTrial trial(file_name, options.seed, property.value(), options.jobs, options.max_runs,
                    options.budget);

  ShrinkSummary summary;
  summary.property = property.value().description;
  scenario::Scenario start = original;
  if (original.has_swarm()) {
    start = with_swarm_explicit(original, config.value(), options.seed);
    summary.swarm_faults =
        static_cast<std::size_t>(start.fault_size()) - config.value().faults.size();
    const Result<RunResult> replay = trial.run(start);
    if (!replay.ok() || replay.value().trace_hash != first.trace_hash) {
      return Error{file_name + ": seed " + std::to_string(options.seed) +
                   ": the swarm's faults written out as a schedule do not replay the run (" +
                   (replay.ok() ? "the trace differs" : replay.error()) +
                   "); a bug in streamlab shrink"};
    }
  }
  summary.before = size_of(start);
  if (progress) {
    progress(ShrinkProgress{"swarm", 0, summary.before,
                            std::chrono::duration<double>(Clock::now() - started).count()});
  }

  Shrinker shrinker(trial, start, progress, started);
  shrinker.faults();
  shrinker.duration();
  shrinker.workload();
  shrinker.knobs();

  summary.after = size_of(shrinker.best());
  summary.runs = trial.runs();
  summary.cap_reached = trial.cap_reached();
  summary.text = output_text(shrinker.best(), original, file_name, options, summary);
  const auto hash = confirm(summary.text, file_name, options, property.value());
  if (!hash) return Error{hash.error()};
  summary.trace_hash = hash.value();
  summary.wall_s = std::chrono::duration<double>(Clock::now() - started).count();
  return summary;
}

}  // namespace streamlab::workloads
