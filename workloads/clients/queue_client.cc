#include "workloads/clients/queue_client.h"

#include <algorithm>
#include <cmath>

#include "base/assert.h"
#include "base/draw.h"
#include "broker/pulsar/wire.h"
#include "broker/storage/storage.pb.h"
#include "workloads/clients/queue_ops.h"

namespace streamlab::workloads {

struct QueueClient::ProducerRun {
  QueueProducerConfig config;
  client::Producer* producer = nullptr;
  std::int64_t started_ns = 0;
  std::int64_t due_ns = 0;  // When the current tick was due (catch_up_late_ticks).
  std::uint64_t next_number = 0;
  std::string payload;
  std::vector<double> zipf_cdf;  // Cumulative weights of keys 0..n-1.
};

struct QueueClient::ConsumerRun {
  QueueConsumerConfig config;
  client::Consumer* consumer = nullptr;
  std::uint32_t partitions_topic = 0;
  bool stopped = false;
};

QueueClient::QueueClient(Runtime& runtime, QueueClientConfig config, QueueHistory& history)
    : rt_(runtime),
      config_(std::move(config)),
      history_(history),
      client_(runtime, config_.client),
      timers_(runtime) {}

QueueClient::~QueueClient() = default;

void QueueClient::on_start() {
  for (std::size_t i = 0; i < config_.producers.size(); ++i) {
    timers_.after(config_.producers[i].start_ns, [this, i] { start_producer(i); });
  }
  for (std::size_t i = 0; i < config_.consumers.size(); ++i) {
    timers_.after(config_.consumers[i].start_ns, [this, i] { start_consumer(i); });
  }
  for (const TxnProducerConfig& c : config_.txn_producers) {
    txn_producers_.push_back(std::make_unique<TxnProducerRun>(rt_, client_, history_, c));
    TxnProducerRun* run = txn_producers_.back().get();
    timers_.after(c.start_ns, [run] { run->start(); });
  }
  for (const PipelineConfig& c : config_.pipelines) {
    pipelines_.push_back(std::make_unique<PipelineRun>(rt_, client_, history_, c));
    PipelineRun* run = pipelines_.back().get();
    timers_.after(c.start_ns, [run] { run->start(); });
  }
}

void QueueClient::on_message(NodeId from, std::span<const std::uint8_t> bytes) {
  if (!pulsar::parse_message(bytes, &in_)) return;
  client_.handle(from, in_);
}

void QueueClient::on_connection_broken(NodeId peer) { client_.on_connection_broken(peer); }

// ---- Producing -----------------------------------------------------------------------------

void QueueClient::start_producer(std::size_t index) {
  auto run = std::make_unique<ProducerRun>();
  run->config = config_.producers[index];
  SL_ASSERT_MSG(!run->config.producer.name.empty(), "queue client: a producer needs a name");
  SL_ASSERT(run->config.size_min >= kQueuePayloadHeader && run->config.size_min <= run->config.size_max);
  run->started_ns = rt_.now();
  run->due_ns = run->started_ns;
  run->payload.assign(run->config.size_max, 'x');
  if (run->config.keys == KeyDistribution::zipf) {
    double total = 0;
    for (std::uint32_t k = 1; k <= run->config.key_count; ++k) {
      total += 1.0 / std::pow(static_cast<double>(k), run->config.zipf_exponent);
      run->zipf_cdf.push_back(total);
    }
    for (double& w : run->zipf_cdf) w /= total;
  }
  client::ProducerConfig pc = run->config.producer;
  pc.topic = run->config.topic;
  pc.on_result = [this, index](const client::SendResult& r) { sent(index, r); };
  run->producer = &client_.create_producer(std::move(pc));
  if (producers_.size() <= index) producers_.resize(index + 1);
  producers_[index] = std::move(run);
  tick(index);
}

std::int64_t QueueClient::gap_ns(ProducerRun& run) {
  const QueueProducerConfig& c = run.config;
  const std::int64_t elapsed = rt_.now() - run.started_ns;
  double rate = c.rate_per_s;
  std::int64_t extra = 0;
  switch (c.arrival) {
    case ProducerArrival::constant:
    case ProducerArrival::poisson:
      break;
    case ProducerArrival::ramp:
      if (elapsed < c.ramp_over_ns) {
        const double f = static_cast<double>(elapsed) / static_cast<double>(c.ramp_over_ns);
        rate = std::max(1e-3, c.ramp_from_per_s + (c.rate_per_s - c.ramp_from_per_s) * f);
      }
      break;
    case ProducerArrival::burst: {
      const std::int64_t period = c.burst_on_ns + c.burst_off_ns;
      const std::int64_t phase = elapsed % period;
      // Past the burst: wait for the next one.
      if (phase >= c.burst_on_ns) extra = period - phase;
      break;
    }
  }
  const double mean = 1e9 / rate;
  const double gap = c.arrival == ProducerArrival::poisson
                         ? exponential_from_bits(rt_.random(), mean)
                         : mean;
  return std::max<std::int64_t>(1, std::llround(gap)) + extra;
}

std::int64_t QueueClient::next_tick_delay_ns(ProducerRun& run) {
  const std::int64_t gap = gap_ns(run);
  if (!run.config.catch_up_late_ticks) return gap;
  const std::int64_t now = rt_.now();
  run.due_ns = std::max(run.due_ns + gap, now - kQueueMaxCatchUpNs);
  return std::max<std::int64_t>(0, run.due_ns - now);
}

std::string QueueClient::pick_key(ProducerRun& run) {
  switch (run.config.keys) {
    case KeyDistribution::none:
      return {};
    case KeyDistribution::uniform:
      return "k" + std::to_string(bounded_from_bits(rt_.random(), run.config.key_count));
    case KeyDistribution::zipf: {
      const double u = unit_from_bits(rt_.random());
      const auto it = std::lower_bound(run.zipf_cdf.begin(), run.zipf_cdf.end(), u);
      const std::size_t k = std::min<std::size_t>(it - run.zipf_cdf.begin(), run.zipf_cdf.size() - 1);
      return "k" + std::to_string(k);
    }
  }
  return {};
}

void QueueClient::tick(std::size_t index) {
  ProducerRun& run = *producers_[index];
  const QueueProducerConfig& c = run.config;
  if (rt_.now() - run.started_ns >= c.stop_ns - c.start_ns) return;
  if (c.max_messages != 0 && run.next_number >= c.max_messages) return;
  timers_.after(next_tick_delay_ns(run), [this, index] { tick(index); });
  if (c.arrival == ProducerArrival::burst &&
      (rt_.now() - run.started_ns) % (c.burst_on_ns + c.burst_off_ns) >= c.burst_on_ns) {
    return;
  }
  if (c.block_if_queue_full && run.producer->pending() >= c.producer.max_pending_messages) return;
  const std::uint64_t number = run.next_number++;
  const std::size_t size =
      c.size_min == c.size_max
          ? c.size_min
          : c.size_min + bounded_from_bits(rt_.random(), c.size_max - c.size_min + 1);
  for (int i = 0; i < 8; ++i) run.payload[i] = static_cast<char>(number >> (8 * i));
  QueueOp op;
  op.process = rt_.self();
  op.type = OpType::invoke;
  op.kind = QueueOpKind::send;
  op.producer = c.producer.name;
  op.seq = number;
  op.topic = c.topic;
  op.key = pick_key(run);
  const std::string key = op.key;
  history_.record(std::move(op));
  run.producer->send(key, std::string_view(run.payload).substr(0, size), number);
}

void QueueClient::sent(std::size_t index, const client::SendResult& r) {
  const ProducerRun& run = *producers_[index];
  record_send_result(history_, rt_.self(), run.config.producer.name, run.config.topic, "", r);
}

// ---- Consuming -----------------------------------------------------------------------------

void QueueClient::start_consumer(std::size_t index) {
  auto run = std::make_unique<ConsumerRun>();
  run->config = config_.consumers[index];
  client::ConsumerConfig cc = run->config.consumer;
  cc.on_message = [this, index](const client::Message& m) { received(index, m); };
  run->consumer = &client_.subscribe(std::move(cc));
  if (consumers_.size() <= index) consumers_.resize(index + 1);
  consumers_[index] = std::move(run);
  consumers_[index]->consumer->receive();
  const std::int64_t stop = consumers_[index]->config.stop_ns - consumers_[index]->config.start_ns;
  if (stop < INT64_MAX / 2) {
    timers_.after(stop, [this, index] { consumers_[index]->stopped = true; });
  }
}

void QueueClient::received(std::size_t index, const client::Message& m) {
  ConsumerRun& run = *consumers_[index];
  const QueueConsumerConfig& c = run.config;
  QueueOp op = poll_op(rt_.self(), m, c.consumer.topic, c.consumer.subscription);
  QueueOp ack = op;
  ack.kind = QueueOpKind::ack;
  history_.record(std::move(op));
  const pulsar::MessageId id = m.id;
  const bool nack = c.nack_probability > 0 && unit_from_bits(rt_.random()) < c.nack_probability;
  const bool slow = !nack && c.slow_probability > 0 && unit_from_bits(rt_.random()) < c.slow_probability;
  const std::int64_t busy = c.processing_ns;
  if (slow) {
    // Held aside: the consumer goes on, the ack comes late and leaves a hole meanwhile.
    timers_.after(c.slow_ns, [this, index, id, ack] {
      history_.record(ack);
      consumers_[index]->consumer->acknowledge(id);
    });
    timers_.after(busy, [this, index] {
      if (!consumers_[index]->stopped) consumers_[index]->consumer->receive();
    });
    return;
  }
  timers_.after(busy, [this, index, id, nack, ack] {
    if (!nack) history_.record(ack);
    finish(index, id, nack);
  });
}

void QueueClient::finish(std::size_t index, pulsar::MessageId id, bool nack) {
  ConsumerRun& run = *consumers_[index];
  if (nack) {
    run.consumer->negative_acknowledge(id);
  } else if (run.config.cumulative) {
    run.consumer->acknowledge_cumulative(id);
  } else {
    run.consumer->acknowledge(id);
  }
  if (!run.stopped) run.consumer->receive();
}

}  // namespace streamlab::workloads
