#include <algorithm>
#include <cstdio>
#include <optional>
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

// What the flags ask for. The files they name are read only after every flag is checked.
struct CapacityRequest {
  std::string workload_file;
  std::string cluster_file;
  workloads::SweepSettings settings;
  std::optional<std::string> vary;  // KEY=V1,V2,... as given; checked once the files load.
  std::optional<std::string> json_file;
  std::optional<std::string> report_file;
  bool quiet = false;
};

std::optional<std::string> optional_flag(const Args& args, const char* flag) {
  if (!args.flags.count(flag)) return std::nullopt;
  return args.flags.at(flag);
}

// The request from the flags; the words of the first one that is wrong.
Result<CapacityRequest> parse_request(const Args& args) {
  CapacityRequest request;
  if (!args.positional.empty()) {
    return Error{"unexpected argument \"" + args.positional.front() + "\""};
  }
  if (!args.flags.count("--workload") || !args.flags.count("--cluster")) {
    return Error{"--workload and --cluster are required"};
  }
  request.workload_file = args.flags.at("--workload");
  request.cluster_file = args.flags.at("--cluster");
  workloads::ProbeSettings& probe = request.settings.probe;
  std::string error;
  if (!duration_flag(args, "--warmup", &probe.warmup_ns, &error) ||
      !duration_flag(args, "--measure", &probe.measure_ns, &error) ||
      !duration_flag(args, "--max-p99", &probe.max_publish_p99_ns, &error)) {
    return Error{error};
  }
  if (args.flags.count("--seed") &&
      (!parse_u64(args.flags.at("--seed"), &probe.seed) || probe.seed == 0)) {
    return Error{"--seed needs an integer >= 1"};
  }
  if (args.flags.count("--start-rate")) {
    std::uint64_t rate = 0;
    if (!parse_u64(args.flags.at("--start-rate"), &rate) || rate == 0) {
      return Error{"--start-rate needs an integer >= 1 (msg/s)"};
    }
    request.settings.start_rate = static_cast<double>(rate);
  }
  request.settings.jobs = std::max(1u, std::thread::hardware_concurrency());
  if (args.flags.count("--jobs")) {
    std::uint64_t jobs = 0;
    if (!parse_u64(args.flags.at("--jobs"), &jobs) || jobs == 0 || jobs > 256) {
      return Error{"--jobs needs an integer in 1..256"};
    }
    request.settings.jobs = static_cast<unsigned>(jobs);
  }
  request.vary = optional_flag(args, "--vary");
  request.json_file = optional_flag(args, "--json");
  request.report_file = optional_flag(args, "--report");
  request.quiet = args.flags.count("--quiet") > 0;
  return request;
}

// The run as its outputs describe it, before any outcome: its files, the command line
// that reproduces it, and its probe settings.
CapacityRun describe_run(const CapacityRequest& request, int argc, char** argv) {
  CapacityRun run;
  run.workload_file = request.workload_file;
  run.cluster_file = request.cluster_file;
  run.command = "streamlab capacity";
  for (int i = 0; i < argc; ++i) run.command += std::string(" ") + argv[i];
  run.probe = request.settings.probe;
  return run;
}

struct Vary {
  std::string key;
  std::vector<std::string> values;
};

Result<Vary> parse_vary(const std::string& vary) {
  const std::size_t eq = vary.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == vary.size()) {
    return Error{"--vary needs KEY=V1,V2,..., got \"" + vary + "\""};
  }
  return Vary{vary.substr(0, eq), split(vary.substr(eq + 1), ',')};
}

// One outcome per value, every plan made before anything runs: a typo in the last value
// fails at once. The error is the whole line for stderr.
Result<std::vector<CapacityOutcome>> vary_outcomes(const workloads::CapacityPlan& base,
                                                   const Vary& vary) {
  std::vector<CapacityOutcome> outcomes;
  for (const std::string& value : vary.values) {
    Result<workloads::CapacityPlan> plan = workloads::with_setting(base, vary.key, value);
    if (!plan) return Error{"streamlab capacity: --vary " + plan.error()};
    outcomes.push_back({vary.key + "=" + value, std::move(plan.value()), {}});
  }
  return outcomes;
}

// Sweeps each outcome's plan in turn; false (with the error printed) when one cannot run.
bool sweep_outcomes(const CapacityRequest& request, CapacityRun& run) {
  workloads::SweepSettings settings = request.settings;
  for (CapacityOutcome& o : run.outcomes) {
    if (!request.quiet) {
      settings.on_point = [&o](const workloads::LoadPoint& p, const std::string& phase) {
        progress(o, p, phase);
      };
    }
    Result<workloads::SweepResult> result = workloads::sweep(o.plan, settings);
    if (!result) {
      std::fprintf(stderr, "streamlab capacity: [%s] %s\n", o.label.c_str(), result.error().c_str());
      return false;
    }
    o.sweep = std::move(result.value());
  }
  return true;
}

// The --json and --report files, when asked for.
int write_outputs(const CapacityRequest& request, const CapacityRun& run) {
  std::string error;
  if (request.json_file) {
    if (!write_file(*request.json_file, capacity_json(run), &error)) {
      std::fprintf(stderr, "streamlab capacity: %s\n", error.c_str());
      return kExitBadInput;
    }
    std::printf("wrote %s\n", request.json_file->c_str());
  }
  if (request.report_file) {
    if (!write_file_atomically(*request.report_file, capacity_html(run), &error)) {
      std::fprintf(stderr, "streamlab capacity: %s\n", error.c_str());
      return kExitBadInput;
    }
    std::printf("wrote %s\n", request.report_file->c_str());
  }
  return kExitOk;
}

int bad_input(const std::string& line) {
  std::fprintf(stderr, "%s\n", line.c_str());
  return kExitBadInput;
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
  const Result<CapacityRequest> parsed = parse_request(*args);
  if (!parsed) return usage_error("capacity", parsed.error(), usage.c_str());
  const CapacityRequest& request = parsed.value();
  CapacityRun run = describe_run(request, argc, argv);
  const Result<workloads::OmbWorkload> workload = workloads::load_omb_workload(run.workload_file);
  if (!workload) return bad_input(workload.error());
  const Result<workloads::CapacityPlan> base =
      workloads::load_capacity_plan(run.cluster_file, workload.value());
  if (!base) return bad_input(base.error());
  if (request.vary) {
    const Result<Vary> vary = parse_vary(*request.vary);
    if (!vary) return usage_error("capacity", vary.error(), usage.c_str());
    Result<std::vector<CapacityOutcome>> outcomes = vary_outcomes(base.value(), vary.value());
    if (!outcomes) return bad_input(outcomes.error());
    run.outcomes = std::move(outcomes.value());
  } else {
    run.outcomes.push_back({workload.value().name, base.value(), {}});
  }
  if (!sweep_outcomes(request, run)) return kExitBadInput;
  std::fputs(capacity_text(run).c_str(), stdout);
  return write_outputs(request, run);
}

}  // namespace streamlab::cli
