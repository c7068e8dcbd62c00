// BookKeeper alone: a metadata store, bookies, and ledger writers that append. Judged by
// the ledger checker over the store's log and the bookies' journals.

#include "broker/storage/storage.pb.h"
#include "workloads/checkers/ledger_checker.h"
#include "workloads/clients/ledger_writer.h"
#include "workloads/history/history_io.h"
#include "workloads/systems/chart_specs.h"
#include "workloads/systems/registry.h"
#include "workloads/systems/storage_nodes.h"

namespace streamlab::workloads {

namespace {

Result<CheckResult> judge(const JudgeRequest& request, const std::vector<LedgerOp>& ops) {
  const ScenarioConfig& config = *request.config;
  Result<StorageViews> storage = storage_views(config, *request.files);
  if (!storage) return Error{storage.error()};
  LedgerCheckInput input;
  input.history = &ops;
  input.metadata_log = storage.value().metadata_log;
  input.bookie_files = storage.value().bookie_files;
  input.process_name = process_names(config);
  input.duration_ns = request.duration_ns;
  return check_ledgers(input);
}

class BookKeeperRun final : public SystemRun {
 public:
  BookKeeperRun(const ScenarioConfig& config, sim::World& world)
      : history_([&world] { return world.kernel().now(); }) {
    install_storage(config.bookkeeper, world);
    for (const WriterSpec& writer : config.writers) {
      const LedgerWriterConfig writer_config = writer.config;
      world.set_factory(writer.node, [writer_config, this](Runtime& rt) {
        return std::make_unique<LedgerWriter>(rt, writer_config, history_);
      });
    }
  }
  Result<CheckResult> check(const JudgeRequest& request) const override {
    return judge(request, history_.ops());
  }
  void take_history(RunHistory& out) override { out.ledger = history_.take(); }

 private:
  LedgerHistory history_;
};

class BookKeeperAdapter final : public SystemAdapter {
 public:
  SystemKind kind() const override { return SystemKind::bookkeeper; }
  std::unique_ptr<SystemRun> install(const ScenarioConfig& config, sim::World& world,
                                     const InstallOptions&) const override {
    return std::make_unique<BookKeeperRun>(config, world);
  }
  Result<CheckResult> check_saved(const JudgeRequest& request,
                                  const std::vector<std::string>& paths) const override {
    Result<std::vector<LedgerOp>> ops = merged_history<LedgerOp>(paths, read_ledger_history);
    if (!ops) return Error{ops.error()};
    return judge(request, ops.value());
  }
  std::unique_ptr<google::protobuf::Message> parse_message(
      std::span<const std::uint8_t> bytes) const override {
    return parse_as<storage::StorageMessage>(bytes);
  }
  std::vector<MetricRow> metric_rows() const override {
    return {{"appends invoked", "ops_invoked", false},
            {"appends ok", "ops_ok", false},
            {"appends failed", "ops_fail", false},
            {"appends with unknown outcome", "ops_info", false},
            {"appends pending at the end", "ops_pending", false},
            {"throughput", "throughput_ok_per_s", true},
            {"ledgers", "ledgers", false},
            {"ledger entries", "ledger_entries", false},
            {"entries below the write quorum", "entries_below_write_quorum", false},
            {"recoveries", "recoveries", false},
            {"network messages dropped", "messages_dropped", false}};
  }
  std::vector<LatencyRow> latency_rows() const override { return {{"add", "add_latency_ms"}}; }
  std::vector<ChartSpec> charts() const override { return op_charts("appends"); }
  const LiveCharts& live_charts() const override {
    static const LiveCharts charts{{{"ok_rate", "A ok", "B ok"}, {}},
                                   {{"Latency", "add_latency_ms"}, {}},
                                   {},
                                   "lost_write_total",
                                   true};
    return charts;
  }
  Knobs knobs(const ScenarioConfig& config) const override {
    Knobs k;
    const LedgerWriterConfig& w = config.bookkeeper.writer_defaults;
    storage_knobs(w.options, w.ledger, k);
    k.bookies = static_cast<std::uint32_t>(config.bookkeeper.bookies.size());
    k.fsync = config.bookkeeper.bookie.journal_sync_data;
    return k;
  }
};

}  // namespace

const SystemAdapter& bookkeeper_adapter() {
  static const BookKeeperAdapter adapter;
  return adapter;
}

}  // namespace streamlab::workloads
