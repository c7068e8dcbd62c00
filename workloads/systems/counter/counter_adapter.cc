// The durable counter (broker/demo): one server that appends adds to its log, and clients
// that add. Judged by the counter checker.

#include <algorithm>

#include "broker/demo/counter.pb.h"
#include "broker/demo/counter_log.h"
#include "broker/demo/counter_server.h"
#include "workloads/checkers/counter_checker.h"
#include "workloads/clients/counter_client.h"
#include "workloads/history/history_io.h"
#include "workloads/systems/chart_specs.h"
#include "workloads/systems/registry.h"
#include "workloads/systems/storage_nodes.h"

namespace streamlab::workloads {

namespace {

// Adds invoked later than the longest client timeout before the end cannot finish; a
// liveness run does not count them.
std::int64_t max_client_timeout_ns(const ScenarioConfig& config) {
  std::int64_t max_timeout_ns = 0;
  for (const ClientSpec& c : config.clients) {
    max_timeout_ns = std::max(max_timeout_ns, c.config.timeout_ns);
  }
  return max_timeout_ns;
}

Result<CheckResult> judge(const JudgeRequest& request, const std::vector<Op>& ops) {
  const ScenarioConfig& config = *request.config;
  Result<std::span<const std::uint8_t>> log =
      request.files->file(config.counter.server, demo::kCounterLogFile);
  if (!log) return Error{log.error()};
  CounterCheckInput input;
  input.history = &ops;
  input.server_log = log.value();
  input.process_name = process_names(config);
  input.duration_ns = request.duration_ns;
  if (request.at_end && config.has_swarm && config.swarm.liveness) {
    input.recover_by_ns = config.swarm.stop_ns + config.recovery_bound_ns;
    input.settle_by_ns = config.duration_ns - max_client_timeout_ns(config);
  }
  return check_counter(input);
}

class CounterRun final : public SystemRun {
 public:
  CounterRun(const ScenarioConfig& config, sim::World& world)
      : history_([&world] { return world.kernel().now(); }) {
    const demo::CounterServerConfig server_config = config.counter.server_config;
    world.set_factory(config.counter.server, [server_config](Runtime& rt) {
      return std::make_unique<demo::CounterServer>(rt, server_config);
    });
    for (const ClientSpec& client : config.clients) {
      const CounterClientConfig client_config = client.config;
      world.set_factory(client.node, [client_config, this](Runtime& rt) {
        return std::make_unique<CounterClient>(rt, client_config, history_);
      });
    }
  }
  Result<CheckResult> check(const JudgeRequest& request) const override {
    return judge(request, history_.ops());
  }
  void take_history(RunHistory& out) override { out.counter = history_.take(); }

 private:
  History history_;
};

class CounterAdapter final : public SystemAdapter {
 public:
  SystemKind kind() const override { return SystemKind::counter; }
  std::unique_ptr<SystemRun> install(const ScenarioConfig& config, sim::World& world,
                                     const InstallOptions&) const override {
    return std::make_unique<CounterRun>(config, world);
  }
  Result<CheckResult> check_saved(const JudgeRequest& request,
                                  const std::vector<std::string>& paths) const override {
    Result<std::vector<Op>> ops = merged_history<Op>(paths, read_counter_history);
    if (!ops) return Error{ops.error()};
    return judge(request, ops.value());
  }
  std::unique_ptr<google::protobuf::Message> parse_message(
      std::span<const std::uint8_t> bytes) const override {
    return parse_as<demo::CounterMessage>(bytes);
  }
  std::vector<MetricRow> metric_rows() const override {
    return {{"adds invoked", "ops_invoked", false},
            {"adds ok", "ops_ok", false},
            {"adds failed", "ops_fail", false},
            {"adds with unknown outcome", "ops_info", false},
            {"adds pending at the end", "ops_pending", false},
            {"throughput", "throughput_ok_per_s", true},
            {"records in the server's log", "log_records", false},
            {"network messages dropped", "messages_dropped", false}};
  }
  std::vector<LatencyRow> latency_rows() const override { return {{"add", "add_latency_ms"}}; }
  std::vector<ChartSpec> charts() const override { return op_charts("adds"); }
  const LiveCharts& live_charts() const override {
    static const LiveCharts charts{{{"ok_rate", "A ok", "B ok"}, {}},
                                   {{"Latency", "add_latency_ms"}, {}},
                                   {},
                                   "lost_write_total",
                                   false};
    return charts;
  }
  Knobs knobs(const ScenarioConfig& config) const override {
    Knobs k;
    k.fsync = config.counter.server_config.fsync;
    return k;
  }
};

}  // namespace

const SystemAdapter& counter_adapter() {
  static const CounterAdapter adapter;
  return adapter;
}

}  // namespace streamlab::workloads
