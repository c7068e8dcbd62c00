// Pulsar on BookKeeper: a metadata store, bookies, brokers, and queue clients (producers,
// consumers, transactions, pipelines). Judged by the queue checker over the history, the
// store's log and the bookies' journals.

#include "broker/pulsar/broker.h"
#include "broker/pulsar/pulsar.pb.h"
#include "broker/pulsar/wire.h"
#include "broker/storage/storage.pb.h"
#include "workloads/checkers/queue_checker.h"
#include "workloads/clients/queue_client.h"
#include "workloads/history/queue_history_io.h"
#include "workloads/systems/chart_specs.h"
#include "workloads/systems/registry.h"
#include "workloads/systems/storage_nodes.h"

namespace streamlab::workloads {

namespace {

Result<CheckResult> judge(const JudgeRequest& request, const std::vector<QueueOp>& ops) {
  const ScenarioConfig& config = *request.config;
  Result<StorageViews> storage = storage_views(config, *request.files);
  if (!storage) return Error{storage.error()};
  QueueCheckInput input;
  input.history = &ops;
  input.metadata_log = storage.value().metadata_log;
  input.bookie_files = storage.value().bookie_files;
  input.process_name = process_names(config);
  input.duration_ns = request.duration_ns;
  input.topics = config.pulsar.topics;
  input.subscriptions = config.pulsar.subscriptions;
  return check_queue(input);
}

class PulsarRun final : public SystemRun {
 public:
  PulsarRun(const ScenarioConfig& config, sim::World& world, const InstallOptions& options)
      : history_([&world] { return world.kernel().now(); }) {
    if (options.queue_ops) history_.stream_to(options.queue_ops);
    install_storage(config.bookkeeper, world);
    const pulsar::BrokerConfig broker_config = config.pulsar.broker;
    for (const std::uint32_t b : config.pulsar.brokers) {
      world.set_factory(b, [broker_config](Runtime& rt) {
        return std::make_unique<pulsar::Broker>(rt, broker_config);
      });
    }
    for (const QueueClientSpec& spec : config.queue_clients) {
      const QueueClientConfig client_config = spec.config;
      world.set_factory(spec.node, [client_config, this](Runtime& rt) {
        return std::make_unique<QueueClient>(rt, client_config, history_);
      });
    }
  }
  Result<CheckResult> check(const JudgeRequest& request) const override {
    return judge(request, history_.ops());
  }
  void take_history(RunHistory& out) override { out.queue = history_.take(); }

 private:
  QueueHistory history_;
};

class PulsarAdapter final : public SystemAdapter {
 public:
  SystemKind kind() const override { return SystemKind::pulsar; }
  std::unique_ptr<SystemRun> install(const ScenarioConfig& config, sim::World& world,
                                     const InstallOptions& options) const override {
    return std::make_unique<PulsarRun>(config, world, options);
  }
  Result<CheckResult> check_saved(const JudgeRequest& request,
                                  const std::vector<std::string>& paths) const override {
    Result<std::vector<QueueOp>> ops = merged_history<QueueOp>(paths, read_queue_history);
    if (!ops) return Error{ops.error()};
    return judge(request, ops.value());
  }
  // Brokers and clients speak the Pulsar protocol; brokers also speak to the storage
  // nodes in theirs.
  std::unique_ptr<google::protobuf::Message> parse_message(
      std::span<const std::uint8_t> bytes) const override {
    return pulsar::is_pulsar_message(bytes) ? parse_as<pulsar::PulsarMessage>(bytes)
                                            : parse_as<storage::StorageMessage>(bytes);
  }
  std::vector<MetricRow> metric_rows() const override {
    return {{"sends invoked", "ops_invoked", false},
            {"sends ok", "ops_ok", false},
            {"sends failed", "ops_fail", false},
            {"sends with unknown outcome", "ops_info", false},
            {"sends pending at the end", "ops_pending", false},
            {"deliveries", "deliveries", false},
            {"redeliveries", "redeliveries", false},
            {"acks", "acks", false},
            {"publish throughput", "throughput_publish_per_s", true},
            {"consume throughput", "throughput_consume_per_s", true},
            {"backlog max", "backlog_max", false},
            {"backlog at the end", "backlog_end", false},
            {"messages in the log", "log_messages", false},
            {"entries in the log", "log_entries", false},
            {"network messages dropped", "messages_dropped", false}};
  }
  std::vector<LatencyRow> latency_rows() const override {
    return {{"publish", "publish"}, {"end to end", "end_to_end"}};
  }
  std::vector<ChartSpec> charts() const override { return queue_charts(); }
  const LiveCharts& live_charts() const override {
    static const LiveCharts charts{
        {{"publish_rate", "A publish", "B publish"}, {"consume_rate", "A consume", "B consume"}},
        {{"Publish latency", "publish"}, {"End-to-end latency", "end_to_end"}},
        {"backlog", "A backlog", "B backlog"},
        "acked_not_in_log_total",
        true};
    return charts;
  }
  Knobs knobs(const ScenarioConfig& config) const override {
    Knobs k;
    const pulsar::BrokerConfig& b = config.pulsar.broker;
    storage_knobs(b.ledger_options, b.ledger, k);
    k.has_dedup = true;
    k.dedup = b.dedup;
    for (const QueueClientSpec& client : config.queue_clients) {
      for (const auto& p : client.config.producers) {
        if (!k.has_producers) k.linger_ns = p.producer.batching_max_publish_delay_ns;
        k.has_producers = true;
      }
    }
    k.bookies = static_cast<std::uint32_t>(config.bookkeeper.bookies.size());
    k.fsync = config.bookkeeper.bookie.journal_sync_data;
    return k;
  }
};

}  // namespace

const SystemAdapter& pulsar_adapter() {
  static const PulsarAdapter adapter;
  return adapter;
}

}  // namespace streamlab::workloads
