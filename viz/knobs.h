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
#include "workloads/systems/knobs.h"

namespace streamlab::viz {

using Knobs = workloads::Knobs;

Knobs knobs_of(const workloads::ScenarioConfig& config);

// The scenario with `knobs` set, as text; an error if the knobs break a rule the loader
// enforces (it also re-checks them: the caller loads the result).
Result<std::string> apply_knobs(const scenario::Scenario& scenario, const Knobs& knobs);

// What `to` changes from `from`, short ("Qa=1, fsync off"); empty when nothing.
std::string describe_change(const Knobs& from, const Knobs& to);

}  // namespace streamlab::viz
