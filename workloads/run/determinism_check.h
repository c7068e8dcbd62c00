#pragma once

// Compares two runs of the same seed event by event: the first run records each event,
// the second checks its own against them, and the first difference is kept with both
// sides, so a user learns where the runs parted (index, time, node, kind), not just that
// the final hashes differ.

#include <cstdint>
#include <optional>
#include <vector>

#include "sim/kernel.h"

namespace streamlab::workloads {

struct Divergence {
  sim::EventRecord first_run;
  sim::EventRecord second_run;
};

class DeterminismCheck {
 public:
  // Memory bound: events beyond this are compared only through the final hash.
  explicit DeterminismCheck(std::size_t max_recorded = 20'000'000) : max_(max_recorded) {}

  void record(const sim::EventRecord& e) {
    if (recorded_.size() < max_) recorded_.push_back(e);
  }
  void compare(const sim::EventRecord& e) {
    if (divergence_ || e.index >= recorded_.size()) return;
    if (recorded_[e.index].trace_hash != e.trace_hash) divergence_ = Divergence{recorded_[e.index], e};
  }
  // The first divergent event, if any was seen among the recorded events.
  const std::optional<Divergence>& divergence() const { return divergence_; }
  std::size_t recorded() const { return recorded_.size(); }

 private:
  std::size_t max_;
  std::vector<sim::EventRecord> recorded_;
  std::optional<Divergence> divergence_;
};

}  // namespace streamlab::workloads
