#pragma once

// A broker (DESIGN.md section 4, REFERENCE.md "Pulsar"): a node that serves topics.
//
// Ownership: a topic belongs to the broker holding its ephemeral key
// /topics/<topic>/owner (value "<broker>/<session>"). A lookup at any broker answers with
// the owner, redirecting to it, or, when the topic has none, takes it. The key vanishes
// with the owner's session; a broker that learns its session expired gives up every
// topic (clients are told to reconnect). A broker that has not learned it yet (a paused
// one) still believes it owns its topics: BookKeeper fencing is what stops it, since the
// next owner's recovery fences its ledger (REFERENCE.md, the split-brain bugs).
//
// Messages: PulsarMessages from clients, and StorageMessages from the metadata store and
// the bookies, on the same connections (broker/pulsar/wire.h tells them apart). A
// message that does not parse (or is larger than kMaxMessageBytes) is answered with
// MALFORMED_REQUEST and its sender's connection is closed.
//
// Transactions (BrokerConfig::transactions): the broker that owns kTxnCoordinator runs the
// coordinator, found and taken over like a topic; it delivers markers to topics through
// this broker, locally or with a TxnMarkerRequest to the topic's owner.

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "broker/pulsar/broker_config.h"
#include "broker/pulsar/services.h"
#include "broker/pulsar/topic.h"
#include "broker/pulsar/txn_coordinator.h"
#include "broker/storage/ledger_client.h"
#include "broker/storage/metadata_client.h"
#include "runtime/owned_timers.h"

namespace streamlab::pulsar {

class Broker final : public Node {
 public:
  Broker(Runtime& runtime, BrokerConfig config);
  ~Broker() override;

  void on_start() override;
  void on_message(NodeId from, std::span<const std::uint8_t> bytes) override;
  void on_connection_broken(NodeId peer) override;

  // For tests and reports.
  std::vector<std::string> owned_topics() const;
  std::uint64_t malformed_messages() const { return malformed_; }

 private:
  using Acquired = std::function<void(ServerError, const std::string& redirect)>;

  void handle(NodeId from, const PulsarMessage& message);
  void lookup(NodeId from, const Lookup& request);
  void partitions(NodeId from, const PartitionsRequest& request);
  void create_producer(NodeId from, const CreateProducer& request);
  void subscribe(NodeId from, const Subscribe& request);
  void publish(NodeId from, const Send& send);
  void close_producer(NodeId from, const CloseProducer& request);
  // Flow, a non-transactional ack, or redeliver, for one of this broker's consumers.
  void consumer_command(NodeId from, const PulsarMessage& message);
  Subscription* subscription_of(ClientRef consumer);
  void close_consumer(NodeId from, const CloseConsumer& request);
  void pong(NodeId to);
  void session_event(storage::SessionEvent event);

  // Makes sure this broker owns and serves the topic (or the coordinator); redirect names
  // the owner when another broker has it.
  void acquire(const std::string& topic, Acquired done);
  // True when the topic is already loaded (or closing) here: done runs when it is ready.
  bool served_here(const std::string& topic, const Acquired& done);
  Topic& load(const std::string& topic);
  void topic_closed(std::string topic, bool fenced);

  void coordinator_request(NodeId from, const PulsarMessage& message);
  void txn_ack(NodeId from, const Ack& ack);
  void marker_request(NodeId from, const TxnMarkerRequest& request);
  void marker_response(const TxnMarkerResponse& response);
  // The coordinator's MarkerSender.
  void deliver_marker(const std::string& topic, TxnKey txn, bool commit,
                      std::function<void(ServerError)> done);
  void coordinator_closed(bool fenced);
  void release(const std::string& topic);
  void keepalive();
  void reject(NodeId from, const std::string& why);
  void reply_error(NodeId to, std::uint64_t request_id, ServerError error,
                   const std::string& text);
  std::string owner_value() const;
  std::uint32_t partition_of(const std::string& topic) const;

  Runtime& rt_;
  BrokerConfig config_;
  storage::MetadataClient metadata_;
  storage::LedgerClient ledgers_;
  AddRouter router_;
  BrokerServices services_;
  std::map<std::string, std::unique_ptr<Topic>> topics_;
  std::unique_ptr<TxnCoordinator> coordinator_;
  struct MarkerRequest {
    NodeId broker = kNoNode;
    std::function<void(ServerError)> done;
    std::uint64_t timer = 0;
  };
  std::map<std::uint64_t, MarkerRequest> marker_requests_;  // Out to other brokers.
  std::uint64_t next_marker_request_ = 1;
  std::map<ClientRef, std::string> producers_;  // -> topic
  std::map<ClientRef, std::string> consumers_;  // -> topic
  std::set<NodeId> clients_;
  std::uint64_t malformed_ = 0;
  storage::StorageMessage storage_in_;
  PulsarMessage in_;
  PulsarMessage out_;
  std::vector<std::uint8_t> buffer_;
  OwnedTimers timers_;
};

}  // namespace streamlab::pulsar
