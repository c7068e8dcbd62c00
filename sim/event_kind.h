#pragma once

#include <cstdint>

namespace streamlab::sim {

// What an event is, for the trace hash and the event log.
enum class EventKind : std::uint8_t {
  start,              // A node's on_start after boot or restart.
  timer,              // A node's timer fired.
  message,            // A message delivered to a node.
  connection_broken,  // A node learns that its connection to a peer broke.
  disk,               // A disk operation completed.
  fault,              // The fault schedule injected or healed a fault.
  control,            // Run control: workload phases, checkers, end of run.
};

const char* to_string(EventKind kind);

}  // namespace streamlab::sim
