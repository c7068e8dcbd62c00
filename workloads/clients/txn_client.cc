#include "workloads/clients/txn_client.h"

#include <algorithm>
#include <utility>

#include "base/assert.h"
#include "base/draw.h"
#include "workloads/history/pipeline_payload.h"
#include "workloads/clients/queue_ops.h"

namespace streamlab::workloads {

namespace {

std::string txn_name(client::TxnRef txn) {
  return std::to_string(txn.most) + ":" + std::to_string(txn.least);
}


// A commit or abort: ok when the coordinator confirmed it; fail when it certainly did not
// happen (the coordinator refused, or aborted instead); info when nobody answered.
void record_end(QueueHistory& history, NodeId self, bool commit, const std::string& txn,
                OpType type, client::TxnError error) {
  QueueOp op;
  op.process = self;
  op.kind = commit ? QueueOpKind::commit : QueueOpKind::abort;
  op.type = type;
  op.txn = txn;
  if (type != OpType::invoke) {
    op.type = error == client::TxnError::ok        ? OpType::ok
              : error == client::TxnError::timeout ? OpType::info
                                                   : OpType::fail;
    if (error != client::TxnError::ok) op.error = client::to_string(error);
  }
  history.record(std::move(op));
}

}  // namespace

// ---- The transactional producer ------------------------------------------------------------

TxnProducerRun::TxnProducerRun(Runtime& rt, client::Client& client, QueueHistory& history,
                               TxnProducerConfig config)
    : rt_(rt), client_(client), history_(history), config_(std::move(config)), timers_(rt) {
  SL_ASSERT_MSG(!config_.name.empty(), "txn producer: needs a name");
  SL_ASSERT_MSG(!config_.topics.empty(), "txn producer: needs a topic");
  SL_ASSERT(config_.messages_per_txn >= 1 && config_.rate_per_s > 0);
  SL_ASSERT_GE(config_.size, 8);
  payload_.assign(config_.size, 'x');
}

void TxnProducerRun::start() {
  for (std::size_t t = 0; t < config_.topics.size(); ++t) {
    client::ProducerConfig pc = config_.producer;
    pc.topic = config_.topics[t];
    pc.name = config_.name;
    pc.on_result = [this, t](const client::SendResult& r) { sent(t, r); };
    producers_.push_back(&client_.create_producer(std::move(pc)));
  }
  if (config_.owner.empty()) {
    tick();
    return;
  }
  client_.init_transactions(config_.owner, [this](client::TxnError e) {
    if (e == client::TxnError::ok) tick();
  });
}

void TxnProducerRun::tick() {
  if (rt_.now() >= config_.stop_ns || (config_.max_txns != 0 && txns_ >= config_.max_txns)) return;
  timers_.after(static_cast<std::int64_t>(1e9 / config_.rate_per_s), [this] { tick(); });
  if (in_txn_) return;  // One transaction at a time; this tick is skipped.
  in_txn_ = true;
  ++txns_;
  client_.begin_transaction(config_.txn_timeout_ns,
                            [this](client::TxnError e, client::TxnRef txn) { begun(e, txn); });
}

void TxnProducerRun::begun(client::TxnError error, client::TxnRef txn) {
  if (error != client::TxnError::ok) {
    in_txn_ = false;
    return;
  }
  txn_ = txn;
  txn_name_ = txn_name(txn);
  outstanding_ = config_.messages_per_txn;
  for (std::uint32_t i = 0; i < config_.messages_per_txn; ++i) {
    const std::uint64_t number = next_number_++;
    const std::size_t t = i % config_.topics.size();
    for (int b = 0; b < 8; ++b) payload_[b] = static_cast<char>(number >> (8 * b));
    QueueOp op;
    op.process = rt_.self();
    op.type = OpType::invoke;
    op.kind = QueueOpKind::send;
    op.producer = config_.name;
    op.seq = number;
    op.topic = config_.topics[t];
    op.key = std::to_string(number);
    op.txn = txn_name_;
    const std::string key = op.key;
    history_.record(std::move(op));
    producers_[t]->send(key, payload_, number, txn);
  }
}

void TxnProducerRun::sent(std::size_t topic, const client::SendResult& result) {
  record_send_result(history_, rt_.self(), config_.name, config_.topics[topic], txn_name_, result);
  SL_ASSERT_GT(outstanding_, 0);
  if (--outstanding_ == 0) end();
}

void TxnProducerRun::end() {
  const bool commit =
      !(config_.abort_probability > 0 && unit_from_bits(rt_.random()) < config_.abort_probability);
  const std::string name = txn_name_;
  record_end(history_, rt_.self(), commit, name, OpType::invoke, client::TxnError::ok);
  auto done = [this, commit, name](client::TxnError e) {
    record_end(history_, rt_.self(), commit, name, OpType::ok, e);
    in_txn_ = false;
  };
  if (commit) {
    client_.commit(txn_, done);
  } else {
    client_.abort(txn_, done);
  }
}

// ---- The pipeline --------------------------------------------------------------------------

PipelineRun::PipelineRun(Runtime& rt, client::Client& client, QueueHistory& history,
                         PipelineConfig config)
    : rt_(rt), client_(client), history_(history), config_(std::move(config)), timers_(rt) {
  SL_ASSERT_MSG(!config_.output.name.empty(), "pipeline: the output producer needs a name");
  SL_ASSERT_GE(config_.messages_per_txn, 1);
}

void PipelineRun::start() {
  if (config_.owner.empty()) {
    initialized(client::TxnError::ok);
    return;
  }
  client_.init_transactions(config_.owner, [this](client::TxnError e) { initialized(e); });
}

void PipelineRun::initialized(client::TxnError error) {
  if (error == client::TxnError::fenced) return;
  if (error != client::TxnError::ok) {
    timers_.after(config_.retry_ns, [this] { start(); });
    return;
  }
  client::ProducerConfig pc = config_.output;
  const std::string out_topic = pc.topic;
  const std::string out_name = pc.name;
  pc.on_result = [this, out_topic, out_name](const client::SendResult& r) {
    record_send_result(history_, rt_.self(), out_name, out_topic, txn_name_, r);
    op_done();
  };
  producer_ = &client_.create_producer(std::move(pc));
  client::ConsumerConfig cc = config_.input;
  cc.on_message = [this](const client::Message& m) { received(m); };
  consumer_ = &client_.subscribe(std::move(cc));
  begin();
}

void PipelineRun::begin() {
  if (fenced_ || rt_.now() >= config_.stop_ns) return;
  client_.begin_transaction(config_.txn_timeout_ns,
                            [this](client::TxnError e, client::TxnRef txn) { begun(e, txn); });
}

void PipelineRun::begun(client::TxnError error, client::TxnRef txn) {
  if (error == client::TxnError::fenced) {
    fenced_ = true;
    return;
  }
  if (error != client::TxnError::ok) {
    timers_.after(config_.retry_ns, [this] { begin(); });
    return;
  }
  in_txn_ = true;
  committing_ = false;
  txn_ = txn;
  txn_name_ = txn_name(txn);
  txn_begun_ns_ = rt_.now();
  taken_ = 0;
  taken_ids_.clear();
  outstanding_ = 0;
  timers_.after(config_.max_wait_ns, [this, txn] {
    if (!in_txn_ || txn_ != txn || committing_) return;
    if (mid_batch_) {
      // The rest of the batch is on its way (an entry is delivered whole): end after it.
      taken_ = std::max(taken_, config_.messages_per_txn);
      return;
    }
    maybe_commit();
  });
  pump();
}

void PipelineRun::received(const client::Message& m) {
  receiving_ = false;
  QueueOp op = poll_op(rt_.self(), m, config_.input.topic, config_.input.subscription);
  Input in{m.id, std::string(m.topic), op.producer, op.seq,
           m.id.batch_index() < 0 ||
               static_cast<std::uint32_t>(m.id.batch_index()) + 1 >= m.batch_size};
  history_.record(std::move(op));
  inbox_.push_back(std::move(in));
  pump();
}

void PipelineRun::pump() {
  if (!in_txn_ || committing_ || processing_) return;
  if (taken_ >= config_.messages_per_txn && !mid_batch_) {
    maybe_commit();
    return;
  }
  while (!inbox_.empty() && taken_in_txn(inbox_.front().id)) inbox_.pop_front();
  if (inbox_.empty()) {
    if (!receiving_) {
      receiving_ = true;
      consumer_->receive();
    }
    return;
  }
  Input in = std::move(inbox_.front());
  inbox_.pop_front();
  process(std::move(in));
}

bool PipelineRun::taken_in_txn(const pulsar::MessageId& id) const {
  return std::any_of(taken_ids_.begin(), taken_ids_.end(), [&id](const pulsar::MessageId& t) {
    return t.ledger_id() == id.ledger_id() && t.entry_id() == id.entry_id() &&
           t.batch_index() == id.batch_index() && t.partition() == id.partition();
  });
}

void PipelineRun::process(Input input) {
  processing_ = true;
  ++taken_;
  taken_ids_.push_back(input.id);
  mid_batch_ = !input.ends_batch;
  timers_.after(config_.processing_ns, [this, input] {
    processing_ = false;
    const std::uint64_t number = next_number_++;
    QueueOp op;
    op.process = rt_.self();
    op.type = OpType::invoke;
    op.kind = QueueOpKind::send;
    op.producer = config_.output.name;
    op.seq = number;
    op.topic = config_.output.topic;
    op.txn = txn_name_;
    history_.record(std::move(op));
    outstanding_ += 2;
    const PipelineSource source{input.partition, input.producer, input.seq};
    producer_->send("", encode_pipeline_payload(number, source), number, txn_);
    QueueOp ack;
    ack.process = rt_.self();
    ack.type = OpType::ok;
    ack.kind = QueueOpKind::ack;
    ack.producer = input.producer;
    ack.seq = input.seq;
    ack.topic = config_.input.topic;
    ack.partition = input.id.partition();
    ack.subscription = config_.input.subscription;
    ack.ledger_id = input.id.ledger_id();
    ack.entry_id = input.id.entry_id();
    ack.batch_index = input.id.batch_index();
    ack.txn = txn_name_;
    consumer_->acknowledge(input.id, txn_, [this, ack](client::TxnError e) {
      if (e == client::TxnError::ok) history_.record(ack);
      op_done();
    });
    pump();
  });
}

void PipelineRun::op_done() {
  SL_ASSERT_GT(outstanding_, 0);
  --outstanding_;
  if (committing_) maybe_commit();
}

void PipelineRun::maybe_commit() {
  committing_ = true;
  if (outstanding_ != 0 || processing_) return;
  if (!in_txn_) return;
  in_txn_ = false;
  if (taken_ == 0) {
    // Nothing came: end it quietly and wait for input.
    client_.abort(txn_, [this](client::TxnError) {
      committing_ = false;
      timers_.after(config_.max_wait_ns, [this] { begin(); });
    });
    return;
  }
  const std::string name = txn_name_;
  record_end(history_, rt_.self(), true, name, OpType::invoke, client::TxnError::ok);
  client_.commit(txn_, [this, name](client::TxnError e) {
    record_end(history_, rt_.self(), true, name, OpType::ok, e);
    committed(e);
  });
}

void PipelineRun::committed(client::TxnError error) {
  committing_ = false;
  if (error == client::TxnError::fenced) {
    fenced_ = true;
    return;
  }
  begin();
}

}  // namespace streamlab::workloads
