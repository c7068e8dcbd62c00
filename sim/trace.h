#pragma once

// What a simulation did, event by event, for the event log (`streamlab replay`), the
// Perfetto timeline (`streamlab run --trace`) and the GUI. A sink only observes: the run
// is the same with or without one, down to the trace hash, and without one the models
// pay a null-pointer test per event.

#include <cstdint>
#include <span>
#include <string_view>

#include "runtime/runtime.h"

namespace streamlab::sim {

enum class TraceKind : std::uint8_t {
  send,        // node -> peer: a message handed to the network; bytes: its size.
  deliver,     // peer -> node: a message delivered to node; start_ns: when it was sent.
  drop,        // node -> peer: a message lost; detail: why.
  broken,      // node learns that its connection to peer broke.
  disk_write,  // node's disk completed an operation issued at start_ns; detail: the file.
  disk_fsync,
  disk_read,
  disk_truncate,
  disk_lost,   // A crash reverted `bytes` unsynced bytes of node's disk.
  crash,       // Process events of node (detail: torn, wipe, the pause's length...).
  restart,
  pause,
  clock_jump,
  fault,       // The fault schedule injected or lifted a fault; detail: its text.
  note,        // Node code said what it did (Runtime::note); detail: its words.
  disk_remove, // node's disk removed a file; detail: the file.
};

const char* to_string(TraceKind kind);

inline constexpr std::uint32_t kNoPeer = 0xffffffffu;

struct TraceEvent {
  TraceEvent(std::int64_t time, std::uint32_t node_id, TraceKind what)
      : time_ns(time), node(node_id), kind(what) {}
  TraceEvent& with_peer(std::uint32_t id) { peer = id; return *this; }
  TraceEvent& since(std::int64_t time) { start_ns = time; return *this; }
  TraceEvent& with_bytes(std::uint64_t n) { bytes = n; return *this; }
  TraceEvent& with_status(IoStatus s) { status = s; return *this; }
  TraceEvent& with_detail(std::string_view words) { detail = words; return *this; }
  TraceEvent& with_payload(std::span<const std::uint8_t> b) { payload = b; return *this; }

  std::int64_t time_ns;
  std::uint32_t node;  // kNoPeer: the run itself (faults, heal everything).
  TraceKind kind;
  std::uint32_t peer = kNoPeer;
  std::int64_t start_ns = -1;  // Spans (deliveries, disk operations): when they began.
  std::uint64_t bytes = 0;
  IoStatus status = IoStatus::ok;  // Disk operations.
  std::string_view detail;
  std::span<const std::uint8_t> payload;  // Messages: the bytes, for a describer.
};

class TraceSink {
 public:
  virtual ~TraceSink() = default;
  // Valid only during the call: views point into the model's buffers.
  virtual void record(const TraceEvent& event) = 0;
};

}  // namespace streamlab::sim
