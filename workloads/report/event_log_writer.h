#pragma once

// The structured event log of a simulated run (`streamlab replay --events`): one JSON
// object per line, in the order things happened, as the trace sink (sim/trace.h) and the
// kernel's observer report them. Fields: t (ns), time (seconds, text), node, kind, and
// as they apply peer, bytes, what (a message in words), detail, status, since (ns: when
// a span began). Events outside the time window or of other nodes are left out; events
// of the run itself (faults) are kept whatever the node filter.

#include <cstdint>
#include <cstdio>
#include <set>
#include <string>

#include "sim/kernel.h"
#include "sim/trace.h"
#include "workloads/scenario/scenario_config.h"

namespace streamlab::cli {

struct EventFilter {
  std::int64_t from_ns = 0;
  std::int64_t to_ns = INT64_MAX;
  std::set<std::uint32_t> nodes;  // Empty: every node.

  bool keeps(std::int64_t time_ns, std::uint32_t node) const;
};

class EventLogWriter final : public sim::TraceSink {
 public:
  // Writes to `out` (not owned), which must stay open while the run lasts.
  EventLogWriter(const workloads::ScenarioConfig& config, EventFilter filter, std::FILE* out);

  void record(const sim::TraceEvent& event) override;
  // Timers and node starts come from the kernel; the rest of its events are the models'.
  void kernel_event(const sim::EventRecord& event);

  std::uint64_t written() const { return written_; }
  bool failed() const { return failed_; }

 private:
  std::string node_name(std::uint32_t node) const;
  void emit(const std::string& line);

  const workloads::ScenarioConfig& config_;
  EventFilter filter_;
  std::FILE* out_;
  std::uint64_t written_ = 0;
  bool failed_ = false;
};

}  // namespace streamlab::cli
