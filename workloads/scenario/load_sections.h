#pragma once

// The scenario loader's sections, each filling its part of the ScenarioConfig and
// reporting problems to the LoadContext.

#include "workloads/scenario/load_context.h"
#include "workloads/scenario/scenario.pb.h"
#include "workloads/scenario/scenario_config.h"

namespace streamlab::workloads {

// Resolves a node that must exist and must not already run something, and gives it the
// role; false (with an error naming the field) otherwise.
bool claim_node(const std::string& name, const char* field, const char* role, int line,
                LoadContext& ctx, ScenarioConfig* out, std::uint32_t* id);

// A `hardware` entry: its profile file's settings, then its own.
sim::HardwareProfile load_hardware(const scenario::Hardware& in, const Place& place,
                                   LoadContext& ctx);
void load_topology(const scenario::Topology& in, const Place& place, LoadContext& ctx,
                   sim::Topology* out);
void load_faults(const scenario::Scenario& in, const Place& place, LoadContext& ctx,
                 ScenarioConfig* out);
void load_bookkeeper(const scenario::BookKeeperSystem& in, const Place& place, LoadContext& ctx,
                     ScenarioConfig* out);
void load_writers(const scenario::Workload& in, const Place& place, LoadContext& ctx,
                  ScenarioConfig* out);
// `system { pulsar { ... } }`: its storage section through load_bookkeeper (with Pulsar's
// 2/2/2 quorum defaults), then brokers, broker knobs and topics.
void load_pulsar(const scenario::PulsarSystem& in, const Place& place, LoadContext& ctx,
                 ScenarioConfig* out);
// The workload's producers and consumers: one queue client per distinct node.
void load_queue_clients(const scenario::Workload& in, const Place& place, LoadContext& ctx,
                        ScenarioConfig* out);
void load_swarm(const scenario::Swarm& in, const Place& place, LoadContext& ctx,
                ScenarioConfig* out);

}  // namespace streamlab::workloads
