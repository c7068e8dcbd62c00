#pragma once

// The inside of the client library (client.h is the contract). One Impl per Client; it
// is split over files by job:
// - client.cc:   the facade, message dispatch, deferred callbacks, ids and names.
// - lookup.cc:   bindings (lookup, redirect, connect, retry with backoff), connections and
//                keepalive.
// - producer.cc: routing, batching, the pending queue, receipts, resends, send timeout.
// - consumer.cc: the receive queue, permits, acks, negative acks, ack timeout.
// - transactions.cc: the coordinator's lookup and requests, registering partitions,
//                transactional sends and acks, commit and abort.
//
// [SECTION] index of this header: Bindings, Connections, Producer state, Consumer state,
// Transaction state, Impl.
//
// Choices the contract leaves open, and why:
// - Each partition of a producer has its own sequence ids from 0, as Pulsar's
//   per-partition producers do: the broker's deduplication is per topic (partition) and
//   producer name, so a SendResult is identified by (name, partition, sequence id).
// - Every CreateProducer / Subscribe attempt gets a fresh producer_id / consumer_id, so a
//   late reply or delivery for an abandoned attempt names an id that is no longer bound
//   and is dropped. Send receipts are the exception (the contract): the few most recent
//   abandoned producer ids still route receipts to their partition.
// - When the client abandons a producer or consumer on a broker that did not close it
//   itself (keepalive failure, send error, timeout), it sends CloseProducer /
//   CloseConsumer there, fire-and-forget. Ordered delivery puts that close ahead of a new
//   CreateProducer / Subscribe to the same broker, so the broker frees the producer name
//   (or the exclusive subscription) instead of answering PRODUCER_BUSY / CONSUMER_BUSY.
//   The protocol has no reply for a close, so the client never waits for one.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "broker/client/client.h"
#include "broker/pulsar/pulsar.pb.h"
#include "runtime/runtime.h"

namespace streamlab::client {

// [SECTION] Bindings

// A binding's partition when it stands for the topic itself while the number of
// partitions is asked (PartitionsRequest).
inline constexpr std::uint32_t kTopicLevel = 0xffffffffu;

// Names one binding; small enough to ride in a timer's 32-byte capture with `this`.
struct BindingRef {
  std::uint64_t owner = 0;  // The producer's or consumer's id.
  std::uint32_t partition = 0;
  bool producer = false;
};

enum class BindState : std::uint8_t {
  backoff,     // Waiting for retry_timer.
  looking_up,  // A PartitionsRequest or Lookup is out.
  connecting,  // CreateProducer / Subscribe is out to `broker`.
  connected,   // Bound to `broker`.
  resolved,    // Topic level only: the partition count is known, for good.
  closed,      // The application closed it.
};

enum class RetryVia : std::uint8_t {
  lookup,   // Ask the service brokers again.
  connect,  // Create / subscribe again at retry_broker (after PRODUCER_BUSY / CONSUMER_BUSY).
};

// What one producer or consumer has for one partition (or, at topic level, for the
// partitions request): where it is in lookup / connect, and which broker it is bound to.
struct Binding {
  BindingRef ref;
  std::string topic;  // The partition's topic name; at topic level the topic's.
  BindState state = BindState::backoff;
  NodeId broker = kNoNode;    // connecting / connected: the owner.
  std::uint64_t wire_id = 0;  // producer_id / consumer_id of the current attempt; 0: none.
  std::uint64_t request = 0;  // The one request out for it; 0: none.
  std::uint32_t service_index = 0;  // The service broker the next lookup starts with.
  std::uint32_t redirects = 0;      // Redirects followed in the current lookup.
  Nanos backoff_ns = 0;             // The next retry's delay.
  TimerId retry_timer = 0;
  RetryVia retry_via = RetryVia::lookup;
  NodeId retry_broker = kNoNode;
};

// A request that expects a reply with its request_id.
struct Request {
  BindingRef ref;
  NodeId broker = kNoNode;
  TimerId timeout = 0;
};

// [SECTION] Connections

// The client's view of its connection to one broker, for keepalive (Pulsar's
// keepAliveIntervalSeconds): pings run while some binding is connecting or connected
// there.
struct Connection {
  std::uint32_t bound = 0;  // Bindings connecting or connected to it.
  Nanos last_heard_ns = 0;  // Any message counts as a sign of life.
  TimerId keepalive = 0;
};

// [SECTION] Producer state

// One entry's worth of messages (REFERENCE.md: a batch is one entry). Sequence ids are
// consecutive from first_seq.
struct Batch {
  std::uint64_t first_seq = 0;
  std::vector<std::uint64_t> tokens;  // One per message, in order.
  pulsar::EntryData entry;            // Kept whole for resends.
  Nanos created_ns = 0;               // The first message's send(): send_timeout counts from it.
  std::uint32_t bytes = 0;            // Keys and payloads.
  bool transmitted = false;           // Sent on the current connection.
  TxnRef txn;                         // Every message's; TxnRef{}: none (see kNoTxn).

  std::uint32_t size() const { return static_cast<std::uint32_t>(tokens.size()); }
  std::uint64_t last_seq() const { return first_seq + tokens.size() - 1; }
};

struct ProducerPartition {
  Binding binding;
  Batch open;                 // Being filled; flushed by size, count or delay.
  std::deque<Batch> pending;  // Flushed and not yet acknowledged, in sequence order.
  TimerId batch_timer = 0;
  std::uint64_t next_seq = 0;
  bool transmitted_any = false;  // Once true, ProducerSuccess.last_sequence_id is ignored.
  std::uint32_t connections = 0;  // ProducerSuccess count: names a non-idempotent producer.
  std::string name;               // The producer name of the current attempt.
  std::vector<std::uint64_t> old_wire_ids;  // Recently abandoned ids; receipts still count.
};

// A message sent before the partition count is known.
struct Unrouted {
  std::string key;
  std::string payload;
  std::uint64_t token = 0;
  Nanos created_ns = 0;
  TxnRef txn;
};

struct ProducerState {
  std::unique_ptr<Producer> handle;
  ProducerConfig config;
  std::string name;
  Binding topic;  // The partitions request.
  std::vector<ProducerPartition> parts;  // Empty until the count is known.
  std::deque<Unrouted> unrouted;
  std::size_t pending = 0;  // Messages not yet completed: unrouted, open and pending batches.
  std::uint32_t round_robin = 0;  // The partition keyless messages go to.
  TimerId timeout_timer = 0;
  bool closed = false;
};

// [SECTION] Consumer state

// A delivered entry of one partition, by (partition, ledger, entry).
struct EntryKey {
  std::uint32_t partition = 0;
  std::uint64_t ledger = 0;
  std::int64_t entry = 0;
  auto operator<=>(const EntryKey&) const = default;
};

struct ConsumerEntry {
  pulsar::EntryData data;
  std::uint32_t redelivery_count = 0;
  std::vector<bool> acked;  // Per message of the batch.
  std::uint32_t acked_count = 0;
  std::uint32_t queued = 0;  // Its messages in the receive queue.
  Nanos handed_ns = 0;       // Since when the app holds it unacked (ack timeout); 0: not.
  bool handed = false;       // The app got one of its messages: its acks must still count.
  std::uint64_t order = 0;   // Delivery order within the partition (cumulative acks).
  bool done = false;         // Acked as a whole: the Ack was sent or queued.
  TxnRef txn = kNoTxn;       // The transaction that acked part of it, until it acks all.
};

struct QueuedMessage {
  EntryKey key;
  std::uint32_t index = 0;
};

struct ConsumerPartition {
  Binding binding;
  std::uint32_t taken = 0;  // Entries the app finished since the last Flow.
  std::uint64_t next_order = 0;
  // Acks made while not connected, sent after the next SubscribeSuccess.
  std::vector<pulsar::MessageId> pending_acks;
  bool has_pending_cumulative = false;
  pulsar::MessageId pending_cumulative;
};

struct ConsumerState {
  std::unique_ptr<Consumer> handle;
  ConsumerConfig config;
  std::string name;
  Binding topic;
  std::vector<ConsumerPartition> parts;
  std::deque<QueuedMessage> queue;  // The receive queue, across partitions.
  std::map<EntryKey, ConsumerEntry> entries;
  std::map<EntryKey, Nanos> nacks;  // When each negatively acked entry is redelivered.
  std::uint32_t waiting = 0;        // receive() calls not answered yet.
  bool pump_scheduled = false;
  TimerId nack_timer = 0;
  TimerId ack_timer = 0;
  bool closed = false;
};

// [SECTION] Transaction state

// A transactional send waiting for its partition's registration with the coordinator.
struct TxnSend {
  std::uint64_t producer = 0;
  std::uint32_t partition = 0;
  std::string key;
  std::string payload;
  std::uint64_t token = 0;
  Nanos created_ns = 0;
};

// A transactional ack waiting for its partition's registration.
struct TxnAck {
  std::uint64_t consumer = 0;
  pulsar::MessageId id;
  std::function<void(TxnError)> done;
};

struct TxnState {
  std::set<std::string> registered;  // Partitions' topics the coordinator knows.
  // Registrations out, with what waits for each.
  std::map<std::string, std::pair<std::vector<TxnSend>, std::vector<TxnAck>>> registering;
  std::uint32_t outstanding = 0;  // Sends and acks not yet answered.
  // Batches it acked only in part: their entries are acked only when whole, so it cannot
  // commit with any (the acks would not be in it).
  std::vector<std::pair<std::uint64_t, EntryKey>> partial;  // (consumer, entry)
  bool failed = false;            // One of them failed: a commit aborts instead.
  bool ending = false;
  bool commit = false;
  std::function<void(TxnError)> end_done;
};

// A request to the coordinator; re-sent to the next coordinator until its deadline.
struct TcRequest {
  pulsar::PulsarMessage message;
  std::function<void(const pulsar::TxnResponse&)> done;
  Nanos deadline_ns = 0;
  NodeId sent_to = kNoNode;  // kNoNode: waiting for the coordinator's lookup.
  TimerId timeout = 0;
};

// A transactional ack out to a broker, awaiting its AckResponse.
struct TxnAckOut {
  TxnRef txn;
  NodeId broker = kNoNode;
  std::function<void(TxnError)> done;
};

// [SECTION] Impl

class Client::Impl {
 public:
  Impl(Runtime& runtime, ClientConfig config);
  ~Impl();
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  Producer& create_producer(ProducerConfig config);
  Consumer& subscribe(ConsumerConfig config);
  bool handle(NodeId from, const pulsar::PulsarMessage& message);
  void on_connection_broken(NodeId peer);

  // Producer API.
  void send(std::uint64_t producer, std::string_view key, std::string_view payload,
            std::uint64_t token);
  std::size_t pending(std::uint64_t producer) const;
  void close_producer(std::uint64_t producer);

  void send_in_txn(std::uint64_t producer, std::string_view key, std::string_view payload,
                   std::uint64_t token, TxnRef txn);

  // Transaction API (transactions.cc).
  void init_transactions(const std::string& owner, std::function<void(TxnError)> done);
  void begin_transaction(std::int64_t timeout_ns, std::function<void(TxnError, TxnRef)> done);
  void end_transaction(TxnRef txn, bool commit, std::function<void(TxnError)> done);
  void acknowledge_in_txn(std::uint64_t consumer, const pulsar::MessageId& id, TxnRef txn,
                          std::function<void(TxnError)> done);

  // Consumer API.
  void receive(std::uint64_t consumer);
  void acknowledge(std::uint64_t consumer, const pulsar::MessageId& id);
  void acknowledge_cumulative(std::uint64_t consumer, const pulsar::MessageId& id);
  void negative_acknowledge(std::uint64_t consumer, const pulsar::MessageId& id);
  void close_consumer(std::uint64_t consumer);

 private:
  // A callback owed to the application, run from one zero-delay timer in FIFO order.
  struct Deferred {
    std::uint64_t owner = 0;  // The producer (a result) or consumer (a pump).
    bool pump = false;
    SendResult result;
  };

  // client.cc: plumbing.
  void defer_result(std::uint64_t producer, SendResult result);
  void defer_pump(std::uint64_t consumer);
  void drain();
  void send_to(NodeId to, const pulsar::PulsarMessage& message);
  std::uint64_t new_request_id() { return next_request_id_++; }
  std::uint64_t new_wire_id() { return next_wire_id_++; }
  std::string default_name();
  Binding* wire_binding(std::uint64_t wire_id, bool producer);

  // lookup.cc: bindings.
  Binding* binding(const BindingRef& ref);
  void start(Binding& b);
  void lookup(Binding& b);
  void ask(Binding& b, NodeId to);
  void issue(Binding& b, NodeId to, const pulsar::PulsarMessage& request, std::uint64_t id);
  Binding* take_reply(NodeId from, std::uint64_t request_id);
  void on_reply(NodeId from, const pulsar::PulsarMessage& message);
  void on_request_timeout(std::uint64_t request_id);
  void on_lookup_response(Binding& b, NodeId from, const pulsar::LookupResponse& response);
  void on_partitions_response(Binding& b, const pulsar::PartitionsResponse& response);
  void on_request_error(Binding& b, pulsar::ServerError error);
  void connect(Binding& b, NodeId broker);
  void bound(Binding& b, const pulsar::PulsarMessage& reply);
  void abandon(Binding& b, bool send_close);
  void retry(Binding& b, RetryVia via, bool rotate);
  void lose(Binding& b, bool rotate, bool send_close);
  void close_binding(Binding& b);

  // lookup.cc: connections and keepalive.
  void bind_connection(NodeId broker);
  void release_connection(NodeId broker);
  void keepalive_tick(NodeId broker);
  void connection_lost(NodeId broker);

  // producer.cc.
  void producer_partitions(ProducerState& p, std::uint32_t partitions);
  std::uint32_t route(ProducerState& p, std::string_view key);
  void add_message(ProducerState& p, std::uint32_t partition, std::string_view key,
                   std::string_view payload, std::uint64_t token, Nanos created_ns,
                   TxnRef txn = kNoTxn);
  void flush(std::uint64_t producer, std::uint32_t partition);
  void transmit(ProducerPartition& part, Batch& batch);
  void send_create_producer(Binding& b, std::uint64_t request_id);
  void producer_connected(Binding& b, const pulsar::ProducerSuccess& success);
  void producer_unbound(Binding& b);
  void on_send_receipt(NodeId from, const pulsar::SendReceipt& receipt);
  void on_send_error(NodeId from, const pulsar::SendError& error);
  void on_close_producer(NodeId from, const pulsar::CloseProducer& close);
  void complete_batch(ProducerState& p, std::uint32_t partition, const Batch& batch,
                      SendError error, const pulsar::SendReceipt* receipt);
  void send_timeout_tick(std::uint64_t producer);
  void arm_send_timeout(ProducerState& p);
  void remember_wire_id(ProducerPartition& part, std::uint64_t wire_id);

  // consumer.cc.
  void consumer_partitions(ConsumerState& c, std::uint32_t partitions);
  void send_subscribe(Binding& b, std::uint64_t request_id);
  void consumer_connected(Binding& b);
  void consumer_unbound(Binding& b);
  void on_delivery(NodeId from, const pulsar::Delivery& delivery);
  void on_close_consumer(NodeId from, const pulsar::CloseConsumer& close);
  void pump(std::uint64_t consumer);
  void deliver_one(ConsumerState& c);
  void finished_entry(ConsumerState& c, std::uint32_t partition);
  void send_ack(ConsumerState& c, std::uint32_t partition, pulsar::AckType type,
                const pulsar::MessageId& entry_id);
  void forget_if_done(ConsumerState& c, const EntryKey& key);
  void redeliver(ConsumerState& c, const std::vector<EntryKey>& keys);
  void drop_queued(ConsumerState& c, const std::vector<EntryKey>& keys, std::uint32_t partition);
  void nack_tick(std::uint64_t consumer);
  void ack_timeout_tick(std::uint64_t consumer);

  // transactions.cc.
  void tc_call(pulsar::PulsarMessage message,
               std::function<void(const pulsar::TxnResponse&)> done);
  void tc_transmit(std::uint64_t request_id);
  void tc_fail(std::uint64_t request_id, pulsar::ServerError error);
  void tc_lookup();
  void tc_ask(NodeId broker);
  bool tc_on_lookup(NodeId from, const pulsar::PulsarMessage& message);
  void tc_on_response(NodeId from, const pulsar::TxnResponse& response);
  void tc_lost(NodeId broker);
  void tc_attempt_timeout(std::uint64_t request_id);
  void register_topic(TxnRef txn, const std::string& topic);
  void registered(TxnRef txn, const std::string& topic, TxnError error);
  void txn_ack_now(TxnRef txn, TxnAck ack);
  void on_ack_response(NodeId from, const pulsar::AckResponse& response);
  void txn_op_done(TxnRef txn, bool ok);
  void maybe_end(TxnRef txn);
  void send_end(TxnRef txn, bool commit, std::function<void(TxnError)> done);
  void defer_txn(std::function<void()> fn);

  Runtime& rt_;
  ClientConfig config_;
  std::vector<NodeId> brokers_;  // config_.brokers resolved.
  std::map<std::uint64_t, ProducerState> producers_;
  std::map<std::uint64_t, ConsumerState> consumers_;
  std::map<std::uint64_t, Request> requests_;
  std::map<NodeId, Connection> connections_;
  // Transactions.
  std::string txn_owner_;
  std::uint64_t txn_epoch_ = 0;
  std::map<TxnRef, TxnState> txns_;
  std::map<std::uint64_t, TcRequest> tc_requests_;
  std::map<std::uint64_t, TxnAckOut> txn_acks_;  // By request id.
  NodeId tc_broker_ = kNoNode;      // The coordinator's broker, once looked up.
  std::uint64_t tc_lookup_ = 0;     // The Lookup out for it; 0: none.
  NodeId tc_lookup_to_ = kNoNode;
  TimerId tc_lookup_timer_ = 0;
  std::uint32_t tc_service_index_ = 0;
  std::uint32_t tc_redirects_ = 0;
  std::vector<std::function<void()>> txn_deferred_;
  TimerId txn_drain_timer_ = 0;
  // Producer and consumer ids on the wire, current and (producers) recently abandoned.
  std::map<std::uint64_t, BindingRef> wire_ids_;
  std::uint64_t next_owner_id_ = 1;
  std::uint64_t next_name_ = 0;
  std::uint64_t next_request_id_;
  std::uint64_t next_wire_id_;
  std::vector<Deferred> deferred_;
  std::vector<Deferred> draining_;
  TimerId drain_timer_ = 0;
  pulsar::PulsarMessage out_;  // Reused for every message sent but Send.
  // Reused for Send: its entry string keeps its capacity, so a steady stream of sends
  // does not allocate for serialization.
  pulsar::PulsarMessage send_out_;
  std::vector<std::uint8_t> send_buffer_;
  // The message being handed to on_message: copied, because the callback may ack it and
  // so free its entry while it still reads the views.
  std::string scratch_key_;
  std::string scratch_payload_;
  std::string scratch_producer_;
};

}  // namespace streamlab::client
