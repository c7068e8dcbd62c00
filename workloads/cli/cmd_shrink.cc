// `streamlab shrink`: turns "seed 4711 failed" into a small scenario that fails the same
// way (the engine is workloads/shrink.h; this is its command line and progress display).

#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "workloads/cli/cli.h"
#include "workloads/shrink/shrink.h"

namespace streamlab::cli {

namespace {

constexpr std::uint64_t kDefaultMaxRuns = 2000;

constexpr const char* kShrinkUsageFormat =
    R"(usage: streamlab shrink FILE --seed N [--out MIN] [--jobs J] [--keep ANOMALY] [--max-runs R]
                        [--duration D] [--max-events N] [--max-memory M]

Cuts the run of scenario FILE with seed N down to a small scenario that still fails the
same way, and writes it as a standalone scenario file with the seed in it, so that
`streamlab run MIN --seed N` reproduces it.

"The same way" is, in this order of precedence:
  --keep ANOMALY   the run finds ANOMALY;
  otherwise        the run finds the anomaly of the first `present: false` expectation
                   the original run fails;
  otherwise        the run finds every anomaly the scenario expects (present: true).
A run that meets its expectations and expects no anomaly has nothing to keep, and one
that fails only by missing an expected anomaly is refused: it would shrink to nothing.

Each candidate is checked with a full run, in these steps:
  1. a swarm's faults for seed N become scripted faults (checked: the same trace); a
     LIVENESS swarm stays, without rates, for its heal at `stop` and its judgement
  2. ddmin over the faults (Zeller): subsets, then complements, then finer splits;
     then the run without that heal-only swarm
  3. the earliest end of the run, to the millisecond, that still fails
  4. workload entries removed one at a time; then rates, stops and maximum counts
     halved while the run still fails

  --seed N          the failing seed (required)
  --out MIN         where to write the result (default: STEM.seedN.min.textproto in the
                    current directory, STEM being FILE's name without .textproto)
  --jobs J          parallel runs (default: the number of cores); the result is the same
                    for every J
  --keep ANOMALY    keep finding ANOMALY (e.g. lost-write), whatever is expected
  --max-runs R      stop after R candidate runs (default 2000) and write the smallest so far
%s
Each run goes in a process of its own: a candidate that crashes or runs away does not keep.

exit codes: 0 shrunk (or already minimal) and written, 2 bad input or usage, or
            nothing to keep
)";

std::string usage_text() {
  char buffer[8192];
  std::snprintf(buffer, sizeof buffer, kShrinkUsageFormat, run_control_help(20).c_str());
  return buffer;
}

std::string default_out(const std::string& path, std::uint64_t seed) {
  std::string stem = std::filesystem::path(path).filename().string();
  const std::string suffix = ".textproto";
  if (stem.size() > suffix.size() && stem.ends_with(suffix)) {
    stem.resize(stem.size() - suffix.size());
  }
  return stem + ".seed" + std::to_string(seed) + ".min.textproto";
}

// A terminal gets one line redrawn in place; a log gets a line whenever the step or the
// size changes.
class ProgressDisplay {
 public:
  ProgressDisplay() : interactive_(isatty(fileno(stderr)) != 0) {}

  void show(const workloads::ShrinkProgress& p) {
    const std::string line = std::string("shrink [") + p.step + "] " + workloads::describe(p.size);
    if (!interactive_ && line == last_) return;
    last_ = line;
    shown_ = true;
    std::fprintf(stderr, "%s%s; %zu runs, %.1f s%s", interactive_ ? "\r\033[K" : "",
                 line.c_str(), p.runs, p.wall_s, interactive_ ? "" : "\n");
    std::fflush(stderr);
  }

  // Ends the redrawn line, so that what follows starts on its own.
  void finish() {
    if (interactive_ && shown_) std::fputc('\n', stderr);
  }

 private:
  bool interactive_;
  bool shown_ = false;
  std::string last_;
};

bool read_text(const std::string& path, std::string* text) {
  std::ifstream file(path);
  if (!file) return false;
  std::stringstream buffer;
  buffer << file.rdbuf();
  *text = buffer.str();
  return true;
}

void print_outcome(const std::string& path, const std::string& out,
                   const workloads::ShrinkOptions& options, const workloads::ShrinkSummary& s) {
  std::printf("shrunk %s, seed %" PRIu64 ": it still %s\n", path.c_str(), options.seed,
              s.property.c_str());
  std::printf("  before  %s", workloads::describe(s.before).c_str());
  if (s.swarm_faults > 0) std::printf(" (%zu drawn by the swarm)", s.swarm_faults);
  std::printf("\n");
  std::printf("  after   %s, trace %s\n", workloads::describe(s.after).c_str(),
              hex64(s.trace_hash).c_str());
  std::printf("  runs    %zu in %.1f s\n", s.runs, s.wall_s);
  if (s.cap_reached) {
    std::printf("  the run cap (%zu) was reached: a larger --max-runs may shrink further\n",
                options.max_runs);
  }
  std::printf("wrote %s\nreproduce: streamlab run %s --seed %" PRIu64 "\n", out.c_str(),
              out.c_str(), options.seed);
}

}  // namespace

int cmd_shrink(int argc, char** argv) {
  std::string error;
  const std::string usage_string = usage_text();
  const char* usage = usage_string.c_str();
  const auto args = parse_args(
      argc, argv, with_run_control_flags({"--seed", "--out", "--jobs", "--keep", "--max-runs"}), {},
      &error);
  if (!args) return usage_error("shrink", error, usage);
  if (args->help) {
    std::fputs(usage, stdout);
    return kExitOk;
  }
  if (args->positional.size() != 1) {
    return usage_error("shrink", "expected exactly one scenario FILE", usage);
  }
  workloads::ShrinkOptions options;
  if (!args->flags.count("--seed") || !parse_u64(args->flags.at("--seed"), &options.seed) ||
      options.seed == 0) {
    return usage_error("shrink", "--seed N is required, N >= 1 (the seed that fails)",
                       usage);
  }
  std::uint64_t jobs = std::max(1u, std::thread::hardware_concurrency());
  if (args->flags.count("--jobs") &&
      (!parse_u64(args->flags.at("--jobs"), &jobs) || jobs == 0 || jobs > 1024)) {
    return usage_error("shrink", "--jobs needs an integer in 1..1024", usage);
  }
  options.jobs = static_cast<unsigned>(jobs);
  std::uint64_t max_runs = kDefaultMaxRuns;
  if (args->flags.count("--max-runs") &&
      (!parse_u64(args->flags.at("--max-runs"), &max_runs) || max_runs == 0)) {
    return usage_error("shrink", "--max-runs needs an integer >= 1", usage);
  }
  options.max_runs = static_cast<std::size_t>(max_runs);
  const Result<workloads::RunBudget> budget = parse_budget(*args);
  if (!budget) return usage_error("shrink", budget.error(), usage);
  options.budget = budget.value();
  const Result<workloads::ScenarioOverrides> overrides = parse_overrides(*args);
  if (!overrides) return usage_error("shrink", overrides.error(), usage);
  options.overrides = overrides.value();
  if (args->flags.count("--keep")) options.keep_anomaly = args->flags.at("--keep");
  const std::string& path = args->positional[0];
  options.out_path =
      args->flags.count("--out") ? args->flags.at("--out") : default_out(path, options.seed);

  std::string text;
  if (!read_text(path, &text)) {
    std::fprintf(stderr, "%s: cannot open the scenario file\n", path.c_str());
    return kExitBadInput;
  }
  ProgressDisplay display;
  const auto summary = workloads::shrink_scenario(
      text, path, options, [&display](const workloads::ShrinkProgress& p) { display.show(p); });
  display.finish();
  if (!summary) {
    std::fprintf(stderr, "streamlab shrink: %s\n", summary.error().c_str());
    return kExitBadInput;
  }
  if (!write_file(options.out_path, summary.value().text, &error)) {
    std::fprintf(stderr, "streamlab shrink: %s\n", error.c_str());
    return kExitBadInput;
  }
  print_outcome(path, options.out_path, options, summary.value());
  return kExitOk;
}

}  // namespace streamlab::cli
