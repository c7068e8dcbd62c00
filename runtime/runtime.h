#pragma once

// The runtime seam (DESIGN.md section 2). Node code (metadata, storage, brokers, clients,
// the demo service) receives a Runtime& and uses nothing else for time, timers, messages,
// disk or randomness, so the same code runs in the simulator (sim/sim_runtime.h) and as a
// real process (runtime/asio_runtime.h) without knowing which.
//
// Contract every implementation honours:
// - Callbacks (timers, disk completions, messages) run one at a time on the node's single
//   thread; never from inside the call that scheduled them.
// - send() delivers in order on the connection to that peer until the connection breaks;
//   after a break the sender gets on_connection_broken(peer) once, and the first send after
//   that opens a new connection. Messages sent before the break may or may not have
//   arrived; messages sent after it but before the notification are dropped, so the peer
//   never receives a later message of a stream that lost an earlier one without the
//   sender having been told in between.
// - A disk write is visible to reads once its completion has run, and survives a crash only
//   after an fsync of that file has completed afterwards.
// - now() is monotonic per node and counts nanoseconds on that node's own clock.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/inline_function.h"

namespace streamlab {

using Nanos = std::int64_t;
using NodeId = std::uint32_t;
using TimerId = std::uint64_t;

inline constexpr NodeId kNoNode = 0xffffffffu;

// Operating errors of disk I/O are values, not exceptions (STYLE.md rule 5).
enum class IoStatus : std::uint8_t {
  ok,
  io_error,   // Latent sector error or device failure: the data could not be read or written.
  disk_full,  // The write would exceed the device's capacity.
};

const char* to_string(IoStatus status);

// CPU work a node declares as it does it (Runtime::charge). Sends and receives are
// charged by the runtime itself; the rest by the code that does the work.
enum class Work : std::uint8_t {
  send,            // Serializing a message and handing it to the NIC.
  receive,         // Taking a message off the NIC and parsing it.
  produce,         // Client: one application message into a batch.
  publish,         // Broker: one entry from a producer checked, deduplicated, appended.
  journal_append,  // Bookie: one entry framed into the journal's group-commit batch.
  entry_write,     // Bookie: one entry into ledger storage (write cache, then entry log).
  entry_read,      // Bookie: one entry read back for a reader.
  dispatch,        // Broker: one entry sent to a consumer.
  consume,         // Client: one message handed to the application.
};
inline constexpr std::size_t kWorkKinds = 9;
const char* to_string(Work work);

using TimerCallback = InlineFunction<void()>;
using IoCallback = InlineFunction<void(IoStatus)>;
using ReadCallback = InlineFunction<void(IoStatus, std::span<const std::uint8_t>)>;
using ListCallback = InlineFunction<void(IoStatus, std::span<const std::string>)>;

class Runtime {
 public:
  virtual ~Runtime() = default;

  virtual NodeId self() const = 0;
  virtual std::string_view node_name(NodeId id) const = 0;
  // kNoNode when no node has that name.
  virtual NodeId node_id(std::string_view name) const = 0;
  virtual std::size_t node_count() const = 0;

  virtual Nanos now() const = 0;
  virtual TimerId after(Nanos delay_ns, TimerCallback fn) = 0;
  // Cancelling a timer that already fired or was cancelled is a no-op.
  virtual void cancel(TimerId id) = 0;

  virtual void send(NodeId to, std::span<const std::uint8_t> bytes) = 0;
  // Breaks the connections with a peer in both directions, as a node does to a peer that
  // sent garbage: messages queued either way may be lost, this node gets
  // on_connection_broken(peer) once, the peer when it notices, and the next send
  // reconnects.
  virtual void disconnect(NodeId peer) = 0;

  // Offsets and lengths in bytes. A read past the end returns the bytes that exist.
  virtual void disk_write(std::string_view file, std::uint64_t offset,
                          std::span<const std::uint8_t> bytes, IoCallback done) = 0;
  virtual void disk_fsync(std::string_view file, IoCallback done) = 0;
  virtual void disk_read(std::string_view file, std::uint64_t offset, std::uint64_t length,
                         ReadCallback done) = 0;
  virtual void disk_truncate(std::string_view file, std::uint64_t size_bytes,
                             IoCallback done) = 0;
  // Removing a missing file succeeds. The removal is durable when done is called.
  virtual void disk_remove(std::string_view file, IoCallback done) = 0;
  // The names of the node's files, sorted.
  virtual void disk_list(ListCallback done) = 0;

  // This node's own stream of the run's seeded randomness.
  virtual std::uint64_t random() = 0;

  // This node just did `work` on `bytes` bytes. The simulator charges its modeled CPU
  // (DESIGN.md section 3): what the node sends or writes after this in the same callback
  // leaves once the work is done. A real process has paid the cost for real: a no-op.
  virtual void charge(Work work, std::uint64_t bytes) = 0;

  // A state change worth a line in the event log, in the node's own words ("took topic t",
  // "session expired", "ledger 7 recovered, closed at entry 41"). Observation only: the
  // simulator puts it in its event log when one is kept (never in the trace hash), a real
  // node prints it to its log with its clock's time.
  virtual void note(std::string_view what) = 0;
};

// A node is a single-threaded actor. It is constructed with its Runtime; a crash destroys
// it and a restart constructs a fresh one that must recover from its disk.
class Node {
 public:
  virtual ~Node() = default;
  virtual void on_start() = 0;
  virtual void on_message(NodeId from, std::span<const std::uint8_t> bytes) = 0;
  virtual void on_connection_broken(NodeId peer) = 0;
};

}  // namespace streamlab
