#include <algorithm>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "workloads/report/capacity_outputs.h"
#include "workloads/cli/cli.h"
#include "workloads/scenario/units.h"

namespace streamlab::cli {

namespace {

constexpr const char* kCapacityUsage =
    R"(usage: streamlab capacity --workload W.yaml --cluster C.textproto [--json OUT]
                          [--report OUT.html] [--vary KEY=V1,V2,...] [--seed N]
                          [--warmup D] [--measure D] [--max-p99 D] [--start-rate R]
                          [--jobs J] [--quiet]

Load-tests a simulated cluster with an OpenMessaging Benchmark workload. With the
workload's producerRate 0 it searches for the maximum sustainable rate (doubling from
producerStartRate, default 10000 msg/s, then narrowing the bracket to within 4%), runs
the latency curve below
it, reports throughput, publish and end-to-end latency percentiles per load point, the
utilisation of every CPU, NIC and disk at the highest sustainable load, and names the
bottleneck. With a producerRate it runs that one load point.

  --workload W     an OMB workload file (workloads/omb/*.yaml)
  --cluster C      a scenario file with a topology and a pulsar system and no workload
                   (workloads/clusters/*.textproto); producers and consumers run on
                   its nodes that have no system role
  --json OUT       OMB-shaped result JSON (with --vary: {"comparison": [...]})
  --report OUT     an HTML report with the throughput-vs-p99 plot
  --vary K=V1,...  sweep once per value and compare, e.g. ack_quorum=2,3,
                   batching_max_publish_delay=1ms,10ms, journal_disk=shared,dedicated
  --seed N         the simulation's seed (default 1)
  --warmup D       simulated warm-up per load point after producers start (default 500ms)
  --measure D      simulated measured window per load point (default 1.5s)
  --max-p99 D      publish p99 above this is not sustainable (default 200ms)
  --start-rate R   first rate of the search in msg/s when the workload has none
  --jobs J         load points simulated at once (default: the number of cores)
  --quiet          no progress lines on stderr

A load point is sustainable when producers publish >= 95% of the rate, no send fails,
the backlog grows by < 5% of what is consumed, and publish p99 is within --max-p99.
Settings --vary knows:
)";

std::string usage_text() {
  std::string text = kCapacityUsage;
  for (const auto& [keys, meaning] : workloads::capacity_setting_keys()) {
    text += "  " + keys + "\n      " + meaning + "\n";
  }
  text += "\nexit codes: 0 done, 2 bad input\n";
  return text;
}

bool duration_flag(const Args& args, const char* flag, std::int64_t* out, std::string* error) {
  if (!args.flags.count(flag)) return true;
  const Result<std::int64_t> d = workloads::parse_duration_ns(args.flags.at(flag));
  if (!d || d.value() <= 0) {
    *error = std::string(flag) + ": expected a positive duration such as 2s, got \"" +
             args.flags.at(flag) + "\"";
    return false;
  }
  *out = d.value();
  return true;
}

std::vector<std::string> split(const std::string& text, char by) {
  std::vector<std::string> parts;
  std::size_t at = 0;
  while (true) {
    const std::size_t next = text.find(by, at);
    parts.push_back(text.substr(at, next - at));
    if (next == std::string::npos) return parts;
    at = next + 1;
  }
}

void progress(const CapacityOutcome& o, const workloads::LoadPoint& p, const std::string& phase) {
  const workloads::LoadMeasure& m = p.measure;
  std::fprintf(stderr, "[%s] %-6s %10.0f msg/s: %s; publish p99 %.2f ms; busiest %s %.0f%% (%.1f s)\n",
               o.label.c_str(), phase.c_str(), p.target_rate, p.verdict.c_str(),
               static_cast<double>(m.publish_latency.quantile(0.99)) / 1e6,
               p.utilisation.empty() ? "-" : p.utilisation.front().resource.c_str(),
               p.utilisation.empty() ? 0.0 : p.utilisation.front().busy * 100, p.wall_s);
}

}  // namespace

int cmd_capacity(int argc, char** argv) {
  const std::string usage = usage_text();
  std::string error;
  const auto args = parse_args(argc, argv,
                               {"--workload", "--cluster", "--json", "--report", "--vary",
                                "--seed", "--warmup", "--measure", "--max-p99", "--start-rate",
                                "--jobs"},
                               {"--quiet"}, &error);
  if (!args) return usage_error("capacity", error, usage.c_str());
  if (args->help) {
    std::fputs(usage.c_str(), stdout);
    return kExitOk;
  }
  if (!args->positional.empty()) {
    return usage_error("capacity", "unexpected argument \"" + args->positional.front() + "\"",
                       usage.c_str());
  }
  if (!args->flags.count("--workload") || !args->flags.count("--cluster")) {
    return usage_error("capacity", "--workload and --cluster are required", usage.c_str());
  }
  workloads::SweepSettings settings;
  if (!duration_flag(*args, "--warmup", &settings.probe.warmup_ns, &error) ||
      !duration_flag(*args, "--measure", &settings.probe.measure_ns, &error) ||
      !duration_flag(*args, "--max-p99", &settings.probe.max_publish_p99_ns, &error)) {
    return usage_error("capacity", error, usage.c_str());
  }
  if (args->flags.count("--seed") &&
      (!parse_u64(args->flags.at("--seed"), &settings.probe.seed) || settings.probe.seed == 0)) {
    return usage_error("capacity", "--seed needs an integer >= 1", usage.c_str());
  }
  if (args->flags.count("--start-rate")) {
    std::uint64_t rate = 0;
    if (!parse_u64(args->flags.at("--start-rate"), &rate) || rate == 0) {
      return usage_error("capacity", "--start-rate needs an integer >= 1 (msg/s)", usage.c_str());
    }
    settings.start_rate = static_cast<double>(rate);
  }
  settings.jobs = std::max(1u, std::thread::hardware_concurrency());
  if (args->flags.count("--jobs")) {
    std::uint64_t jobs = 0;
    if (!parse_u64(args->flags.at("--jobs"), &jobs) || jobs == 0 || jobs > 256) {
      return usage_error("capacity", "--jobs needs an integer in 1..256", usage.c_str());
    }
    settings.jobs = static_cast<unsigned>(jobs);
  }
  CapacityRun run;
  run.workload_file = args->flags.at("--workload");
  run.cluster_file = args->flags.at("--cluster");
  run.command = "streamlab capacity";
  for (int i = 0; i < argc; ++i) run.command += std::string(" ") + argv[i];
  run.probe = settings.probe;
  const Result<workloads::OmbWorkload> workload = workloads::load_omb_workload(run.workload_file);
  if (!workload) {
    std::fprintf(stderr, "%s\n", workload.error().c_str());
    return kExitBadInput;
  }
  const Result<workloads::CapacityPlan> base =
      workloads::load_capacity_plan(run.cluster_file, workload.value());
  if (!base) {
    std::fprintf(stderr, "%s\n", base.error().c_str());
    return kExitBadInput;
  }
  // Every value is checked before anything runs: a typo in the last fails at once.
  if (args->flags.count("--vary")) {
    const std::string& vary = args->flags.at("--vary");
    const std::size_t eq = vary.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == vary.size()) {
      return usage_error("capacity", "--vary needs KEY=V1,V2,..., got \"" + vary + "\"",
                         usage.c_str());
    }
    for (const std::string& value : split(vary.substr(eq + 1), ',')) {
      Result<workloads::CapacityPlan> plan =
          workloads::with_setting(base.value(), vary.substr(0, eq), value);
      if (!plan) {
        std::fprintf(stderr, "streamlab capacity: --vary %s\n", plan.error().c_str());
        return kExitBadInput;
      }
      run.outcomes.push_back({vary.substr(0, eq) + "=" + value, std::move(plan.value()), {}});
    }
  } else {
    run.outcomes.push_back({workload.value().name, base.value(), {}});
  }
  const bool quiet = args->flags.count("--quiet") > 0;
  for (CapacityOutcome& o : run.outcomes) {
    if (!quiet) {
      settings.on_point = [&o](const workloads::LoadPoint& p, const std::string& phase) {
        progress(o, p, phase);
      };
    }
    Result<workloads::SweepResult> result = workloads::sweep(o.plan, settings);
    if (!result) {
      std::fprintf(stderr, "streamlab capacity: [%s] %s\n", o.label.c_str(), result.error().c_str());
      return kExitBadInput;
    }
    o.sweep = std::move(result.value());
  }
  std::fputs(capacity_text(run).c_str(), stdout);
  if (args->flags.count("--json")) {
    if (!write_file(args->flags.at("--json"), capacity_json(run), &error)) {
      std::fprintf(stderr, "streamlab capacity: %s\n", error.c_str());
      return kExitBadInput;
    }
    std::printf("wrote %s\n", args->flags.at("--json").c_str());
  }
  if (args->flags.count("--report")) {
    if (!write_file_atomically(args->flags.at("--report"), capacity_html(run), &error)) {
      std::fprintf(stderr, "streamlab capacity: %s\n", error.c_str());
      return kExitBadInput;
    }
    std::printf("wrote %s\n", args->flags.at("--report").c_str());
  }
  return kExitOk;
}

}  // namespace streamlab::cli
