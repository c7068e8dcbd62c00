#pragma once

// What `streamlab run` writes besides its summary for other tools: the client history
// (--history OUT.edn | OUT.jsonl), the nodes' files for `streamlab check` (--save-logs
// DIR), and the Perfetto timeline (--trace OUT.json). Set up before the run (the trace
// and the files are taken while it runs), finished after it.

#include <cstdio>
#include <memory>
#include <string>
#include <variant>

#include "base/result.h"
#include "workloads/report/perfetto_writer.h"
#include "workloads/scenario/scenario_config.h"
#include "workloads/run/scenario_runner.h"

namespace streamlab::cli {

class RunOutputs {
 public:
  RunOutputs(const workloads::ScenarioConfig& config, std::string history_path,
             std::string logs_dir, std::string trace_path);
  ~RunOutputs();
  RunOutputs(const RunOutputs&) = delete;
  RunOutputs& operator=(const RunOutputs&) = delete;

  // Hooks the outputs into the run's options; an error if a file cannot be opened or
  // --history names neither .edn nor .jsonl.
  Result<std::monostate> prepare(workloads::RunOptions& options);
  // Writes what the run left; prints where each output went.
  Result<std::monostate> finish(const workloads::RunResult& result);

 private:
  const workloads::ScenarioConfig& config_;
  std::string history_path_;
  std::string logs_dir_;
  std::string trace_path_;
  std::FILE* trace_file_ = nullptr;
  std::unique_ptr<PerfettoWriter> trace_;
  std::string logs_error_;
};

}  // namespace streamlab::cli
