#pragma once

// A load test's inputs (`streamlab capacity`): a cluster file (a scenario file with a
// topology and a pulsar system, and no workload, faults or duration), an OpenMessaging
// Benchmark workload, and the producer settings OMB's Pulsar driver sets; plus the
// settings a what-if comparison changes (with_setting). From these, the scenario of one
// load point: the workload's topics, its producers and consumers spread round-robin over
// the cluster's client nodes (those that run no system role), at a given total rate, with
// the clients' lookups spread over the brokers (spread_lookups, unless the cluster says)
// so partitions are owned evenly, as Pulsar's load manager would place them.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "workloads/capacity/omb_workload.h"
#include "workloads/scenario/scenario.pb.h"
#include "workloads/scenario/scenario_config.h"

namespace streamlab::workloads {

// OMB's Pulsar driver defaults (driver-pulsar/pulsar.yaml): batching on with a 1 ms
// delay, blockIfQueueFull, a deep pending queue so the rate limiter, not the queue, paces
// the producer.
struct CapacityProducer {
  std::string batching_max_delay = "1ms";
  std::uint32_t batching_max_messages = 1000;
  std::string batching_max_bytes = "128KiB";
  std::uint32_t max_pending = 10'000;
};

struct CapacityPlan {
  std::string cluster_file;
  scenario::Scenario cluster;
  std::vector<std::string> clients;  // Client nodes, in topology order.
  OmbWorkload workload;
  CapacityProducer producer;
  // The settings applied by with_setting, as "key=value", in order.
  std::vector<std::string> settings;
};

// A workload with consumerBacklogSizeGB (OMB's backlog build-up and drain) is refused:
// not modelled yet. Its durations are the load points' business (ProbeSettings).
Result<CapacityPlan> load_capacity_plan(const std::string& cluster_file, OmbWorkload workload);

// The keys with_setting knows, with what each means, for help text and errors.
std::vector<std::pair<std::string, std::string>> capacity_setting_keys();
// Applies `key=value`: an OMB workload key (messageSize, partitionsPerTopic, ...), a
// producer setting, journal_disk (shared / dedicated), a storage setting of the pulsar
// system (ensemble, write_quorum, ack_quorum, journal_sync_data, ...), or any scalar field
// of the cluster file by its path ("topology.hardware.nic": a path through a repeated
// field sets it in every element). The cluster must still load: quorums that no longer
// fit are an error naming the setting.
Result<CapacityPlan> with_setting(CapacityPlan plan, const std::string& key,
                                  const std::string& value);

// The scenario of one load point: `rate` msg/s in all, producers from `producers_start_ns`
// until `duration_ns`, consumers from the start.
Result<ScenarioConfig> load_point_scenario(const CapacityPlan& plan, double rate,
                                           std::int64_t duration_ns,
                                           std::int64_t producers_start_ns);

}  // namespace streamlab::workloads
