#pragma once

// The tradeoff knobs the workbench offers (E / Qw / Qa, journal fsync, producer linger,
// dedup, recovery fencing, placement enforcement), as a system's scenario sets them; each
// system's adapter says which it has.

#include <cstdint>

namespace streamlab::workloads {

struct Knobs {
  bool has_storage = false;  // bookkeeper and pulsar systems.
  std::uint32_t bookies = 0;
  std::uint32_t ensemble = 0;
  std::uint32_t write_quorum = 0;
  std::uint32_t ack_quorum = 0;
  bool fsync = true;  // Bookies' journal (storage systems) or the counter server's log.
  bool recovery_fencing = true;
  bool enforce_placement = true;
  bool has_producers = false;
  std::int64_t linger_ns = 0;  // Every producer's batching_max_delay.
  bool has_dedup = false;
  bool dedup = true;

  bool operator==(const Knobs&) const = default;
};

}  // namespace streamlab::workloads
