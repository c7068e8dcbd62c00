#pragma once

// The transactional parts of a queue workload client (workloads/queue_client.h), each
// driving the client library's transactions and recording every operation in the history:
//
// - TxnProducerRun: begins a transaction at each tick (at most one open at a time), sends
//   messages_per_txn messages in it (keyed by number, so they spread over partitions and
//   topics), and when every send was answered commits it, or aborts it at the configured
//   odds (an application's own rollback).
// - PipelineRun: consume-transform-produce, the exactly-once pipeline. It takes its owner's
//   epoch (fencing earlier instances), subscribes to the input, and loops: begin; for up to
//   messages_per_txn input messages (or until max_wait since the begin), produce the
//   transformed message to the output and ack the input, both inside the transaction;
//   commit. A transaction ends only at the end of an input batch: a batch is acked as one
//   entry, in the transaction that acks its last message. An output's payload names its
//   input (workloads/pipeline_payload.h). A transaction that fails leaves its inputs to
//   the broker, which redelivers them once it aborts; a fenced instance stops. A consumer
//   that reconnects gets its unacknowledged messages again, so an input already taken
//   into the open transaction is dropped when it comes again: its ack is in flight in
//   that transaction, and transforming it twice would commit a duplicate.

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "broker/client/client.h"
#include "runtime/owned_timers.h"
#include "runtime/runtime.h"
#include "workloads/history/queue_history.h"

namespace streamlab::workloads {

struct TxnProducerConfig {
  std::string name;  // The producer name (identity in the history) and, by default, owner.
  std::string owner;  // Transactional id; empty: transactions have no owner (no epoch).
  std::vector<std::string> topics;  // Messages go to these in turn.
  double rate_per_s = 10;           // Transactions begun per second, at most.
  std::uint32_t messages_per_txn = 4;
  double abort_probability = 0;
  std::int64_t txn_timeout_ns = 10'000'000'000;
  std::size_t size = 64;
  std::int64_t start_ns = 0;
  std::int64_t stop_ns = INT64_MAX;
  std::uint64_t max_txns = 0;  // 0: no limit.
  client::ProducerConfig producer;  // Batching and timeouts; topic and name are set per topic.
};

struct PipelineConfig {
  std::string owner;  // Transactional id: instances with the same owner fence each other.
  client::ConsumerConfig input;     // topic, subscription, type, name.
  client::ProducerConfig output;    // topic, name (the outputs' producer in the history).
  std::uint32_t messages_per_txn = 10;
  std::int64_t max_wait_ns = 100'000'000;  // A transaction commits what it has after this.
  std::int64_t processing_ns = 0;          // Per input message.
  std::int64_t txn_timeout_ns = 10'000'000'000;
  std::int64_t retry_ns = 200'000'000;     // After a transaction could not begin.
  std::int64_t start_ns = 0;
  std::int64_t stop_ns = INT64_MAX;
};

class TxnProducerRun {
 public:
  TxnProducerRun(Runtime& rt, client::Client& client, QueueHistory& history,
                 TxnProducerConfig config);
  void start();

 private:
  void tick();
  void begun(client::TxnError error, client::TxnRef txn);
  void sent(std::size_t topic, const client::SendResult& result);
  void end();

  Runtime& rt_;
  client::Client& client_;
  QueueHistory& history_;
  TxnProducerConfig config_;
  std::vector<client::Producer*> producers_;  // One per topic.
  bool in_txn_ = false;
  client::TxnRef txn_;
  std::string txn_name_;
  std::uint32_t outstanding_ = 0;
  std::uint64_t next_number_ = 0;
  std::uint64_t txns_ = 0;
  std::string payload_;
  OwnedTimers timers_;
};

class PipelineRun {
 public:
  PipelineRun(Runtime& rt, client::Client& client, QueueHistory& history, PipelineConfig config);
  void start();

 private:
  struct Input {
    pulsar::MessageId id;
    std::string partition;  // The input's partition topic.
    std::string producer;
    std::uint64_t seq = 0;
    bool ends_batch = true;  // The last message of its entry.
  };

  void initialized(client::TxnError error);
  void begin();
  void begun(client::TxnError error, client::TxnRef txn);
  void received(const client::Message& m);
  void pump();
  bool taken_in_txn(const pulsar::MessageId& id) const;
  void process(Input input);
  void op_done();
  void maybe_commit();
  void committed(client::TxnError error);

  Runtime& rt_;
  client::Client& client_;
  QueueHistory& history_;
  PipelineConfig config_;
  client::Consumer* consumer_ = nullptr;
  client::Producer* producer_ = nullptr;
  std::deque<Input> inbox_;
  bool receiving_ = false;
  bool in_txn_ = false;
  bool committing_ = false;
  bool processing_ = false;
  bool fenced_ = false;
  client::TxnRef txn_;
  std::string txn_name_;
  std::int64_t txn_begun_ns_ = 0;
  std::uint32_t taken_ = 0;       // Inputs in the current transaction.
  std::vector<pulsar::MessageId> taken_ids_;  // Their ids (at most a few dozen).
  bool mid_batch_ = false;        // The last input taken was not its batch's last.
  std::uint32_t outstanding_ = 0;  // Its sends and acks not answered yet.
  std::uint64_t next_number_ = 0;
  OwnedTimers timers_;
};

}  // namespace streamlab::workloads
