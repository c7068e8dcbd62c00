#include "workloads/cluster/client_process.h"

#include <signal.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <vector>

#include "base/assert.h"

namespace streamlab::cluster {

namespace {

// Ops reach the file at least this often (a killed client loses at most this much), and
// the stop condition is asked as often.
constexpr auto kTick = std::chrono::milliseconds(50);
constexpr int kTicksPerProgressLine = 20;  // About once a second.

std::vector<const ClusterNode*> client_slots(const Cluster& cluster) {
  std::vector<const ClusterNode*> slots;
  for (const ClusterNode& node : cluster.nodes) {
    if (node.role == NodeRole::client) slots.push_back(&node);
  }
  return slots;
}

std::string slot_names(const std::vector<const ClusterNode*>& slots) {
  if (slots.empty()) return "none (start the cluster with `--clients N`)";
  std::string names;
  for (const ClusterNode* slot : slots) names += (names.empty() ? "" : ", ") + slot->name;
  return names;
}

// The first slot other than `taken` whose port is free now; nullptr if none. The port is
// released again: this only suggests a slot to ask for.
const ClusterNode* free_slot(const std::vector<const ClusterNode*>& slots,
                             const ClusterNode* taken) {
  for (const ClusterNode* slot : slots) {
    if (slot != taken && LoopbackListener::open(slot->port).ok()) return slot;
  }
  return nullptr;
}

Result<ClientSlot> claim_named(Cluster cluster, const std::vector<const ClusterNode*>& slots,
                               std::string_view requested) {
  const NodeId id = cluster.id_of(requested);
  const std::string name(requested);
  if (id == kNoNode) {
    return Error{"no node named \"" + name + "\" in the cluster of " + cluster.dir +
                 "; client slots: " + slot_names(slots)};
  }
  const ClusterNode& node = cluster.nodes[id];
  if (node.role != NodeRole::client) {
    return Error{name + " is a " + to_string(node.role) + ", not a client slot; client slots: " +
                 slot_names(slots)};
  }
  Result<LoopbackListener> listener = LoopbackListener::open(node.port);
  if (!listener) {
    const ClusterNode* other = free_slot(slots, &node);
    return Error{name + " is in use (port " + std::to_string(node.port) + " taken); " +
                 (other != nullptr ? "pick another with --as " + other->name
                                   : std::string("no other client slot is free"))};
  }
  return ClientSlot{std::move(cluster), name, std::move(listener.value())};
}

// Runs one client until it stops; see run_client_process.
class ClientProcess {
 public:
  ClientProcess(ClientSlot slot, workloads::QueueClientConfig config,
                const ClientRunOptions& options, HistoryFile file, AsioRuntimeConfig runtime)
      : options_(options),
        slot_name_(slot.name),
        has_producers_(!config.producers.empty()),
        has_consumers_(!config.consumers.empty()),
        ticker_(io_),
        signals_(io_, SIGINT, SIGTERM),
        runtime_(std::make_unique<AsioRuntime>(io_, std::move(runtime),
                                               std::move(slot.listener))),
        history_(monotonic_ns),
        client_(std::make_unique<workloads::QueueClient>(*runtime_, std::move(config), history_)),
        file_(std::move(file)) {
    runtime_->attach(*client_);
  }

  Result<ClientOutcome> run() {
    outcome_.started_ns = monotonic_ns();
    if (const Result<std::uint16_t> port = runtime_->start(); !port) {
      return Error{slot_name_ + ": " + port.error()};
    }
    signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
      if (!ec) stop(ClientStop::signal, signal);
    });
    arm_ticker();
    io_.run();
    // As a node process exits (run_node.cc): the actor, then its runtime; what they
    // recorded before the stop is written below.
    client_.reset();
    runtime_.reset();
    flush();
    if (!write_error_.empty()) return Error{write_error_};
    outcome_.stopped_ns = monotonic_ns();
    return std::move(outcome_);
  }

 private:
  void arm_ticker() {
    ticker_.expires_after(kTick);
    ticker_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) tick();
    });
  }

  void tick() {
    flush();
    const std::int64_t now = monotonic_ns();
    if (!write_error_.empty()) return stop(ClientStop::done, 0);
    if (options_.done(ClientProgress{outcome_.tally, outcome_.started_ns, now})) {
      return stop(ClientStop::done, 0);
    }
    if (now - outcome_.started_ns >= options_.timeout_ns) return stop(ClientStop::timeout, 0);
    if (++ticks_ % kTicksPerProgressLine == 0) print_progress(now);
    arm_ticker();
  }

  void stop(ClientStop why, int signal) {
    outcome_.stop = why;
    outcome_.signal = signal;
    io_.stop();
  }

  // Appends what was recorded since the last flush and tallies it. A write error is kept
  // and ends the run: a history with holes would mislead the checker.
  void flush() {
    const std::vector<workloads::QueueOp> ops = history_.take();
    if (ops.empty() || !write_error_.empty()) return;
    for (const workloads::QueueOp& op : ops) outcome_.tally.add(op);
    if (Result<std::monostate> ok = file_.append(ops); !ok) write_error_ = ok.error();
  }

  void print_progress(std::int64_t now) const {
    const ClientTally& t = outcome_.tally;
    std::string line = options_.label + " (" + slot_name_ + "): " +
                       std::to_string((now - outcome_.started_ns) / 1'000'000'000) + " s:";
    if (has_producers_) {
      line += " sends " + std::to_string(t.sends_invoked()) + " (" + std::to_string(t.sends_ok()) +
              " ok, " + std::to_string(t.sends_failed()) + " failed, " +
              std::to_string(t.sends_unknown()) + " unknown, " +
              std::to_string(t.sends_invoked() - t.sends_completed()) + " in flight)";
    }
    if (has_consumers_) {
      line += std::string(has_producers_ ? ";" : "") + " deliveries " +
              std::to_string(t.deliveries()) + " (" + std::to_string(t.distinct_delivered()) +
              " distinct, " + std::to_string(t.repeated_deliveries()) + " repeated), acks " +
              std::to_string(t.acks());
    }
    std::fprintf(stderr, "%s\n", line.c_str());
  }

  const ClientRunOptions& options_;
  const std::string slot_name_;
  const bool has_producers_;
  const bool has_consumers_;
  // Declared first: it outlives everything that uses it.
  boost::asio::io_context io_;
  boost::asio::steady_timer ticker_;
  boost::asio::signal_set signals_;
  std::unique_ptr<AsioRuntime> runtime_;
  workloads::QueueHistory history_;
  std::unique_ptr<workloads::QueueClient> client_;
  HistoryFile file_;
  ClientOutcome outcome_;
  std::string write_error_;
  int ticks_ = 0;
};

}  // namespace

std::int64_t monotonic_ns() {
  // libstdc++'s steady_clock reads CLOCK_MONOTONIC, one clock for every process.
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Result<ClientSlot> claim_client_slot(const std::string& cluster_file, std::string_view requested) {
  Result<Cluster> cluster = read_cluster_file(cluster_file);
  if (!cluster) return Error{cluster.error()};
  const std::vector<const ClusterNode*> slots = client_slots(cluster.value());
  if (!requested.empty()) return claim_named(std::move(cluster.value()), slots, requested);
  for (const ClusterNode* slot : slots) {
    Result<LoopbackListener> listener = LoopbackListener::open(slot->port);
    if (!listener) continue;
    const std::string name = slot->name;
    return ClientSlot{std::move(cluster.value()), name, std::move(listener.value())};
  }
  if (slots.empty()) {
    return Error{cluster_file + ": the cluster has no client slots; start it with `streamlab "
                 "cluster up SCENARIO --clients N`"};
  }
  return Error{"every client slot of the cluster in " + cluster.value().dir + " is in use (" +
               slot_names(slots) + "); stop a client, or start the cluster with more --clients"};
}

Result<ClientOutcome> run_client_process(ClientSlot slot, workloads::QueueClientConfig config,
                                         HistoryFile history, const ClientRunOptions& options) {
  SL_ASSERT_GT(options.timeout_ns, 0);
  SL_ASSERT_NE(options.done, nullptr);
  Result<AsioRuntimeConfig> runtime = runtime_config(slot.cluster, slot.name);
  if (!runtime) return Error{runtime.error()};
  // A broker that goes away mid-write must break a connection, not end the process.
  ::signal(SIGPIPE, SIG_IGN);
  ClientProcess process(std::move(slot), std::move(config), options, std::move(history),
                        std::move(runtime.value()));
  return process.run();
}

}  // namespace streamlab::cluster
