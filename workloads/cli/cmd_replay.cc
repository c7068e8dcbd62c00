// `streamlab replay FILE --seed N`: the run again, this time with its structured event
// log, so a failing seed becomes a story one can read (or grep, or feed to jq). The
// replay must be the run it claims to be: it runs once plain and once with the log, and
// refuses (exit 3) if the two trace hashes differ.

#include <cinttypes>
#include <cstdio>
#include <memory>
#include <string>

#include "workloads/cli/cli.h"
#include "workloads/report/event_log_writer.h"
#include "workloads/scenario/scenario_loader.h"
#include "workloads/scenario/units.h"

namespace streamlab::cli {

namespace {

constexpr const char* kReplayUsageFormat = R"(usage: streamlab replay FILE [--seed N] [--events OUT.jsonl] [--from T] [--to T]
                        [--node NAME ...] [--duration D] [--max-events N] [--max-memory M]

Runs the scenario FILE with seed N twice: once as `streamlab run` does, once writing the
structured event log, and checks that both have the same trace hash (the log is of the
very run that was judged). One JSON object per line, in the order things happened:

  {"t":12310000123,"time":"12.310000s","node":"broker-a","kind":"send","peer":"bookie-2",
   "bytes":1088,"what":"add_entry {ledger_id: 7 entry_id: 402 lac: 401 payload: <1034 bytes>}"}

kinds: send, deliver (since: when it was sent), drop (detail: why), broken (a node
learns its connection to peer broke), timer, start, disk_write / disk_fsync / disk_read /
disk_truncate (file, status, since: when issued), disk_lost (a crash reverted unsynced
bytes), crash, restart, pause, clock_jump, fault (node "run": what the schedule injected
or lifted), note (what node code says it did: "took ownership", "recovered, closed at
entry 402", "fences ledger 7"...).

  --seed N           the seed (default: the scenario's own)
  --events OUT       where the log goes (default: standard output; the summary goes to
                     standard error)
  --from T, --to T   only events in [T, T], e.g. --from 12s --to 12.5s
  --node NAME        only events of these nodes (repeat the flag for several); a message
                     is kept when either end is named, faults always
%s                     A runaway seed is logged up to where its budget stopped it: the
                     --from/--to window just before that shows the loop.

exit codes: 0 replayed (whatever the checker found), 2 bad input, 3 the replay's trace
            differs from the run's (a determinism bug: please report it), 5 the run
            went over its budget and was logged up to its stop
)";

std::string usage_text() {
  char buffer[4096];
  std::snprintf(buffer, sizeof buffer, kReplayUsageFormat, run_control_help(21).c_str());
  return buffer;
}

int fail(const std::string& message) {
  std::fprintf(stderr, "streamlab replay: %s\n", message.c_str());
  return kExitBadInput;
}

Result<std::int64_t> time_flag(const Args& args, const char* flag, std::int64_t fallback) {
  const auto it = args.flags.find(flag);
  if (it == args.flags.end()) return fallback;
  const Result<std::int64_t> t = workloads::parse_duration_ns(it->second);
  if (!t) return Error{std::string(flag) + ": " + t.error()};
  return t.value();
}

}  // namespace

int cmd_replay(int argc, char** argv) {
  std::string error;
  const std::string usage = usage_text();
  const auto args = parse_args(
      argc, argv, with_run_control_flags({"--seed", "--events", "--from", "--to", "--node"}), {}, &error);
  if (!args) return usage_error("replay", error, usage.c_str());
  if (args->help) {
    std::fputs(usage.c_str(), stdout);
    return kExitOk;
  }
  const Result<workloads::RunBudget> budget = parse_budget(*args);
  if (!budget) return usage_error("replay", budget.error(), usage.c_str());
  const Result<workloads::ScenarioOverrides> overrides = parse_overrides(*args);
  if (!overrides) return usage_error("replay", overrides.error(), usage.c_str());
  if (args->positional.size() != 1) {
    return usage_error("replay", "expected exactly one scenario FILE", usage.c_str());
  }
  std::uint64_t seed = 0;
  if (args->flags.count("--seed") && (!parse_u64(args->flags.at("--seed"), &seed) || seed == 0)) {
    return usage_error("replay", "--seed needs a positive integer", usage.c_str());
  }
  const std::string& path = args->positional[0];
  const auto config = workloads::load_scenario(path, overrides.value());
  if (!config) {
    std::fprintf(stderr, "%s\n", config.error().c_str());
    return kExitBadInput;
  }
  EventFilter filter;
  const Result<std::int64_t> from = time_flag(*args, "--from", 0);
  const Result<std::int64_t> to = time_flag(*args, "--to", INT64_MAX);
  if (!from) return usage_error("replay", from.error(), usage.c_str());
  if (!to) return usage_error("replay", to.error(), usage.c_str());
  if (from.value() > to.value()) return usage_error("replay", "--from is after --to", usage.c_str());
  filter.from_ns = from.value();
  filter.to_ns = to.value();
  if (const auto names = args->all_values.find("--node"); names != args->all_values.end()) {
    for (const std::string& name : names->second) {
      bool found = false;
      for (std::uint32_t id = 0; id < config.value().topology.nodes.size(); ++id) {
        if (config.value().topology.nodes[id].name == name) {
          filter.nodes.insert(id);
          found = true;
        }
      }
      if (!found) return fail("--node: no node named \"" + name + "\" in " + path);
    }
  }

  workloads::RunOptions plain;
  plain.seed = seed;
  plain.budget = budget.value();
  const workloads::RunResult original = workloads::run_scenario(config.value(), plain);

  const std::string out_path = args->flags.count("--events") ? args->flags.at("--events") : "-";
  std::FILE* out = out_path == "-" ? stdout : std::fopen(out_path.c_str(), "w");
  if (out == nullptr) return fail("cannot write " + out_path);
  EventLogWriter log(config.value(), filter, out);
  workloads::RunOptions logged;
  logged.seed = original.seed;
  logged.budget = budget.value();
  logged.trace_sink = &log;
  logged.observer = [&log](const sim::EventRecord& e) { log.kernel_event(e); };
  const workloads::RunResult replayed = workloads::run_scenario(config.value(), logged);
  const bool closed = out == stdout ? std::fflush(stdout) == 0 : std::fclose(out) == 0;
  if (log.failed() || !closed) return fail("writing " + out_path + " failed");

  std::fprintf(stderr, "replay     %s seed %" PRIu64 ": %" PRIu64 " events logged%s%s\n",
               path.c_str(), original.seed, log.written(),
               out == stdout ? "" : " to ", out == stdout ? "" : out_path.c_str());
  std::fprintf(stderr, "trace      run %s, replay %s\n", hex64(original.trace_hash).c_str(),
               hex64(replayed.trace_hash).c_str());
  if (replayed.trace_hash != original.trace_hash || replayed.events != original.events) {
    std::fprintf(stderr, "NOT THE SAME RUN: the replay's trace differs from the run's; the log "
                         "does not describe the judged run\n");
    return kExitNondeterministic;
  }
  if (replayed.runaway != workloads::Runaway::none) {
    std::fprintf(stderr, "runaway    stopped at %.9f s of simulated time after %" PRIu64
                         " events: the log ends there\n",
                 static_cast<double>(replayed.sim_time_ns) / 1e9, replayed.events);
    return kExitRunaway;
  }
  if (replayed.check.anomalies.empty()) {
    std::fprintf(stderr, "anomalies  none\n");
  } else {
    for (const auto& [name, count] : replayed.check.anomalies) {
      std::fprintf(stderr, "anomaly    %s x%" PRIu64 ", first: %s\n", name.c_str(), count,
                   replayed.check.examples.at(name).c_str());
    }
  }
  return kExitOk;
}

}  // namespace streamlab::cli
