#pragma once

// Scripted faults: each Fault is injected at its time and, when it has a duration, lifted
// at time + duration. The injector keeps a log of what it did, for summaries, the GUI and
// the event log. Swarm faults (sim/swarm.h) are drawn into the same Fault list, so a
// swarm run can be written out as an explicit schedule.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sim/network.h"
#include "sim/world.h"

namespace streamlab::sim {

enum class FaultKind : std::uint8_t {
  partition,         // nodes <-> peers (peers empty: every other node); one_way: nodes -> peers.
  clog,              // nodes <-> peers get amount_ns extra latency.
  connection_reset,  // every connection between nodes and peers breaks.
  latency_spike,     // all traffic of each node gets amount_ns extra latency.
  bandwidth_cut,     // each node's NIC runs at `percent` of its bandwidth.
  heal_network,      // lifts every network fault.
  crash,             // each node crashes (torn: its newest unsynced write may survive torn;
                     // wipe: its disk is destroyed).
  restart,           // each crashed node restarts from its disk.
  pause,             // each node stops for duration_ns, then resumes.
  clock_jump,        // each node's clock moves by amount_ns.
  disk_read_errors,  // reads fail with probability.
  disk_corruption,   // reads return a flipped bit with probability.
  disk_misdirected_writes,
  disk_slow,         // disk operations take `factor` times longer.
  disk_full,
  disk_lying_fsync,
  zone_kill,         // every node of the zone crashes (wipe: disks too); lifted: restart.
  zone_isolate,      // the zone is partitioned from every other zone.
  zone_restore,      // restarts the zone's crashed nodes and lifts its isolation.
};

inline constexpr int kFaultKindCount = static_cast<int>(FaultKind::zone_restore) + 1;

const char* to_string(FaultKind kind);
// False when the name is unknown.
bool parse_fault_kind(std::string_view name, FaultKind* kind);

struct Fault {
  std::int64_t at_ns = 0;
  // 0: stays until something heals it (pause: required, it is the pause's length).
  std::int64_t duration_ns = 0;
  FaultKind kind = FaultKind::crash;
  std::vector<std::uint32_t> nodes;
  std::vector<std::uint32_t> peers;
  std::uint32_t zone = 0;
  bool one_way = false;
  bool torn = false;
  bool wipe = false;  // crash, zone_kill: the disks are destroyed too.
  std::int64_t amount_ns = 0;
  double probability = 0;
  std::uint32_t factor = 1;     // disk_slow.
  std::uint32_t percent = 100;  // bandwidth_cut.
  std::string origin;           // "file:line" of a scripted fault, or "swarm".
};

struct FaultLogEntry {
  std::int64_t time_ns;
  bool lifted;  // false: injected.
  std::string text;
};

class FaultInjector {
 public:
  explicit FaultInjector(World& world) : world_(world) {}

  // Schedules every fault; call before running the world.
  void schedule(const std::vector<Fault>& faults);
  // Liveness runs: at time_ns, lift every fault and restart every crashed node.
  void schedule_heal_everything(std::int64_t time_ns);

  const std::vector<FaultLogEntry>& log() const { return log_; }
  std::string describe(const Fault& fault) const;

 private:
  void inject(std::size_t index);
  void lift(std::size_t index);
  void heal_everything();
  // The newest log entry, to the world's trace sink.
  void trace_last() const;
  // `peers` if any, else every node not in `nodes`.
  std::vector<std::uint32_t> other_side(const std::vector<std::uint32_t>& nodes,
                                        const std::vector<std::uint32_t>& peers) const;
  // Per-node settings: latency spikes, bandwidth cuts and disk faults.
  void set_node_setting(const Fault& fault, std::uint32_t node, bool on);
  void lift_node_setting(std::size_t index);

  World& world_;
  std::vector<Fault> faults_;
  std::map<std::size_t, std::vector<FaultHandle>> handles_;
  std::set<std::size_t> active_;  // Injected, not yet lifted per-node settings.
  std::vector<FaultLogEntry> log_;
};

}  // namespace streamlab::sim
