#include "workloads/report/run_outputs.h"

#include <cinttypes>

#include "workloads/report/files.h"
#include "workloads/run/reproduce.h"
#include "workloads/report/history_export.h"
#include "workloads/run/saved_run.h"

namespace streamlab::cli {

using workloads::hex64;
using workloads::ScenarioConfig;
using workloads::write_file;
using workloads::write_file_atomically;

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

RunOutputs::RunOutputs(const workloads::ScenarioConfig& config, std::string history_path,
                       std::string logs_dir, std::string trace_path)
    : config_(config),
      history_path_(std::move(history_path)),
      logs_dir_(std::move(logs_dir)),
      trace_path_(std::move(trace_path)) {}

RunOutputs::~RunOutputs() {
  if (trace_file_ != nullptr) std::fclose(trace_file_);
}

Result<std::monostate> RunOutputs::prepare(workloads::RunOptions& options) {
  if (!history_path_.empty()) {
    if (!ends_with(history_path_, ".edn") && !ends_with(history_path_, ".jsonl")) {
      return Error{"--history: " + history_path_ + " must end in .edn (Jepsen) or .jsonl"};
    }
    options.keep_history = true;
  }
  if (!logs_dir_.empty()) {
    options.at_end = [this](sim::World& world) {
      const Result<std::monostate> saved = workloads::save_node_files(world, config_, logs_dir_);
      if (!saved) logs_error_ = saved.error();
    };
  }
  if (!trace_path_.empty()) {
    trace_file_ = std::fopen(trace_path_.c_str(), "w");
    if (trace_file_ == nullptr) return Error{"cannot write " + trace_path_};
    trace_ = std::make_unique<PerfettoWriter>(config_, EventFilter{}, trace_file_);
    options.trace_sink = trace_.get();
  }
  return std::monostate{};
}

Result<std::monostate> RunOutputs::finish(const workloads::RunResult& result) {
  if (!history_path_.empty()) {
    const std::string text = ends_with(history_path_, ".edn")
                                 ? history_edn(config_, result)
                                 : history_jsonl(config_, result);
    std::string error;
    if (!write_file(history_path_, text, &error)) return Error{error};
    std::printf("history    %s\n", history_path_.c_str());
  }
  if (!logs_dir_.empty()) {
    if (!logs_error_.empty()) return Error{logs_error_};
    std::printf("node files %s (judge again: streamlab check SCENARIO HISTORY --logs %s)\n",
                logs_dir_.c_str(), logs_dir_.c_str());
  }
  if (trace_ != nullptr) {
    trace_->finish(result.check);
    const bool closed = std::fclose(trace_file_) == 0;
    trace_file_ = nullptr;
    if (trace_->failed() || !closed) return Error{"writing " + trace_path_ + " failed"};
    std::printf("trace      %s, %" PRIu64 " events (open in ui.perfetto.dev)\n",
                trace_path_.c_str(), trace_->written());
  }
  return std::monostate{};
}

}  // namespace streamlab::cli
