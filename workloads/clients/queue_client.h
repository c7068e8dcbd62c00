#pragma once

// A queue workload client (DESIGN.md section 5): a node running producers and consumers
// through the client library, recording every send, delivery and acknowledgement in the
// history. Producers are open loop at a constant, Poisson, ramping or bursting rate, with
// message sizes uniform in a range and keys none, uniform or zipf-distributed; a send
// that the pending queue refuses is recorded as failed, unless the producer blocks when
// its queue is full (then that tick sends nothing). Consumers take one message at a
// time, spend the processing time on it, then ack it (or, at the configured odds, nack
// it, or hold it for the slow time first, which leaves ack holes).
//
// A message's payload starts with its number in its producer's stream (u64,
// little-endian): (producer name, number) is the message's identity in the history and in
// the log, whatever sequence ids the client library gives it.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "broker/client/client.h"
#include "runtime/owned_timers.h"
#include "runtime/runtime.h"
#include "workloads/history/queue_history.h"
#include "workloads/clients/txn_client.h"

namespace streamlab::workloads {

inline constexpr std::size_t kQueuePayloadHeader = 8;
inline constexpr std::int64_t kQueueMaxCatchUpNs = 100'000'000;

enum class ProducerArrival : std::uint8_t { constant, poisson, ramp, burst };
enum class KeyDistribution : std::uint8_t { none, uniform, zipf };

struct QueueProducerConfig {
  std::string topic;
  double rate_per_s = 100;
  ProducerArrival arrival = ProducerArrival::constant;
  double ramp_from_per_s = 0;
  std::int64_t ramp_over_ns = 0;
  std::int64_t burst_on_ns = 0;
  std::int64_t burst_off_ns = 0;
  std::size_t size_min = 1024;
  std::size_t size_max = 1024;
  KeyDistribution keys = KeyDistribution::none;
  std::uint32_t key_count = 100;
  double zipf_exponent = 1.0;
  std::int64_t start_ns = 0;
  std::int64_t stop_ns = INT64_MAX;
  std::uint64_t max_messages = 0;  // 0: no limit.
  // Pulsar's blockIfQueueFull: while the producer holds max_pending_messages unacknowledged
  // messages, a tick sends nothing (no number is used, nothing is recorded), as an
  // application blocked in send() would, and the next tick tries again. Off: such a send
  // is made and fails with queue_full.
  bool block_if_queue_full = false;
  // Real mode: timers fire late by the OS's wake-up latency, and gaps counted from each late
  // tick lower the rate (2000/s gave about 1600/s on loopback). On, a tick is due one gap
  // after the previous one was due, so late ticks are made up at once, but at most
  // kQueueMaxCatchUpNs of them: after a longer stall the older missed ticks are dropped
  // rather than sent as one long burst. Off, as in the simulator, whose timers fire on
  // time, gaps count from each tick.
  bool catch_up_late_ticks = false;
  client::ProducerConfig producer;  // Its name is the producer's identity; required.
};

struct QueueConsumerConfig {
  std::int64_t processing_ns = 0;
  bool cumulative = false;
  double nack_probability = 0;
  double slow_probability = 0;
  std::int64_t slow_ns = 0;
  std::int64_t start_ns = 0;
  std::int64_t stop_ns = INT64_MAX;
  client::ConsumerConfig consumer;  // topic, subscription, type, name, queue, timeouts.
};

struct QueueClientConfig {
  client::ClientConfig client;
  std::vector<QueueProducerConfig> producers;
  std::vector<QueueConsumerConfig> consumers;
  std::vector<TxnProducerConfig> txn_producers;  // workloads/txn_client.h
  std::vector<PipelineConfig> pipelines;
};

class QueueClient final : public Node {
 public:
  QueueClient(Runtime& runtime, QueueClientConfig config, QueueHistory& history);
  ~QueueClient() override;

  void on_start() override;
  void on_message(NodeId from, std::span<const std::uint8_t> bytes) override;
  void on_connection_broken(NodeId peer) override;

 private:
  struct ProducerRun;
  struct ConsumerRun;

  void start_producer(std::size_t index);
  void tick(std::size_t index);
  std::int64_t gap_ns(ProducerRun& run);
  std::int64_t next_tick_delay_ns(ProducerRun& run);
  std::string pick_key(ProducerRun& run);
  void sent(std::size_t index, const client::SendResult& result);
  void start_consumer(std::size_t index);
  void received(std::size_t index, const client::Message& message);
  void finish(std::size_t index, pulsar::MessageId id, bool nack);

  Runtime& rt_;
  QueueClientConfig config_;
  QueueHistory& history_;
  client::Client client_;
  std::vector<std::unique_ptr<ProducerRun>> producers_;
  std::vector<std::unique_ptr<ConsumerRun>> consumers_;
  std::vector<std::unique_ptr<TxnProducerRun>> txn_producers_;
  std::vector<std::unique_ptr<PipelineRun>> pipelines_;
  pulsar::PulsarMessage in_;
  OwnedTimers timers_;
};

}  // namespace streamlab::workloads
