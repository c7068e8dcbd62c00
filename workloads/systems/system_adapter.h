#pragma once

// One system under test as the workbench sees it (counter, bookkeeper, pulsar): the one
// place that knows the system's kind. Its adapter builds the system's nodes and clients
// into a world and records their history, judges a run (live or saved) with the system's
// checker, reads the system's messages for the event log, and lists what the report
// shows and the knobs the GUI offers. Everything above this layer asks the adapter;
// adding a system is its adapter folder plus one line in registry.cc (and its section
// of the scenario schema and loader).

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <google/protobuf/message.h>

#include "base/result.h"
#include "sim/world.h"
#include "workloads/checkers/check_result.h"
#include "workloads/history/queue_history.h"
#include "workloads/history/run_history.h"
#include "workloads/scenario/scenario_config.h"
#include "workloads/systems/knobs.h"
#include "workloads/systems/node_files.h"

namespace streamlab::workloads {

struct InstallOptions {
  // When set, queue clients' ops go here as they happen and the history keeps none.
  std::function<void(const QueueOp&)> queue_ops;
};

// What a check judges besides the history.
struct JudgeRequest {
  const ScenarioConfig* config = nullptr;
  NodeFiles* files = nullptr;
  std::int64_t duration_ns = 0;
  bool at_end = true;  // Liveness is judged at the end only.
};

// A system installed in one run's world: it holds the clients' history.
class SystemRun {
 public:
  virtual ~SystemRun() = default;
  // The checker's verdict on the history so far and the nodes' files as they are.
  virtual Result<CheckResult> check(const JudgeRequest& request) const = 0;
  virtual void take_history(RunHistory& out) = 0;
};

// What the HTML report shows of a run besides its anomalies.
struct MetricRow {
  const char* label;
  const char* metric;
  bool per_s;  // A rate ("12.5/s"), else a count.
};
struct LatencyRow {
  const char* label;   // "publish"
  const char* prefix;  // Of the metrics PREFIX_p50, _p99, _p999, _max (milliseconds).
};
struct ChartLineSpec {
  std::string series;
  std::string label;
};
struct ChartSpec {
  std::string id;
  std::string title;
  std::string y_label;
  bool log_y = false;
  std::vector<ChartLineSpec> lines;
  std::string note;
};

// The GUI's live charts of runs A and B, in names that live as long as the program, so
// that drawing a frame allocates nothing.
struct LiveSeries {
  const char* series = nullptr;  // Null: no such line.
  const char* label_a = "";
  const char* label_b = "";
};
struct LiveLatency {
  const char* title = nullptr;  // Null: no such chart.
  const char* prefix = "";      // Of the series PREFIX_p50, _p99, _p999.
};
struct LiveCharts {
  LiveSeries throughput[2];
  LiveLatency latency[2];
  LiveSeries backlog;
  const char* lost_series = "";  // Acknowledged, then lost (running count).
  bool quorums = false;          // Entries below Qw / Qa are charted.
};

class SystemAdapter {
 public:
  virtual ~SystemAdapter() = default;

  virtual SystemKind kind() const = 0;

  virtual std::unique_ptr<SystemRun> install(const ScenarioConfig& config, sim::World& world,
                                             const InstallOptions& options) const = 0;
  // Judges the histories saved as JSON lines (merged by time) with the nodes' files.
  virtual Result<CheckResult> check_saved(const JudgeRequest& request,
                                          const std::vector<std::string>& history_paths) const = 0;

  // The envelope the system's nodes send, parsed; null when the bytes are not one.
  virtual std::unique_ptr<google::protobuf::Message> parse_message(
      std::span<const std::uint8_t> bytes) const = 0;

  virtual std::vector<MetricRow> metric_rows() const = 0;
  virtual std::vector<LatencyRow> latency_rows() const = 0;
  virtual std::vector<ChartSpec> charts() const = 0;
  virtual const LiveCharts& live_charts() const = 0;

  virtual Knobs knobs(const ScenarioConfig& config) const = 0;
};

const SystemAdapter& system_adapter(SystemKind kind);

// `bytes` parsed as a message M; null when they are not one (for parse_message).
template <typename M>
std::unique_ptr<google::protobuf::Message> parse_as(std::span<const std::uint8_t> bytes) {
  auto m = std::make_unique<M>();
  if (!m->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return nullptr;
  return m;
}

}  // namespace streamlab::workloads
