#pragma once

// A queue workload client (workloads/queue_client.h) as a process of a local cluster
// (DESIGN.md section 7), as `streamlab produce` and `streamlab consume` run it: it takes
// one of the cluster's client slots (its name and port in every node's peer table), runs
// the QueueClient on an AsioRuntime on the calling thread, and streams its history to a
// file with CLOCK_MONOTONIC timestamps (std::chrono::steady_clock on Linux), which every
// process on the machine shares, so histories of several client processes can be judged
// together (`streamlab cluster check`).

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "runtime/asio_runtime.h"
#include "workloads/cluster/client_tally.h"
#include "workloads/cluster/cluster.h"
#include "workloads/cluster/history_file.h"
#include "workloads/clients/queue_client.h"

namespace streamlab::cluster {

// A client slot taken by this process: its port is bound (and listening) from the moment
// it is claimed, so no other process can take it before the client runs.
struct ClientSlot {
  Cluster cluster;
  std::string name;
  LoopbackListener listener;
};

// Reads the cluster file and claims slot `requested`, or, when it is empty, the first
// client slot whose port is free. An error (bad input) names the problem: the file, a
// name that is not a client slot, a slot in use (and a free one to pick instead), no
// free slot.
Result<ClientSlot> claim_client_slot(const std::string& cluster_file, std::string_view requested);

// Nanoseconds of CLOCK_MONOTONIC, the clock of client histories.
std::int64_t monotonic_ns();

enum class ClientStop : std::uint8_t { done, timeout, signal };

// What the run's stop condition sees, on the client's thread after each append.
struct ClientProgress {
  const ClientTally& tally;
  std::int64_t started_ns = 0;  // monotonic_ns() when the client started.
  std::int64_t now_ns = 0;
};

struct ClientRunOptions {
  std::int64_t timeout_ns = 0;  // > 0.
  std::function<bool(const ClientProgress&)> done;
  // Names the process in its progress lines on stderr, e.g. "streamlab produce".
  std::string label;
};

struct ClientOutcome {
  ClientStop stop = ClientStop::done;
  int signal = 0;  // ClientStop::signal: which one.
  ClientTally tally;
  std::int64_t started_ns = 0;
  std::int64_t stopped_ns = 0;
};

// Runs the client until `done` holds, the timeout passes, or SIGINT / SIGTERM comes
// (SIGPIPE is ignored: a broker that goes away breaks a connection, not the process).
// Every op is appended to `history` at least every 100 ms and at the end, and a progress
// line goes to stderr about once a second. An error if the history cannot be written
// (the run stops then) or the runtime cannot start.
Result<ClientOutcome> run_client_process(ClientSlot slot, workloads::QueueClientConfig config,
                                         HistoryFile history, const ClientRunOptions& options);

}  // namespace streamlab::cluster
