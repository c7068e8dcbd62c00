#pragma once

// The tradeoff knobs the workbench offers (E / Qw / Qa, journal fsync, producer linger,
// dedup, recovery fencing, placement enforcement): read from a loaded scenario, and
// written back into its text, so that a variant run is a scenario file like any other
// (`streamlab run` replays it) and the loader validates it.

#include <cstdint>
#include <string>

#include "base/result.h"
#include "workloads/scenario/scenario.pb.h"
#include "workloads/scenario/scenario_config.h"

namespace streamlab::viz {

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

Knobs knobs_of(const workloads::ScenarioConfig& config);

// The scenario with `knobs` set, as text; an error if the knobs break a rule the loader
// enforces (it also re-checks them: the caller loads the result).
Result<std::string> apply_knobs(const scenario::Scenario& scenario, const Knobs& knobs);

// What `to` changes from `from`, short ("Qa=1, fsync off"); empty when nothing.
std::string describe_change(const Knobs& from, const Knobs& to);

}  // namespace streamlab::viz
