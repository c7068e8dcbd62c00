#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <thread>
#include <unistd.h>
#include <vector>

#include "workloads/cli/cli.h"
#include "workloads/report/json_writer.h"
#include "workloads/run/run_contained.h"
#include "workloads/scenario/scenario_loader.h"

namespace streamlab::cli {

namespace {

constexpr const char* kExploreUsage =
    R"(usage: streamlab explore FILE --seeds A..B [--jobs J] [--shard I/N] [--json OUT]
                         [--duration D] [--max-events N] [--max-memory M]

Runs the scenario FILE once per seed in A..B (inclusive), J at a time (default: the number
of cores), showing progress, then lists every seed that failed with the commands that
reproduce it, replay it with its event log, shrink it to a small scenario that fails the
same way, and report it as HTML with a Perfetto timeline. Each seed runs in a process of
its own, so a seed that crashes (an assertion, a fault) or runs away (past its budget of
events or memory) is named and the batch goes on. A failure is one of:
  expectation  the run ended and an expectation failed (an anomaly found or missing)
  crash        the run died; its last words (an assertion's message) are shown
  runaway      the run went over its budget and was stopped

  --seeds A..B    the seed range, e.g. 1..500
  --jobs J        parallel runs (each run is its own simulation; runs share nothing)
  --shard I/N     run only the seeds s with (s - A) mod N == I, 0 <= I < N, so a batch
                  scheduler (a Kubernetes Indexed Job, a Slurm array) can split a sweep
  --json OUT      also write the outcome as JSON
%s
exit codes: 0 every seed met its expectations, 1 some seed failed, 2 bad input
)";

std::string usage_text() {
  char buffer[4096];
  std::snprintf(buffer, sizeof buffer, kExploreUsage, run_control_help(18).c_str());
  return buffer;
}

enum class Failure : std::uint8_t { none, expectation, crash, runaway };

const char* failure_name(Failure f) {
  switch (f) {
    case Failure::none:
      return "none";
    case Failure::expectation:
      return "expectation";
    case Failure::crash:
      return "crash";
    case Failure::runaway:
      return "runaway";
  }
  return "?";
}

struct SeedOutcome {
  std::uint64_t seed = 0;
  Failure failure = Failure::none;
  std::vector<std::string> failed;  // In words: failed expectations, the crash, the runaway.
  std::uint64_t trace_hash = 0;
};

struct ExploreRequest {
  std::string path;
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::uint64_t jobs = 1;
  std::uint64_t shard = 0;
  std::uint64_t shards = 1;
  workloads::RunBudget budget;
  workloads::ScenarioOverrides overrides;
};

bool parse_range(const std::string& text, std::uint64_t* first, std::uint64_t* last) {
  const auto dots = text.find("..");
  if (dots == std::string::npos) return false;
  return parse_u64(text.substr(0, dots), first) && parse_u64(text.substr(dots + 2), last) &&
         *first >= 1 && *first <= *last;
}

bool parse_shard(const std::string& text, std::uint64_t* index, std::uint64_t* count) {
  const auto slash = text.find('/');
  if (slash == std::string::npos) return false;
  return parse_u64(text.substr(0, slash), index) && parse_u64(text.substr(slash + 1), count) &&
         *count >= 1 && *index < *count;
}

// The request's numbers from the flags; the words of the first one that is wrong.
Result<ExploreRequest> parse_request(const Args& args) {
  ExploreRequest request;
  if (args.positional.size() != 1) return Error{"expected exactly one scenario FILE"};
  request.path = args.positional[0];
  if (!args.flags.count("--seeds") ||
      !parse_range(args.flags.at("--seeds"), &request.first, &request.last)) {
    return Error{"--seeds A..B is required, with 1 <= A <= B"};
  }
  request.jobs = std::max(1u, std::thread::hardware_concurrency());
  if (args.flags.count("--jobs") &&
      (!parse_u64(args.flags.at("--jobs"), &request.jobs) || request.jobs == 0 ||
       request.jobs > 1024)) {
    return Error{"--jobs needs an integer in 1..1024"};
  }
  if (args.flags.count("--shard") &&
      !parse_shard(args.flags.at("--shard"), &request.shard, &request.shards)) {
    return Error{"--shard needs I/N with 0 <= I < N"};
  }
  const Result<workloads::RunBudget> budget = parse_budget(args);
  if (!budget) return Error{budget.error()};
  request.budget = budget.value();
  const Result<workloads::ScenarioOverrides> overrides = parse_overrides(args);
  if (!overrides) return Error{overrides.error()};
  request.overrides = overrides.value();
  return request;
}

SeedOutcome outcome_of(std::uint64_t seed, const workloads::ContainedRun& run) {
  SeedOutcome outcome{seed, Failure::none, {}, 0};
  if (run.crashed) {
    outcome.failure = Failure::crash;
    outcome.failed.push_back("crash: " + run.crash);
    return outcome;
  }
  outcome.trace_hash = run.result.trace_hash;
  outcome.failed = run.result.failed_expectations;
  if (run.result.runaway != workloads::Runaway::none) {
    outcome.failure = Failure::runaway;
  } else if (!run.result.expectations_met) {
    outcome.failure = Failure::expectation;
  }
  return outcome;
}

// Runs every seed, `request.jobs` at a time, reporting progress on stderr; the outcomes
// in seed order.
std::vector<SeedOutcome> run_seeds(const ScenarioConfig& config, const ExploreRequest& request,
                                   const std::vector<std::uint64_t>& seeds) {
  std::vector<SeedOutcome> outcomes(seeds.size());
  std::size_t finished = 0;
  std::size_t failed = 0;
  const auto start = std::chrono::steady_clock::now();
  const bool interactive = isatty(fileno(stderr)) != 0;
  const std::size_t progress_step = std::max<std::size_t>(1, seeds.size() / 20);
  const auto job = [&](std::size_t i) {
    workloads::RunOptions options;
    options.seed = seeds[i];
    options.budget = request.budget;
    return workloads::ContainedJob{&config, options};
  };
  const auto done = [&](std::size_t i, workloads::ContainedRun run) {
    outcomes[i] = outcome_of(seeds[i], run);
    if (outcomes[i].failure != Failure::none) ++failed;
    ++finished;
    // A terminal gets one line redrawn in place; a log file gets a line per 5%; both get
    // a line for every seed that fails, as it happens, so a long batch need not end
    // before its first failure can be looked at.
    const bool news = outcomes[i].failure != Failure::none;
    if (!interactive && !news && finished % progress_step != 0 && finished != seeds.size()) {
      return;
    }
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (news) {
      std::fprintf(stderr, "%sexplore: seed %" PRIu64 ": %s: %s\n", interactive ? "\r" : "",
                   seeds[i], failure_name(outcomes[i].failure),
                   outcomes[i].failed.empty() ? "" : outcomes[i].failed.front().c_str());
    }
    std::fprintf(stderr, "%sexplore: %zu/%zu seeds, %zu failed, %.1f s%s",
                 interactive ? "\r" : "", finished, seeds.size(), failed, elapsed,
                 interactive ? "" : "\n");
    std::fflush(stderr);
  };
  workloads::run_contained_batch(seeds.size(), request.jobs, job, done);
  if (interactive) std::fprintf(stderr, "\n");
  return outcomes;
}

// A runaway reproduces under the same budget.
std::string reproduce(const ExploreRequest& request, const SeedOutcome& o) {
  std::string command =
      reproduce_command(request.path, o.seed, request.overrides.flags());
  if (o.failure == Failure::runaway) command += budget_flags(request.budget);
  return command;
}

void print_outcomes(const ExploreRequest& request, const std::vector<SeedOutcome>& outcomes) {
  std::size_t counts[4] = {0, 0, 0, 0};
  for (const SeedOutcome& o : outcomes) ++counts[static_cast<int>(o.failure)];
  const std::size_t failed = outcomes.size() - counts[0];
  std::printf("explored %zu seeds of %" PRIu64 "..%" PRIu64 " (shard %" PRIu64 "/%" PRIu64
              "): %zu failed",
              outcomes.size(), request.first, request.last, request.shard, request.shards,
              failed);
  if (failed > 0) {
    std::printf(" (%zu expectation, %zu crash, %zu runaway)", counts[1], counts[2], counts[3]);
  }
  std::printf("\n");
  for (const SeedOutcome& o : outcomes) {
    if (o.failure == Failure::none) continue;
    const FollowUpCommands next =
        follow_up_commands(request.path, o.seed, request.overrides.flags());
    std::printf("seed %" PRIu64 ": %s: %s\n  reproduce: %s\n  replay:    %s\n  shrink:    %s\n"
                "  report:    %s\n",
                o.seed, failure_name(o.failure), o.failed.empty() ? "" : o.failed.front().c_str(),
                reproduce(request, o).c_str(), next.replay.c_str(),
                next.shrink.c_str(), next.report.c_str());
  }
}

std::string outcomes_json(const ScenarioConfig& config, const ExploreRequest& request,
                          const std::vector<SeedOutcome>& outcomes) {
  JsonWriter j;
  j.begin_object();
  j.key("scenario").value(config.name);
  j.key("seeds_run").value(static_cast<std::uint64_t>(outcomes.size()));
  j.key("failed").begin_array();
  for (const SeedOutcome& o : outcomes) {
    if (o.failure == Failure::none) continue;
    j.begin_object();
    j.key("seed").value(o.seed);
    j.key("kind").value(failure_name(o.failure));
    j.key("trace_hash").value(hex64(o.trace_hash));
    j.key("failed_expectations").begin_array();
    for (const auto& f : o.failed) j.value(f);
    j.end_array();
    j.key("reproduce").value(reproduce(request, o));
    const FollowUpCommands next =
        follow_up_commands(request.path, o.seed, request.overrides.flags());
    j.key("replay").value(next.replay);
    j.key("shrink").value(next.shrink);
    j.key("report").value(next.report);
    j.end_object();
  }
  j.end_array();
  j.end_object();
  return j.str() + "\n";
}

}  // namespace

int cmd_explore(int argc, char** argv) {
  std::string error;
  const std::string usage = usage_text();
  const auto args = parse_args(argc, argv,
                               with_run_control_flags({"--seeds", "--jobs", "--shard", "--json"}), {},
                               &error);
  if (!args) return usage_error("explore", error, usage.c_str());
  if (args->help) {
    std::fputs(usage.c_str(), stdout);
    return kExitOk;
  }
  const Result<ExploreRequest> request = parse_request(*args);
  if (!request) return usage_error("explore", request.error(), usage.c_str());
  const auto config =
      workloads::load_scenario(request.value().path, request.value().overrides);
  if (!config) {
    std::fprintf(stderr, "%s\n", config.error().c_str());
    return kExitBadInput;
  }
  const ExploreRequest& r = request.value();
  std::vector<std::uint64_t> seeds;
  for (std::uint64_t s = r.first; s <= r.last; ++s) {
    if ((s - r.first) % r.shards == r.shard) seeds.push_back(s);
  }
  const std::vector<SeedOutcome> outcomes = run_seeds(config.value(), r, seeds);
  print_outcomes(r, outcomes);
  if (args->flags.count("--json") &&
      !write_file(args->flags.at("--json"), outcomes_json(config.value(), r, outcomes),
                  &error)) {
    std::fprintf(stderr, "streamlab explore: %s\n", error.c_str());
    return kExitBadInput;
  }
  const bool all_met = std::all_of(outcomes.begin(), outcomes.end(),
                                   [](const SeedOutcome& o) { return o.failure == Failure::none; });
  return all_met ? kExitOk : kExitExpectationFailed;
}

}  // namespace streamlab::cli
