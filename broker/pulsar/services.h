#pragma once

// What a broker lends its topics and subscriptions: its runtime, its metadata and ledger
// clients, the routing of ledger appends, its settings, and a way to message clients.

#include <functional>
#include <string>

#include "broker/pulsar/broker_config.h"
#include "broker/pulsar/managed_ledger.h"
#include "broker/pulsar/pulsar.pb.h"

namespace streamlab::pulsar {

struct BrokerServices {
  Runtime& rt;
  storage::MetadataClient& metadata;
  storage::LedgerClient& ledgers;
  AddRouter& router;
  const BrokerConfig& config;
  std::string name;  // This broker's node name, as receipts report it.
  std::function<void(NodeId, const PulsarMessage&)> send;
};

// A consumer or producer as the broker knows it: the client node and the client's id.
struct ClientRef {
  NodeId node = kNoNode;
  std::uint64_t id = 0;
  auto operator<=>(const ClientRef&) const = default;
};

}  // namespace streamlab::pulsar
