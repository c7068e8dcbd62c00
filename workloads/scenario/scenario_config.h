#pragma once

// A scenario after loading: plain data with names resolved to node and zone ids, every
// quantity in integer units, every value checked. Nothing runs on a half-read scenario,
// so anything holding a ScenarioConfig can trust it.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "broker/demo/counter_server.h"
#include "broker/pulsar/broker_config.h"
#include "broker/storage/bookie.h"
#include "broker/storage/metadata_store.h"
#include "sim/faults.h"
#include "sim/swarm.h"
#include "sim/topology.h"
#include "workloads/clients/counter_client.h"
#include "workloads/clients/ledger_writer.h"
#include "workloads/clients/queue_client.h"

namespace streamlab::workloads {

enum class SystemKind : std::uint8_t { counter, bookkeeper, pulsar };

struct CounterSystemConfig {
  std::uint32_t server = 0;
  demo::CounterServerConfig server_config;
};

struct ClientSpec {
  std::uint32_t node = 0;
  CounterClientConfig config;
};

struct BookKeeperSystemConfig {
  std::uint32_t metadata = 0;
  std::vector<std::uint32_t> bookies;
  storage::MetadataStoreConfig store;
  storage::BookieConfig bookie;
  // The system's settings every ledger writer shares (quorums, placement, timeouts).
  LedgerWriterConfig writer_defaults;
};

struct WriterSpec {
  std::uint32_t node = 0;
  LedgerWriterConfig config;
};

// The broker layer: the storage layer's settings stay in BookKeeperSystemConfig (its
// writer_defaults carry the ledger and metadata client settings brokers use).
struct PulsarSystemConfig {
  std::vector<std::uint32_t> brokers;
  pulsar::BrokerConfig broker;     // Complete: metadata, ledger, quorums, topics, knobs.
  client::ClientConfig client;     // What every queue client shares (brokers, keepalive).
  std::map<std::string, std::uint32_t> topics;  // name -> partitions (0: not partitioned).
  std::map<std::string, pulsar::SubscriptionType> subscriptions;  // For the checker.
};

struct QueueClientSpec {
  std::uint32_t node = 0;
  QueueClientConfig config;
};

struct Expectation {
  std::string anomaly;
  bool present = false;
  std::string origin;  // "file:line", for messages about it.
};

struct ScenarioConfig {
  std::string file;
  // Command-line changes the file does not hold (ScenarioOverrides::flags), which a
  // command reproducing the run must repeat; empty without.
  std::string run_flags;
  std::string name;
  std::string description;
  std::int64_t duration_ns = 0;
  std::uint64_t seed = 1;
  sim::Topology topology;
  SystemKind system = SystemKind::counter;
  // The checker the system is judged by ("counter", "ledger", "queue"); its anomalies
  // (workloads/checkers/anomaly_glossary.h) are what expectations may name.
  std::string checker;
  CounterSystemConfig counter;
  std::vector<ClientSpec> clients;
  BookKeeperSystemConfig bookkeeper;
  std::vector<WriterSpec> writers;
  PulsarSystemConfig pulsar;
  std::vector<QueueClientSpec> queue_clients;  // One per client node.
  std::vector<sim::Fault> faults;
  bool has_swarm = false;
  sim::SwarmConfig swarm;
  std::int64_t recovery_bound_ns = 0;
  std::vector<Expectation> expectations;
};


}  // namespace streamlab::workloads
