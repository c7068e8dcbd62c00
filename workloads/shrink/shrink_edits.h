#pragma once

// The edits `streamlab shrink` makes to a scenario, on the proto: write the swarm's draw
// out as scripted faults, keep a subset of the faults, end the run earlier, drop a
// workload entry, halve one of an entry's knobs (rate, stop, max count). Each returns a
// new scenario and leaves its input alone; whether the result still loads is the
// loader's call.

#include <cstdint>
#include <optional>
#include <vector>

#include <google/protobuf/descriptor.h>

#include "workloads/scenario/scenario.pb.h"
#include "workloads/scenario/scenario_config.h"

namespace streamlab::workloads {

// One entry of the workload: `index` in the repeated field `field` of Workload
// (counter_client, ledger_writer, producer, consumer, whatever the schema adds).
struct WorkloadEntry {
  const google::protobuf::FieldDescriptor* field = nullptr;
  int index = 0;
};

// A knob of an entry that shrink lowers: `rate`, `stop`, `max_messages` or `max_adds`.
struct WorkloadKnob {
  WorkloadEntry entry;
  const google::protobuf::FieldDescriptor* knob = nullptr;
};

std::vector<WorkloadEntry> workload_entries(const scenario::Scenario& scenario);
// The knobs set in the scenario (a rate, a stop, a non-zero maximum), entry by entry.
std::vector<WorkloadKnob> workload_knobs(const scenario::Scenario& scenario);

// The swarm's draw for `seed` as scripted faults, with the scripted ones, in the order the
// run injects them (scheduled_faults), so the run is the same to the last event. A
// LIVENESS swarm stays, without rates: it still heals everything at its stop time and the
// checker still judges recovery. `config` is `scenario` loaded; it has a swarm.
scenario::Scenario with_swarm_explicit(const scenario::Scenario& scenario,
                                       const ScenarioConfig& config, std::uint64_t seed);
// Only the faults at `keep` (indices into scenario.fault(), ascending).
scenario::Scenario with_faults(const scenario::Scenario& scenario, const std::vector<int>& keep);
// The run ends at `duration_ns`; faults at or after it go. `at` texts must parse.
scenario::Scenario with_duration(const scenario::Scenario& scenario, std::int64_t duration_ns);
scenario::Scenario without_entry(const scenario::Scenario& scenario, WorkloadEntry entry);
// The knob at half its value (a stop: half as long after the entry's start, to the
// millisecond); nullopt when that would go below 1/s, 1 ms or 1, or the value is unreadable.
std::optional<scenario::Scenario> with_knob_halved(const scenario::Scenario& scenario,
                                                   WorkloadKnob knob);

}  // namespace streamlab::workloads
