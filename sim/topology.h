#pragma once

// The simulated world's shape: regions > zones > nodes, each node with a hardware profile
// and a clock. Plain data, filled by the scenario loader and validated there; sim/ asserts
// only what would corrupt the simulation.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/runtime.h"

namespace streamlab::sim {

// The service time of one unit of a kind of work: per_message_ns + B * per_byte_ps / 1000
// of one core's time for B bytes.
struct WorkCost {
  std::int64_t per_message_ns = 0;
  std::int64_t per_byte_ps = 0;
};

// CPU: `cores` servers, a cost per kind of work (runtime/runtime.h's Work). Unset kinds
// cost nothing but receiving, whose default stands for all of a message's handling.
struct CpuProfile {
  std::uint32_t cores = 8;
  std::array<WorkCost, kWorkKinds> cost = [] {
    std::array<WorkCost, kWorkKinds> c{};
    c[static_cast<std::size_t>(Work::receive)] = WorkCost{2'000, 100};
    return c;
  }();

  WorkCost& of(Work work) { return cost[static_cast<std::size_t>(work)]; }
  const WorkCost& of(Work work) const { return cost[static_cast<std::size_t>(work)]; }
};

struct DiskProfile {
  std::int64_t write_bytes_per_s = 330'000'000;
  std::int64_t read_bytes_per_s = 500'000'000;
  std::int64_t iops = 50'000;
  std::int64_t fsync_latency_ns = 150'000;
  std::int64_t capacity_bytes = 100'000'000'000;
  // Dirty data older than this reaches the device even without fsync, as Linux's flusher
  // writes back pages older than dirty_expire_centisecs (3000 = 30 s by default).
  std::int64_t writeback_delay_ns = 30'000'000'000;
};

// Files whose names start with this live on the journal disk when a node has one
// (BookKeeper's journalDirectories on their own device); the rest on the main disk.
inline constexpr std::string_view kJournalFilePrefix = "journal";

struct HardwareProfile {
  std::string name = "default";
  CpuProfile cpu;
  std::int64_t nic_bytes_per_s = 25'000'000'000 / 8;
  DiskProfile disk;
  std::optional<DiskProfile> journal_disk;  // Unset: the journal shares `disk`.
};

struct Jitter {
  enum class Kind : std::uint8_t { none, lognormal, exponential, uniform };
  Kind kind = Kind::none;
  double sigma = 0;         // lognormal: the base latency is multiplied by exp(N(0, sigma)).
  std::int64_t mean_ns = 0;  // exponential: added, with this mean.
  std::int64_t low_ns = 0;   // uniform: added, in [low, high].
  std::int64_t high_ns = 0;
};

struct LatencyProfile {
  std::int64_t within_zone_ns = 200'000;
  std::int64_t across_zones_ns = 1'500'000;
  std::int64_t across_regions_ns = 30'000'000;
  Jitter jitter;
};

struct NodeSpec {
  std::string name;
  std::string role;
  std::uint32_t zone = 0;
  HardwareProfile hardware;
  std::int64_t clock_offset_ns = 0;
  std::int64_t clock_drift_ppm = 0;
};

struct ZoneSpec {
  std::string name;
  std::uint32_t region = 0;
};

struct RegionSpec {
  std::string name;
};

struct Topology {
  std::vector<RegionSpec> regions;
  std::vector<ZoneSpec> zones;
  std::vector<NodeSpec> nodes;
  LatencyProfile latency;
  // How long after a connection breaks the sender learns of it (a TCP keepalive or
  // write timeout in the real world).
  std::int64_t break_detection_ns = 200'000'000;
};

}  // namespace streamlab::sim
