#pragma once

// A run's fault log (sim/faults.h FaultLogEntry: time, injected or lifted, text) as
// stretches of time, for the report's charts. The log says what happened, not what a
// fault spans, so the spans are read from it:
// - an injection lasts until the first later lift with the same text (the injector logs
//   a lift in the words of its injection);
// - a pause is never lifted, it ends by itself: it lasts the length its text gives
//   ("pause broker-a for 15s");
// - connection_reset, heal_network, restart, clock_jump and zone_restore are instants, as
//   is a lift that closes no injection, such as "heal everything (liveness phase)";
// - a fault that stays until something heals it lasts until that: a crash until a restart
//   of the same nodes, a zone_kill or zone_isolate until a zone_restore of the zone, a
//   partition or clog until a heal_network, anything until the liveness heal; else it
//   lasts to the end of the run (until_end).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/faults.h"

namespace streamlab::workloads {

struct FaultWindow {
  std::size_t log_index = 0;  // Of the entry that began it.
  std::int64_t from_ns = 0;
  std::int64_t to_ns = 0;  // == from_ns: an instant.
  std::string text;        // The entry's text.
  bool until_end = false;  // Never lifted or healed: cut at the run's end.
};

// In log order. Every entry's time must lie in [0, end_ns].
std::vector<FaultWindow> fault_windows(const std::vector<sim::FaultLogEntry>& log,
                                       std::int64_t end_ns);

// The text without its trailing origin ("(file:line)" or "(swarm)"): short enough for a
// chart's label; the fault table keeps the whole text.
std::string without_origin(const std::string& text);

}  // namespace streamlab::workloads
