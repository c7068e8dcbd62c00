#include "sim/faults.h"

#include <algorithm>
#include <array>
#include <cstdio>

#include "base/assert.h"

namespace streamlab::sim {

namespace {

constexpr std::array<const char*, kFaultKindCount> kFaultNames = {
    "partition",  "clog",         "connection_reset",
    "latency_spike", "bandwidth_cut", "heal_network",
    "crash",      "restart",      "pause",
    "clock_jump", "disk_read_errors", "disk_corruption",
    "disk_misdirected_writes", "disk_slow", "disk_full",
    "disk_lying_fsync", "zone_kill", "zone_isolate",
    "zone_restore",
};

// "2s", "1.5ms", "812.293ms": the largest unit that fits, three decimals at most.
std::string format_ns(std::int64_t ns) {
  struct Unit {
    std::int64_t ns;
    const char* name;
  };
  static constexpr Unit kUnits[] = {{1'000'000'000, "s"}, {1'000'000, "ms"}, {1'000, "us"}};
  const std::int64_t magnitude = ns < 0 ? -ns : ns;
  for (const Unit& unit : kUnits) {
    if (magnitude < unit.ns) continue;
    char buffer[48];
    std::snprintf(buffer, sizeof buffer, "%.3f", static_cast<double>(ns) / unit.ns);
    std::string text = buffer;
    text.erase(text.find_last_not_of('0') + 1);
    if (text.back() == '.') text.pop_back();
    return text + unit.name;
  }
  return std::to_string(ns) + "ns";
}

}  // namespace

const char* to_string(FaultKind kind) { return kFaultNames[static_cast<int>(kind)]; }

bool parse_fault_kind(std::string_view name, FaultKind* kind) {
  for (int k = 0; k < kFaultKindCount; ++k) {
    if (name == kFaultNames[k]) {
      *kind = static_cast<FaultKind>(k);
      return true;
    }
  }
  return false;
}

std::string FaultInjector::describe(const Fault& fault) const {
  const Topology& topology = world_.topology();
  std::string text = to_string(fault.kind);
  auto names = [&](const std::vector<std::uint32_t>& ids) {
    std::string out;
    for (const std::uint32_t id : ids) {
      if (!out.empty()) out += ",";
      out += topology.nodes[id].name;
    }
    return out;
  };
  if (!fault.nodes.empty()) text += " " + names(fault.nodes);
  if (!fault.peers.empty()) text += (fault.one_way ? " -> " : " <-> ") + names(fault.peers);
  if (fault.kind == FaultKind::zone_kill || fault.kind == FaultKind::zone_isolate ||
      fault.kind == FaultKind::zone_restore) {
    text += " zone " + topology.zones[fault.zone].name;
  }
  if (fault.wipe) text += " wiping disks";
  if (fault.amount_ns != 0) text += " by " + format_ns(fault.amount_ns);
  if (fault.duration_ns > 0) text += " for " + format_ns(fault.duration_ns);
  if (!fault.origin.empty()) text += " (" + fault.origin + ")";
  return text;
}

void FaultInjector::schedule(const std::vector<Fault>& faults) {
  for (const Fault& fault : faults) {
    SL_ASSERT_GE(fault.at_ns, world_.kernel().now());
    SL_ASSERT_GE(fault.duration_ns, 0);
    const std::size_t index = faults_.size();
    faults_.push_back(fault);
    world_.kernel().schedule_at(fault.at_ns, kKernelNode, EventKind::fault,
                                [this, index] { inject(index); });
    const bool lifts = fault.duration_ns > 0 && fault.kind != FaultKind::pause;
    if (lifts) {
      world_.kernel().schedule_at(fault.at_ns + fault.duration_ns, kKernelNode,
                                  EventKind::fault, [this, index] { lift(index); });
    }
  }
}

void FaultInjector::schedule_heal_everything(std::int64_t time_ns) {
  world_.kernel().schedule_at(time_ns, kKernelNode, EventKind::fault,
                              [this] { heal_everything(); });
}

std::vector<std::uint32_t> FaultInjector::other_side(const std::vector<std::uint32_t>& nodes,
                                                     const std::vector<std::uint32_t>& peers) const {
  if (!peers.empty()) return peers;
  std::vector<std::uint32_t> rest;
  for (std::uint32_t n = 0; n < world_.node_count(); ++n) {
    if (std::find(nodes.begin(), nodes.end(), n) == nodes.end()) {
      rest.push_back(n);
    }
  }
  return rest;
}

void FaultInjector::set_node_setting(const Fault& fault, std::uint32_t n, bool on) {
  Network& network = world_.network();
  DiskFaults& f = world_.disk(n).faults();
  switch (fault.kind) {
    case FaultKind::latency_spike:
      network.set_latency_spike(n, on ? fault.amount_ns : 0);
      break;
    case FaultKind::bandwidth_cut:
      network.set_bandwidth_percent(n, on ? fault.percent : 100);
      break;
    case FaultKind::disk_read_errors:
      f.read_error_probability = on ? fault.probability : 0;
      break;
    case FaultKind::disk_corruption:
      f.corrupt_read_probability = on ? fault.probability : 0;
      break;
    case FaultKind::disk_misdirected_writes:
      f.misdirect_write_probability = on ? fault.probability : 0;
      break;
    case FaultKind::disk_slow:
      f.slowdown_factor = on ? fault.factor : 1;
      break;
    case FaultKind::disk_full:
      f.full = on;
      break;
    case FaultKind::disk_lying_fsync:
      f.lying_fsync = on;
      break;
    default:
      SL_ASSERT_MSG(false, "not a per-node setting");
  }
}

// Overlapping faults of one kind on one node: when one is lifted, the newest that is still
// active takes over again, so a short fault never ends a longer one early.
void FaultInjector::lift_node_setting(std::size_t index) {
  const Fault& fault = faults_[index];
  active_.erase(index);
  for (const std::uint32_t n : fault.nodes) {
    const Fault* still = nullptr;
    for (const std::size_t other : active_) {
      const Fault& candidate = faults_[other];
      if (candidate.kind == fault.kind &&
          std::find(candidate.nodes.begin(), candidate.nodes.end(), n) != candidate.nodes.end()) {
        if (still == nullptr || candidate.at_ns >= still->at_ns) still = &candidate;
      }
    }
    set_node_setting(still != nullptr ? *still : fault, n, still != nullptr);
  }
}

void FaultInjector::inject(std::size_t index) {
  const Fault& fault = faults_[index];
  Network& network = world_.network();
  log_.push_back({world_.kernel().now(), false, describe(fault)});
  trace_last();
  switch (fault.kind) {
    case FaultKind::partition:
      handles_[index].push_back(network.partition(fault.nodes, other_side(fault.nodes, fault.peers), fault.one_way));
      break;
    case FaultKind::clog:
      handles_[index].push_back(network.clog(fault.nodes, other_side(fault.nodes, fault.peers), fault.amount_ns));
      break;
    case FaultKind::connection_reset:
      for (const std::uint32_t a : fault.nodes) {
        for (const std::uint32_t b : other_side(fault.nodes, fault.peers)) network.reset_connection(a, b);
      }
      break;
    case FaultKind::heal_network:
      network.heal_all();
      break;
    case FaultKind::crash:
      for (const std::uint32_t n : fault.nodes) world_.crash(n, fault.torn, fault.wipe);
      break;
    case FaultKind::restart:
      for (const std::uint32_t n : fault.nodes) world_.restart(n);
      break;
    case FaultKind::pause:
      for (const std::uint32_t n : fault.nodes) world_.pause(n, fault.duration_ns);
      break;
    case FaultKind::clock_jump:
      for (const std::uint32_t n : fault.nodes) world_.jump_clock(n, fault.amount_ns);
      break;
    case FaultKind::latency_spike:
    case FaultKind::bandwidth_cut:
    case FaultKind::disk_read_errors:
    case FaultKind::disk_corruption:
    case FaultKind::disk_misdirected_writes:
    case FaultKind::disk_slow:
    case FaultKind::disk_full:
    case FaultKind::disk_lying_fsync:
      for (const std::uint32_t n : fault.nodes) set_node_setting(fault, n, true);
      active_.insert(index);
      break;
    case FaultKind::zone_kill:
      for (const std::uint32_t n : world_.nodes_in_zone(fault.zone)) {
        world_.crash(n, false, fault.wipe);
      }
      break;
    case FaultKind::zone_isolate: {
      const std::vector<std::uint32_t> inside = world_.nodes_in_zone(fault.zone);
      handles_[index].push_back(network.partition(inside, other_side(inside, {}), false));
      break;
    }
    case FaultKind::zone_restore:
      for (const std::uint32_t n : world_.nodes_in_zone(fault.zone)) world_.restart(n);
      for (auto& [other, handles] : handles_) {
        if (faults_[other].kind != FaultKind::zone_isolate || faults_[other].zone != fault.zone) {
          continue;
        }
        for (const FaultHandle h : handles) network.remove(h);
        handles.clear();
      }
      break;
  }
}

void FaultInjector::lift(std::size_t index) {
  const Fault& fault = faults_[index];
  Network& network = world_.network();
  log_.push_back({world_.kernel().now(), true, describe(fault)});
  trace_last();
  switch (fault.kind) {
    case FaultKind::partition:
    case FaultKind::clog:
    case FaultKind::zone_isolate:
      for (const FaultHandle h : handles_[index]) network.remove(h);
      handles_.erase(index);
      break;
    case FaultKind::crash:
      for (const std::uint32_t n : fault.nodes) world_.restart(n);
      break;
    case FaultKind::zone_kill:
      for (const std::uint32_t n : world_.nodes_in_zone(fault.zone)) world_.restart(n);
      break;
    case FaultKind::latency_spike:
    case FaultKind::bandwidth_cut:
    case FaultKind::disk_read_errors:
    case FaultKind::disk_corruption:
    case FaultKind::disk_misdirected_writes:
    case FaultKind::disk_slow:
    case FaultKind::disk_full:
    case FaultKind::disk_lying_fsync:
      lift_node_setting(index);
      break;
    case FaultKind::connection_reset:
    case FaultKind::heal_network:
    case FaultKind::restart:
    case FaultKind::pause:
    case FaultKind::clock_jump:
    case FaultKind::zone_restore:
      break;  // Instantaneous: nothing to lift.
  }
}

void FaultInjector::heal_everything() {
  log_.push_back({world_.kernel().now(), true, "heal everything (liveness phase)"});
  trace_last();
  world_.network().heal_all();
  handles_.clear();
  active_.clear();
  for (std::uint32_t n = 0; n < world_.node_count(); ++n) {
    world_.disk(n).faults() = DiskFaults{};
    world_.restart(n);
  }
}

void FaultInjector::trace_last() const {
  const FaultLogEntry& entry = log_.back();
  const std::string words = (entry.lifted ? "lift " : "inject ") + entry.text;
  world_.trace(TraceEvent(entry.time_ns, kNoPeer, TraceKind::fault).with_detail(words));
}

}  // namespace streamlab::sim
