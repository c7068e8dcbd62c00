#pragma once

// A simulated run as a Chrome trace-event / Perfetto JSON timeline (`streamlab run
// --trace OUT.json`, opened in ui.perfetto.dev or chrome://tracing): one process track
// per node, async spans for messages in flight (on the receiver, from send to delivery)
// and for disk operations (from issue to completion, fsyncs included), instant events
// for drops, broken connections, process events and the nodes' notes, global instants
// for faults, and counter tracks for the checker's per-second series (throughput,
// backlog, latency). Times are in microseconds of simulated time, as the format wants.

#include <cstdint>
#include <cstdio>
#include <string>

#include "sim/trace.h"
#include "workloads/checkers/check_result.h"
#include "workloads/report/event_log_writer.h"
#include "workloads/scenario/scenario_config.h"

namespace streamlab::cli {

class PerfettoWriter final : public sim::TraceSink {
 public:
  // Writes to `out` (not owned), which must stay open until finish().
  PerfettoWriter(const workloads::ScenarioConfig& config, EventFilter filter, std::FILE* out);

  void record(const sim::TraceEvent& event) override;
  // The checker's series as counter tracks, then the end of the document.
  void finish(const workloads::CheckResult& check);

  std::uint64_t written() const { return written_; }
  bool failed() const { return failed_; }

 private:
  void emit(const std::string& object);
  void async_span(std::uint32_t node, const char* category, const std::string& name,
                  std::int64_t begin_ns, std::int64_t end_ns, const std::string& args);
  void instant(std::uint32_t node, const char* category, const std::string& name,
               std::int64_t time_ns, const std::string& args);
  std::string node_name(std::uint32_t node) const;

  const workloads::ScenarioConfig& config_;
  EventFilter filter_;
  std::FILE* out_;
  std::uint64_t next_span_id_ = 1;
  std::uint64_t written_ = 0;
  bool first_ = true;
  bool failed_ = false;
};

}  // namespace streamlab::cli
