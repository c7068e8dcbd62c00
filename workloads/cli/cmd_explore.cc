#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <mutex>
#include <thread>
#include <unistd.h>
#include <vector>

#include "workloads/cli/cli.h"
#include "workloads/cli/json_writer.h"
#include "workloads/scenario_loader.h"

namespace streamlab::cli {

namespace {

constexpr const char* kExploreUsage =
    R"(usage: streamlab explore FILE --seeds A..B [--jobs J] [--shard I/N] [--json OUT]

Runs the scenario FILE once per seed in A..B (inclusive), J at a time (default: the number
of cores), showing progress, then lists every seed whose expectations failed with the
commands that reproduce it, replay it with its event log, shrink it to a small
scenario that fails the same way, and report it as HTML with a Perfetto timeline.

  --seeds A..B    the seed range, e.g. 1..500
  --jobs J        parallel runs (each run is its own simulation; runs share nothing)
  --shard I/N     run only the seeds s with (s - A) mod N == I, 0 <= I < N, so a batch
                  scheduler (a Kubernetes Indexed Job, a Slurm array) can split a sweep
  --json OUT      also write the outcome as JSON

exit codes: 0 every seed met its expectations, 1 some seed failed, 2 bad input
)";

struct SeedOutcome {
  std::uint64_t seed = 0;
  bool met = true;
  std::vector<std::string> failed;
  std::uint64_t trace_hash = 0;
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

}  // namespace

int cmd_explore(int argc, char** argv) {
  std::string error;
  const auto args =
      parse_args(argc, argv, {"--seeds", "--jobs", "--shard", "--json"}, {}, &error);
  if (!args) return usage_error("explore", error, kExploreUsage);
  if (args->help) {
    std::fputs(kExploreUsage, stdout);
    return kExitOk;
  }
  if (args->positional.size() != 1) {
    return usage_error("explore", "expected exactly one scenario FILE", kExploreUsage);
  }
  std::uint64_t first = 0, last = 0;
  if (!args->flags.count("--seeds") || !parse_range(args->flags.at("--seeds"), &first, &last)) {
    return usage_error("explore", "--seeds A..B is required, with 1 <= A <= B", kExploreUsage);
  }
  std::uint64_t jobs = std::max(1u, std::thread::hardware_concurrency());
  if (args->flags.count("--jobs") && (!parse_u64(args->flags.at("--jobs"), &jobs) || jobs == 0 ||
                                      jobs > 1024)) {
    return usage_error("explore", "--jobs needs an integer in 1..1024", kExploreUsage);
  }
  std::uint64_t shard = 0, shards = 1;
  if (args->flags.count("--shard") && !parse_shard(args->flags.at("--shard"), &shard, &shards)) {
    return usage_error("explore", "--shard needs I/N with 0 <= I < N", kExploreUsage);
  }
  const std::string& path = args->positional[0];
  const auto config = workloads::load_scenario(path);
  if (!config) {
    std::fprintf(stderr, "%s\n", config.error().c_str());
    return kExitBadInput;
  }

  std::vector<std::uint64_t> seeds;
  for (std::uint64_t s = first; s <= last; ++s) {
    if ((s - first) % shards == shard) seeds.push_back(s);
  }
  std::vector<SeedOutcome> outcomes(seeds.size());
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> done{0};
  std::atomic<std::size_t> failed{0};
  std::mutex progress_mutex;
  const auto start = std::chrono::steady_clock::now();
  const bool interactive = isatty(fileno(stderr)) != 0;
  const std::size_t progress_step = std::max<std::size_t>(1, seeds.size() / 20);
  auto worker = [&] {
    for (std::size_t i = next++; i < seeds.size(); i = next++) {
      workloads::RunOptions options;
      options.seed = seeds[i];
      const workloads::RunResult r = workloads::run_scenario(config.value(), options);
      outcomes[i] = SeedOutcome{seeds[i], r.expectations_met, r.failed_expectations, r.trace_hash};
      if (!r.expectations_met) ++failed;
      const std::size_t finished = ++done;
      // A terminal gets one line redrawn in place; a log file gets a line per 5%.
      if (!interactive && finished % progress_step != 0 && finished != seeds.size()) continue;
      const std::lock_guard lock(progress_mutex);
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::fprintf(stderr, "%sexplore: %zu/%zu seeds, %zu failed, %.1f s%s",
                   interactive ? "\r" : "", finished, seeds.size(), failed.load(), elapsed,
                   interactive ? "" : "\n");
      std::fflush(stderr);
    }
  };
  std::vector<std::thread> threads;
  const auto thread_count = std::min<std::uint64_t>(jobs, std::max<std::size_t>(1, seeds.size()));
  for (std::uint64_t t = 0; t < thread_count; ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  if (interactive) std::fprintf(stderr, "\n");

  std::printf("explored %zu seeds of %" PRIu64 "..%" PRIu64 " (shard %" PRIu64 "/%" PRIu64
              "): %zu failed\n",
              seeds.size(), first, last, shard, shards, failed.load());
  for (const SeedOutcome& o : outcomes) {
    if (o.met) continue;
    const FollowUpCommands next = follow_up_commands(path, o.seed);
    std::printf("seed %" PRIu64 ": %s\n  reproduce: %s\n  replay:    %s\n  shrink:    %s\n"
                "  report:    %s\n",
                o.seed, o.failed.empty() ? "" : o.failed.front().c_str(),
                reproduce_command(path, o.seed).c_str(), next.replay.c_str(),
                next.shrink.c_str(), next.report.c_str());
  }
  if (args->flags.count("--json")) {
    JsonWriter j;
    j.begin_object();
    j.key("scenario").value(config.value().name);
    j.key("seeds_run").value(static_cast<std::uint64_t>(seeds.size()));
    j.key("failed").begin_array();
    for (const SeedOutcome& o : outcomes) {
      if (o.met) continue;
      j.begin_object();
      j.key("seed").value(o.seed);
      j.key("trace_hash").value(hex64(o.trace_hash));
      j.key("failed_expectations").begin_array();
      for (const auto& f : o.failed) j.value(f);
      j.end_array();
      j.key("reproduce").value(reproduce_command(path, o.seed));
      const FollowUpCommands next = follow_up_commands(path, o.seed);
      j.key("replay").value(next.replay);
      j.key("shrink").value(next.shrink);
      j.key("report").value(next.report);
      j.end_object();
    }
    j.end_array();
    j.end_object();
    if (!write_file(args->flags.at("--json"), j.str() + "\n", &error)) {
      std::fprintf(stderr, "streamlab explore: %s\n", error.c_str());
      return kExitBadInput;
    }
  }
  return failed.load() == 0 ? kExitOk : kExitExpectationFailed;
}

}  // namespace streamlab::cli
