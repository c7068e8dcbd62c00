#pragma once

// The client library (DESIGN.md section 4, REFERENCE.md "Pulsar"), embedded in a node
// like the metadata client: the node forwards PulsarMessages and broken connections, and
// the library uses the node's Runtime for everything else.
//
// - Lookup: a topic's owner is asked of the configured brokers in turn (a broker answers
//   itself or redirects to the owner); partitioned topics are resolved first.
// - Producer: messages queue in a pending queue bounded by max_pending_messages, are
//   batched (one batch = one ledger entry) until batching_max_publish_delay passes since
//   the batch's first message or it holds batching_max_messages / batching_max_bytes
//   (the linger tradeoff), and are sent to the owner. On a broken connection, a
//   CloseProducer from the broker (the topic moved or was fenced), a send error, or a
//   keepalive that went unanswered, the producer looks the topic up again and resends
//   every pending batch with its sequence ids (REFERENCE.md: deduplication drops those
//   already stored). A message not acknowledged within send_timeout fails.
// - Consumer: subscribes, gives the broker receiver_queue_size permits and asks for more
//   as the application takes messages; acks individually or cumulatively (a batch is
//   acked when all its messages are); with ack_timeout, unacked messages are redelivered;
//   negative acks are redelivered after nack_redelivery_delay. It resubscribes after
//   ownership moves.
// - Transactions (REFERENCE.md "Pulsar transactions (PIP-31)"): the coordinator is found
//   with a Lookup like a topic. A client takes an epoch for its owner (transactional id),
//   begins transactions, sends and acks inside them (each partition is registered with
//   the coordinator before its first use) and commits or aborts; a commit waits until
//   every send and ack of the transaction was answered, and a transaction one of whose
//   operations failed can only abort. Coordinator requests are retried at the next
//   coordinator when this one goes away (they are idempotent there).
//
// Every operation completes through a callback, never inside the call that started it.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "broker/pulsar/pulsar.pb.h"
#include "runtime/runtime.h"

namespace streamlab::client {

struct ClientConfig {
  std::vector<std::string> brokers;  // The service URL: lookups go to these in turn.
  std::int64_t operation_timeout_ns = 30'000'000'000;  // Lookup, create producer, subscribe.
  // Ping every keepalive; a connection with no reply for two keepalives counts as broken.
  std::int64_t keepalive_ns = 30'000'000'000;
  std::int64_t reconnect_backoff_ns = 100'000'000;  // First retry; doubles up to 30x.
  // A load-balanced service URL: partition i's lookups start at broker i (mod the list),
  // so partitions nobody owns yet spread over the brokers, as Pulsar's load manager
  // spreads bundles. Off: every lookup starts at the first broker.
  bool spread_lookups = false;
};

enum class SendError : std::uint8_t {
  ok,
  timeout,     // Not acknowledged within send_timeout: it may or may not be stored.
  queue_full,  // max_pending_messages reached: never sent.
  closed,      // The producer was closed; pending messages may or may not be stored.
  failed,      // Resends are off and the connection broke: it may or may not be stored.
  txn,         // Its transaction could not take it (ended, fenced, refused): not visible.
};
const char* to_string(SendError error);

struct SendResult {
  std::uint64_t token = 0;  // The caller's, from send().
  // Per partition (Pulsar's per-partition producers): each partition numbers its
  // messages from 0, or from after the last id the topic holds for the producer name.
  std::uint64_t sequence_id = 0;
  SendError error = SendError::ok;
  pulsar::MessageId message_id;  // ok: where it is stored (batch_index set).
  std::string broker;            // ok: who acknowledged it.
  bool duplicate = false;        // ok: the broker's deduplication dropped it as stored.
};

struct ProducerConfig {
  std::string topic;
  std::string name;  // Empty: "<node>-<n>".
  // 0 turns batching off: every message is its own entry.
  std::int64_t batching_max_publish_delay_ns = 1'000'000;
  std::uint32_t batching_max_messages = 1000;
  std::uint32_t batching_max_bytes = 128 * 1024;
  std::uint32_t max_pending_messages = 1000;  // Across all partitions.
  // 0: off. A batch (one entry) times out as a whole, when its oldest message does.
  std::int64_t send_timeout_ns = 30'000'000'000;
  // Resend pending messages after a reconnect (false: they fail, at most once).
  bool resend = true;
  // Keep the producer name across reconnects, so the broker's deduplication recognises
  // resends. false: a fresh name per connection, as a non-idempotent producer
  // ("<name>~<n>" after the n-th connection; the first uses the name itself).
  bool idempotent = true;
  std::function<void(const SendResult&)> on_result;
};

// A received message. Views are valid only during the callback.
struct Message {
  pulsar::MessageId id;
  std::string_view topic;  // The partition's topic.
  std::string_view producer;
  std::uint64_t sequence_id = 0;
  std::string_view key;
  std::string_view payload;
  std::int64_t publish_time_ns = 0;
  std::uint32_t redelivery_count = 0;
  std::uint32_t batch_size = 1;  // Messages in its entry (id.batch_index is its place there).
};

struct ConsumerConfig {
  std::string topic;
  std::string subscription;
  pulsar::SubscriptionType type = pulsar::EXCLUSIVE;
  std::string name;  // Empty: "<node>-<n>".
  pulsar::InitialPosition initial_position = pulsar::EARLIEST;
  std::uint32_t receiver_queue_size = 1000;
  std::int64_t ack_timeout_ns = 0;  // 0: off (Pulsar's default).
  std::int64_t nack_redelivery_delay_ns = 60'000'000'000;
  // Unsafe: see transactional messages before they commit, and aborted ones.
  bool read_uncommitted = false;
  // Called once per receive(), when a message is there.
  std::function<void(const Message&)> on_message;
};

// A transaction, as the coordinator numbered it.
struct TxnRef {
  std::uint64_t most = 0;
  std::uint64_t least = 0;
  auto operator<=>(const TxnRef&) const = default;
};
std::string to_string(const TxnRef& txn);
// Outside a transaction: the coordinator numbers transactions from 1, so no id is zero.
inline constexpr TxnRef kNoTxn{};

enum class TxnError : std::uint8_t {
  ok,
  not_open,  // Unknown to the coordinator, or ended (timed out, aborted by a newer epoch).
  fenced,    // A newer instance of this owner took the epoch.
  conflict,  // An ack: another transaction holds the message.
  timeout,   // No coordinator answered within operation_timeout: the outcome is unknown.
  disabled,  // The brokers run without transactions.
  failed,    // One of its operations failed, so a commit aborted it instead.
};
const char* to_string(TxnError error);

class Producer;
class Consumer;

class Client {
 public:
  Client(Runtime& runtime, ClientConfig config);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // The client owns producers and consumers; references stay valid while it lives.
  Producer& create_producer(ProducerConfig config);
  Consumer& subscribe(ConsumerConfig config);

  // Transactions. Takes a fresh epoch for `owner` (fencing earlier instances of it);
  // transactions begun after it belong to the owner. Without it they have no owner.
  void init_transactions(const std::string& owner, std::function<void(TxnError)> done);
  void begin_transaction(std::int64_t timeout_ns, std::function<void(TxnError, TxnRef)> done);
  void commit(TxnRef txn, std::function<void(TxnError)> done);
  void abort(TxnRef txn, std::function<void(TxnError)> done);

  // The node forwards messages and broken connections; false when not for the client.
  bool handle(NodeId from, const pulsar::PulsarMessage& message);
  void on_connection_broken(NodeId peer);

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

class Producer {
 public:
  // Queues a message; its result comes through ProducerConfig::on_result.
  void send(std::string_view key, std::string_view payload, std::uint64_t token);
  // Inside an open transaction of this client (its result is SendError::txn if the
  // transaction cannot take it).
  void send(std::string_view key, std::string_view payload, std::uint64_t token, TxnRef txn);
  std::size_t pending() const;
  // Fails what is pending with `closed` and sends CloseProducer.
  void close();

 private:
  friend class Client::Impl;
  explicit Producer(Client::Impl& impl, std::uint64_t id) : impl_(impl), id_(id) {}
  Client::Impl& impl_;
  std::uint64_t id_;
};

class Consumer {
 public:
  // Asks for one message: on_message runs once when one is there.
  void receive();
  void acknowledge(const pulsar::MessageId& id);
  // Batches are acked whole: acks up to id's entry when id is the entry's last message,
  // otherwise up to the entry before it (nothing when id is at entry 0 of its ledger).
  void acknowledge_cumulative(const pulsar::MessageId& id);
  void negative_acknowledge(const pulsar::MessageId& id);
  // Inside an open transaction: takes effect when it commits. A batch's entry is acked
  // (and done runs with the broker's answer) once all its messages are, inside the
  // transaction of the last one; done(ok) at once for the others. So a transaction must
  // take whole batches: one that commits with part of a batch acked has acked nothing of
  // it (Message::batch_size tells where a batch ends).
  void acknowledge(const pulsar::MessageId& id, TxnRef txn, std::function<void(TxnError)> done);
  // Sends CloseConsumer; receives still outstanding are never answered.
  void close();

 private:
  friend class Client::Impl;
  explicit Consumer(Client::Impl& impl, std::uint64_t id) : impl_(impl), id_(id) {}
  Client::Impl& impl_;
  std::uint64_t id_;
};

}  // namespace streamlab::client
