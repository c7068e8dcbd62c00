#include "sim/world.h"

#include <algorithm>
#include <cstdio>

#include "base/assert.h"

namespace streamlab::sim {

namespace {

// Stream ids for Rng::fork, so adding a subsystem never shifts another's randomness.
constexpr std::uint64_t kNetworkStream = 1;
constexpr std::uint64_t kNodeStreamBase = 1'000;
constexpr std::uint64_t kDiskStreamBase = 1'000'000;

}  // namespace

World::World(Topology topology, std::uint64_t seed)
    : topology_(std::move(topology)), kernel_(seed) {
  SL_ASSERT_MSG(!topology_.nodes.empty(), "a world needs at least one node");
  for (const NodeSpec& spec : topology_.nodes) cpus_.emplace_back(spec.hardware.cpu);
  network_ = std::make_unique<Network>(kernel_, topology_, kernel_.rng().fork(kNetworkStream),
                                       *this, cpus_);
  nodes_.resize(topology_.nodes.size());
  for (std::uint32_t n = 0; n < nodes_.size(); ++n) {
    const NodeSpec& spec = topology_.nodes[n];
    SL_ASSERT_LT(spec.zone, topology_.zones.size());
    const std::uint32_t gate = kernel_.add_node();
    SL_ASSERT_EQ(gate, n);
    const bool inserted = ids_.emplace(spec.name, n).second;
    SL_ASSERT_MSG(inserted, "duplicate node name");
    nodes_[n].disk = std::make_unique<SimDisk>(kernel_, n, spec.hardware.disk,
                                               kernel_.rng().fork(kDiskStreamBase + n),
                                               spec.hardware.journal_disk);
    nodes_[n].runtime = std::make_unique<SimRuntime>(
        *this, n, spec.clock_offset_ns, spec.clock_drift_ppm,
        kernel_.rng().fork(kNodeStreamBase + n));
  }
}

// Actors go first: their destructors may still refer to their runtime.
World::~World() {
  for (auto& slot : nodes_) slot.actor.reset();
}

std::uint32_t World::node_id(std::string_view name) const {
  const auto it = ids_.find(name);
  return it == ids_.end() ? kNoNode : it->second;
}

std::vector<std::uint32_t> World::nodes_in_zone(std::uint32_t zone) const {
  std::vector<std::uint32_t> result;
  for (std::uint32_t n = 0; n < topology_.nodes.size(); ++n) {
    if (topology_.nodes[n].zone == zone) result.push_back(n);
  }
  return result;
}

void World::set_factory(std::uint32_t node, NodeFactory factory) {
  SL_ASSERT_LT(node, nodes_.size());
  SL_ASSERT_EQ(nodes_[node].state, NodeState::idle);
  nodes_[node].factory = std::move(factory);
}

void World::start() {
  for (std::uint32_t n = 0; n < nodes_.size(); ++n) {
    if (nodes_[n].factory && nodes_[n].state == NodeState::idle) boot(n);
  }
}

void World::boot(std::uint32_t node) {
  NodeSlot& slot = nodes_[node];
  SL_ASSERT(slot.factory);
  kernel_.bump_incarnation(node);
  kernel_.set_down(node, false);
  network_->node_up(node);
  slot.actor = slot.factory(*slot.runtime);
  SL_ASSERT_NE(slot.actor, nullptr);
  slot.state = NodeState::up;
  kernel_.schedule_after(0, node, EventKind::start, [this, node] {
    nodes_[node].actor->on_start();
  });
}

void World::crash(std::uint32_t node, bool torn, bool wipe) {
  SL_ASSERT_LT(node, nodes_.size());
  NodeSlot& slot = nodes_[node];
  if (slot.state != NodeState::up) {
    if (wipe) slot.disk->wipe();
    return;
  }
  // Order matters: the incarnation bump drops the node's pending timers, deliveries and
  // disk completions before the disk forgets its queue.
  trace(TraceEvent(kernel_.now(), node, TraceKind::crash)
            .with_detail(wipe ? (torn ? "torn, disk destroyed" : "disk destroyed")
                              : (torn ? "torn" : "")));
  kernel_.bump_incarnation(node);
  kernel_.set_down(node, true);
  kernel_.pause_until(node, kernel_.now());
  slot.disk->crash(torn);
  if (wipe) slot.disk->wipe();
  network_->node_crashed(node);
  slot.actor.reset();
  slot.state = NodeState::crashed;
}

void World::restart(std::uint32_t node) {
  SL_ASSERT_LT(node, nodes_.size());
  if (nodes_[node].state != NodeState::crashed) return;
  trace(TraceEvent(kernel_.now(), node, TraceKind::restart));
  boot(node);
}

void World::pause(std::uint32_t node, std::int64_t duration_ns) {
  SL_ASSERT_LT(node, nodes_.size());
  SL_ASSERT_GE(duration_ns, 0);
  if (nodes_[node].state != NodeState::up) return;
  // Overlapping pauses extend each other; a shorter one never ends a longer one early.
  const std::int64_t until = std::max(kernel_.paused_until(node), kernel_.now() + duration_ns);
  kernel_.pause_until(node, until);
  if (sink_ != nullptr) {
    char words[48];
    std::snprintf(words, sizeof words, "for %.3f ms",
                  static_cast<double>(until - kernel_.now()) / 1e6);
    trace(TraceEvent(kernel_.now(), node, TraceKind::pause).with_detail(words));
  }
}

void World::jump_clock(std::uint32_t node, std::int64_t delta_ns) {
  SL_ASSERT_LT(node, nodes_.size());
  nodes_[node].runtime->jump_clock(delta_ns);
  if (sink_ != nullptr) {
    char words[48];
    std::snprintf(words, sizeof words, "by %+.3f ms", static_cast<double>(delta_ns) / 1e6);
    trace(TraceEvent(kernel_.now(), node, TraceKind::clock_jump).with_detail(words));
  }
}

void World::set_trace_sink(TraceSink* sink) {
  sink_ = sink;
  network_->set_trace_sink(sink);
  for (NodeSlot& slot : nodes_) slot.disk->set_trace_sink(sink);
}

void World::deliver(std::uint32_t from, std::uint32_t to, std::span<const std::uint8_t> bytes) {
  NodeSlot& slot = nodes_[to];
  // Events of a crashed incarnation never run, so the receiver is always up here.
  SL_ASSERT_EQ(slot.state, NodeState::up);
  slot.actor->on_message(from, bytes);
}

void World::connection_broken(std::uint32_t node, std::uint32_t peer) {
  NodeSlot& slot = nodes_[node];
  SL_ASSERT_EQ(slot.state, NodeState::up);
  slot.actor->on_connection_broken(peer);
}

}  // namespace streamlab::sim
