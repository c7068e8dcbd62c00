#pragma once

// What the UI draws of one run: a value the run's thread builds and publishes whole
// (LiveRun::snapshot), so that the UI never touches the simulation's state. A snapshot
// is immutable once published; the UI keeps the newest by shared_ptr and draws from it
// until a newer one comes.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "workloads/checkers/check_result.h"

namespace streamlab::viz {

enum class NodeLook : std::uint8_t { idle, up, paused, crashed };

struct NodeView {
  std::string name;
  std::string role;  // As the scenario's topology names it.
  std::uint32_t zone = 0;
  NodeLook look = NodeLook::idle;
  bool partitioned = false;  // Cut off from at least one other node.
  bool fenced = false;       // A broker another broker fenced out of a topic it served.
  bool disk_slow = false;
  std::string owns;  // Topics it serves, comma-separated.
  std::uint32_t owns_count = 0;
};

struct ZoneView {
  std::string name;
  std::string region;
};

// One (time, value) series, as the checker's series are.
using Points = std::vector<std::pair<std::int64_t, double>>;

struct FaultMark {
  std::int64_t time_ns = 0;
  bool lifted = false;
  std::string text;
};

enum class RunPhase : std::uint8_t { paused, playing, finished };

struct Snapshot {
  std::string label;  // "A" for the scenario as written, "B: Qa=1, ..." for a variant.
  std::uint64_t seed = 0;
  RunPhase phase = RunPhase::paused;
  std::int64_t now_ns = 0;
  std::int64_t end_ns = 0;
  std::uint64_t events = 0;
  std::uint64_t trace_hash = 0;
  double sim_seconds_per_wall_second = 0;  // Measured over the last second of play.

  std::vector<ZoneView> zones;
  std::vector<NodeView> nodes;
  // Row-major node x node: bytes per second sent from row to column over the last
  // sampling window, and whether the network blocks that direction now.
  std::vector<float> link_bytes_per_s;
  std::vector<std::uint8_t> link_blocked;

  // The newest verdict on the run so far (the final one once finished) and when it was
  // made; series as the checker reports them (workloads/time_series.h).
  workloads::CheckResult check;
  std::int64_t checked_at_ns = -1;
  // Durability sampled at each check: entries below the write and the ack quorum.
  Points below_write_quorum;
  Points below_ack_quorum;
  std::vector<std::string> failed_expectations;  // Once finished.

  std::vector<FaultMark> faults;  // Injected and lifted, in time order.
  // The faults the UI injected, each as the scenario line that schedules it again.
  std::vector<std::string> recorded_faults;
  std::string reproduce_command;
  std::uint64_t events_not_kept = 0;  // Past the event log's capacity.
  std::string error;  // Writing the recorded scenario failed.
};

}  // namespace streamlab::viz
