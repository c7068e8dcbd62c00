#pragma once

// The GUI's trace sink (sim/trace.h) on one run: traffic per link for the cluster view,
// which topics each broker serves and which it was fenced out of (from the brokers'
// notes), and the event log. It lives on the run's thread; LiveRun copies what it
// gathered into snapshots.

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "sim/trace.h"

namespace streamlab::viz {

struct LogEvent {
  std::int64_t time_ns = 0;
  std::uint32_t node = sim::kNoPeer;  // kNoPeer: the run itself (a fault).
  sim::TraceKind kind = sim::TraceKind::note;
  std::uint32_t peer = sim::kNoPeer;
  std::string text;
};

class RunCollector final : public sim::TraceSink {
 public:
  // The event log keeps the first `max_events`; later ones are counted, not kept.
  RunCollector(std::uint32_t node_count, std::size_t max_events);

  void record(const sim::TraceEvent& event) override;

  // Bytes sent per (from, to) since the last call, row-major; then starts over.
  void take_link_bytes(std::vector<double>& out);
  const std::set<std::string>& owned(std::uint32_t node) const { return owned_[node]; }
  bool fenced(std::uint32_t node) const { return fenced_[node]; }
  const std::vector<LogEvent>& events() const { return events_; }
  std::uint64_t events_not_kept() const { return not_kept_; }

 private:
  void note(std::uint32_t node, std::string_view words);
  void keep(const sim::TraceEvent& event);

  std::uint32_t nodes_;
  std::size_t max_events_;
  std::vector<double> link_bytes_;
  std::vector<std::set<std::string>> owned_;
  std::vector<bool> fenced_;
  std::vector<LogEvent> events_;
  std::uint64_t not_kept_ = 0;
};

}  // namespace streamlab::viz
