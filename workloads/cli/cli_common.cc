#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "workloads/cli/cli.h"
#include "workloads/report/json_writer.h"
#include "workloads/scenario/units.h"
#include "workloads/systems/system_adapter.h"

namespace streamlab::cli {

std::optional<Args> parse_args(int argc, char** argv, const std::vector<std::string>& with_value,
                               const std::vector<std::string>& without_value,
                               std::string* error) {
  Args args;
  auto has = [](const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      args.help = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0 || arg == "--") {
      args.positional.push_back(arg);
      continue;
    }
    std::string value;
    bool has_inline_value = false;
    if (const auto eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_inline_value = true;
    }
    if (has(with_value, arg)) {
      if (!has_inline_value) {
        if (i + 1 >= argc) {
          *error = arg + " needs a value";
          return std::nullopt;
        }
        value = argv[++i];
      }
      args.flags[arg] = value;
      args.all_values[arg].push_back(value);
    } else if (has(without_value, arg) && !has_inline_value) {
      args.flags[arg] = "";
    } else {
      *error = "unknown option " + arg;
      return std::nullopt;
    }
  }
  return args;
}

bool parse_u64(const std::string& text, std::uint64_t* out) {
  if (text.empty() || text.size() > 20) return false;
  std::uint64_t v = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    const std::uint64_t digit = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - digit) / 10) return false;
    v = v * 10 + digit;
  }
  *out = v;
  return true;
}

std::string run_control_help(std::size_t column) {
  const auto flag = [column](const std::string& name, const std::vector<std::string>& lines) {
    std::string out = "  " + name;
    out += std::string(column > out.size() ? column - out.size() : 1, ' ');
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (i > 0) out += std::string(column, ' ');
      out += lines[i] + "\n";
    }
    return out;
  };
  return flag("--duration D", {"run D of simulated time (e.g. 1h) instead of the scenario's",
                               "duration; what ends with the run (producers, consumers,",
                               "swarms without a stop of their own) runs on to D"}) +
         flag("--max-events N", {"stop a run after N simulated events as a runaway",
                                 "(default 1000000000; 0: no limit)"}) +
         flag("--max-memory M", {"stop a run whose process holds more than M of memory as a",
                                 "runaway (e.g. 4GiB, the default; 0: no limit)"});
}

Result<workloads::RunBudget> parse_budget(const Args& args) {
  workloads::RunBudget budget{kDefaultMaxEvents, kDefaultMaxMemoryBytes};
  if (const auto it = args.flags.find("--max-events"); it != args.flags.end()) {
    if (!parse_u64(it->second, &budget.max_events)) {
      return Error{"--max-events needs a whole number of events (0: no limit)"};
    }
  }
  if (const auto it = args.flags.find("--max-memory"); it != args.flags.end()) {
    if (it->second == "0") {
      budget.max_rss_bytes = 0;
    } else {
      const Result<std::int64_t> bytes = workloads::parse_bytes(it->second);
      if (!bytes || bytes.value() <= 0) {
        return Error{"--max-memory needs a size such as 4GiB or 512MB (0: no limit): " +
                     (bytes ? std::string("must be positive") : bytes.error())};
      }
      budget.max_rss_bytes = static_cast<std::uint64_t>(bytes.value());
    }
  }
  return budget;
}

std::string budget_flags(const workloads::RunBudget& budget) {
  std::string flags;
  if (budget.max_events != kDefaultMaxEvents) {
    flags += " --max-events " + std::to_string(budget.max_events);
  }
  if (budget.max_rss_bytes != kDefaultMaxMemoryBytes) {
    flags += " --max-memory " + std::to_string(budget.max_rss_bytes) + "B";
  }
  return flags;
}

std::vector<std::string> with_run_control_flags(std::vector<std::string> flags) {
  flags.insert(flags.end(), kBudgetFlags.begin(), kBudgetFlags.end());
  flags.push_back("--duration");
  return flags;
}

Result<workloads::ScenarioOverrides> parse_overrides(const Args& args) {
  workloads::ScenarioOverrides overrides;
  if (const auto it = args.flags.find("--duration"); it != args.flags.end()) {
    const Result<std::int64_t> d = workloads::parse_duration_ns(it->second);
    if (!d || d.value() <= 0) {
      return Error{"--duration needs a simulated time > 0 such as 90s or 1h" +
                   (d ? std::string() : ": " + d.error())};
    }
    overrides.duration = it->second;
  }
  return overrides;
}

int usage_error(const std::string& command, const std::string& message, const char* usage) {
  std::fprintf(stderr, "streamlab %s: %s\n\n%s", command.c_str(), message.c_str(), usage);
  return kExitBadInput;
}


std::string scenario_dir() {
  if (const char* env = std::getenv("STREAMLAB_SCENARIO_DIR")) return env;
  return STREAMLAB_SCENARIO_DIR;
}





namespace {

double metric(const workloads::RunResult& r, const std::string& name) {
  const auto it = r.check.metrics.find(name);
  return it == r.check.metrics.end() ? 0 : it->second;
}

}  // namespace

void print_summary(const ScenarioConfig& config, const workloads::RunResult& r,
                   const std::string& path) {
  const double sim_s = static_cast<double>(r.sim_time_ns) / 1e9;
  std::printf("scenario   %s (%s)\n", config.name.c_str(), path.c_str());
  std::printf("seed       %" PRIu64 "   trace %s\n", r.seed, hex64(r.trace_hash).c_str());
  std::printf("time       %.3f s simulated in %.3f s wall (%.0fx), %" PRIu64 " events\n", sim_s,
              r.wall_time_s, r.wall_time_s > 0 ? sim_s / r.wall_time_s : 0.0, r.events);
  std::printf("faults     %.0f injected\n", metric(r, "faults_injected"));
  // The schedule as it ran, so a reader can line anomalies up with their causes; a long
  // swarm is cut short here and given whole in --json.
  constexpr std::size_t kFaultLines = 12;
  for (std::size_t i = 0; i < r.fault_log.size() && i < kFaultLines; ++i) {
    const sim::FaultLogEntry& f = r.fault_log[i];
    std::printf("  %10.3f s  %s %s\n", static_cast<double>(f.time_ns) / 1e9,
                f.lifted ? "lift  " : "inject", f.text.c_str());
  }
  if (r.fault_log.size() > kFaultLines) {
    std::printf("  ... %zu more in --json\n", r.fault_log.size() - kFaultLines);
  }
  if (r.runaway != workloads::Runaway::none) {
    for (const std::string& f : r.failed_expectations) std::printf("RUNAWAY    %s\n", f.c_str());
    std::printf("reproduce  %s\n", reproduce_command(path, r.seed, config.run_flags).c_str());
    return;
  }
  std::printf("ops        %.0f invoked: %.0f ok, %.0f fail, %.0f info, %.0f pending;"
              " %.1f ok/s\n",
              metric(r, "ops_invoked"), metric(r, "ops_ok"), metric(r, "ops_fail"),
              metric(r, "ops_info"), metric(r, "ops_pending"), metric(r, "throughput_ok_per_s"));
  const char* lead = "latency    ";
  for (const workloads::LatencyRow& row : workloads::system_adapter(config.system).latency_rows()) {
    const std::string prefix = row.prefix;
    std::printf("%s%s p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms\n", lead, row.label,
                metric(r, prefix + "_p50"), metric(r, prefix + "_p99"),
                metric(r, prefix + "_p999"), metric(r, prefix + "_max"));
    lead = "           ";
  }
  if (r.check.metrics.count("deliveries") > 0) {
    std::printf("consume    %.0f deliveries (%.0f redelivered), %.1f/s; backlog max %.0f,"
                " at the end %.0f\n",
                metric(r, "deliveries"), metric(r, "redeliveries"),
                metric(r, "throughput_consume_per_s"), metric(r, "backlog_max"),
                metric(r, "backlog_end"));
  }
  if (r.check.anomalies.empty()) {
    std::printf("anomalies  none\n");
  } else {
    for (const auto& [name, count] : r.check.anomalies) {
      std::printf("anomaly    %s x%" PRIu64 ", first: %s\n", name.c_str(), count,
                  r.check.examples.at(name).c_str());
    }
  }
  if (r.expectations_met) {
    std::printf("expect     met (%zu expectations)\n", config.expectations.size());
  } else {
    for (const std::string& f : r.failed_expectations) std::printf("FAILED     %s\n", f.c_str());
  }
  std::printf("reproduce  %s\n", reproduce_command(path, r.seed, config.run_flags).c_str());
}

std::string result_json(const ScenarioConfig& config, const workloads::RunResult& r) {
  JsonWriter j;
  j.begin_object();
  j.key("scenario").value(config.name);
  j.key("seed").value(r.seed);
  j.key("trace_hash").value(hex64(r.trace_hash));
  j.key("sim_time_ns").value(r.sim_time_ns);
  j.key("events").value(r.events);
  j.key("wall_time_s").value(r.wall_time_s);
  j.key("anomalies").begin_object();
  for (const auto& [name, count] : r.check.anomalies) j.key(name).value(count);
  j.end_object();
  j.key("examples").begin_object();
  for (const auto& [name, text] : r.check.examples) j.key(name).value(text);
  j.end_object();
  j.key("expectations").begin_object();
  j.key("met").value(r.expectations_met);
  j.key("failed").begin_array();
  for (const std::string& f : r.failed_expectations) j.value(f);
  j.end_array();
  j.end_object();
  j.key("metrics").begin_object();
  for (const auto& [name, v] : r.check.metrics) j.key(name).value(v);
  j.end_object();
  j.key("faults").begin_array();
  for (const auto& f : r.fault_log) {
    j.begin_object();
    j.key("time_ns").value(f.time_ns);
    j.key("action").value(f.lifted ? "lifted" : "injected");
    j.key("fault").value(f.text);
    j.end_object();
  }
  j.end_array();
  j.end_object();
  return j.str() + "\n";
}

}  // namespace streamlab::cli
