#pragma once

// A simulated cluster: the kernel, the topology, the network, one disk per node, and the
// node actors. It owns everything of one simulation, so two worlds can live in one
// process. Process fault model:
// - crash: the actor is destroyed with its memory; its pending timers, deliveries and
//   disk completions never run; the disk loses what was not durable; its connections
//   break and peers learn of it. Until restart the node refuses connections.
// - restart: the factory builds a fresh actor, which must recover from its disk.
// - pause: the node runs nothing for the duration (a stop-the-world GC, a SIGSTOP);
//   events due meanwhile run at resume, in order, and now() has jumped. Connections stay
//   up, as TCP's do through a short pause.
// - clock jump: the node's clock moves by a delta; now() stays monotonic.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/runtime.h"
#include "sim/cpu.h"
#include "sim/disk.h"
#include "sim/kernel.h"
#include "sim/network.h"
#include "sim/sim_runtime.h"
#include "sim/topology.h"
#include "sim/trace.h"

namespace streamlab::sim {

using NodeFactory = std::function<std::unique_ptr<Node>(Runtime&)>;

enum class NodeState : std::uint8_t { idle, up, crashed };

class World final : public NetworkHost {
 public:
  World(Topology topology, std::uint64_t seed);
  World(const World&) = delete;
  World& operator=(const World&) = delete;
  ~World() override;

  Kernel& kernel() { return kernel_; }
  const Kernel& kernel() const { return kernel_; }
  Network& network() { return *network_; }
  const Topology& topology() const { return topology_; }
  std::uint32_t node_count() const { return static_cast<std::uint32_t>(nodes_.size()); }
  std::uint32_t node_id(std::string_view name) const;  // kNoNode if absent.
  std::vector<std::uint32_t> nodes_in_zone(std::uint32_t zone) const;
  SimDisk& disk(std::uint32_t node) { return *nodes_[node].disk; }
  SimCpu& cpu(std::uint32_t node) { return cpus_[node]; }
  SimRuntime& runtime(std::uint32_t node) { return *nodes_[node].runtime; }
  Node* actor(std::uint32_t node) { return nodes_[node].actor.get(); }
  NodeState state(std::uint32_t node) const { return nodes_[node].state; }
  bool paused(std::uint32_t node) const { return kernel_.paused(node); }

  // The factory builds the node's actor at start and at every restart.
  void set_factory(std::uint32_t node, NodeFactory factory);
  // Builds every node that has a factory and schedules its on_start at the current time.
  void start();
  void run_until(std::int64_t time_ns) { kernel_.run_until(time_ns); }

  // Process faults.
  // torn: the newest unsynced disk write may survive as a prefix. wipe: the disk is
  // destroyed too (also when the node was already down).
  void crash(std::uint32_t node, bool torn = false, bool wipe = false);
  void restart(std::uint32_t node);
  void pause(std::uint32_t node, std::int64_t duration_ns);
  void jump_clock(std::uint32_t node, std::int64_t delta_ns);

  // Every model's events, process events, faults and node notes go to `sink` (null:
  // nowhere). Set it before start(); the sink must outlive the world's use of it.
  void set_trace_sink(TraceSink* sink);
  TraceSink* trace_sink() const { return sink_; }
  void trace(const TraceEvent& event) {
    if (sink_ != nullptr) sink_->record(event);
  }
  void trace_note(std::uint32_t node, std::string_view what) {
    trace(TraceEvent(kernel_.now(), node, TraceKind::note).with_detail(what));
  }

  // NetworkHost.
  void deliver(std::uint32_t from, std::uint32_t to,
               std::span<const std::uint8_t> bytes) override;
  void connection_broken(std::uint32_t node, std::uint32_t peer) override;

 private:
  struct NodeSlot {
    NodeFactory factory;
    std::unique_ptr<SimDisk> disk;
    std::unique_ptr<SimRuntime> runtime;
    std::unique_ptr<Node> actor;
    NodeState state = NodeState::idle;
  };

  void boot(std::uint32_t node);

  Topology topology_;
  Kernel kernel_;
  std::vector<SimCpu> cpus_;
  std::unique_ptr<Network> network_;
  std::vector<NodeSlot> nodes_;
  std::map<std::string, std::uint32_t, std::less<>> ids_;
  TraceSink* sink_ = nullptr;
};

}  // namespace streamlab::sim
