#include "workloads/clients/queue_ops.h"

#include <utility>

namespace streamlab::workloads {

void record_send_result(QueueHistory& history, NodeId self, const std::string& producer,
                        const std::string& topic, const std::string& txn,
                        const client::SendResult& r) {
  QueueOp op;
  op.process = self;
  op.kind = QueueOpKind::send;
  op.producer = producer;
  op.seq = r.token;
  op.topic = topic;
  op.txn = txn;
  if (r.error == client::SendError::ok) {
    op.type = OpType::ok;
    op.partition = r.message_id.partition();
    if (!r.duplicate) {
      op.ledger_id = r.message_id.ledger_id();
      op.entry_id = r.message_id.entry_id();
      op.batch_index = r.message_id.batch_index();
    }
    op.broker = r.broker;
  } else {
    const bool refused =
        r.error == client::SendError::queue_full || r.error == client::SendError::txn;
    op.type = refused ? OpType::fail : OpType::info;
    op.error = client::to_string(r.error);
  }
  history.record(std::move(op));
}

QueueOp poll_op(NodeId self, const client::Message& m, const std::string& topic,
                const std::string& subscription) {
  QueueOp op;
  op.process = self;
  op.type = OpType::ok;
  op.kind = QueueOpKind::poll;
  op.producer = std::string(m.producer.substr(0, m.producer.find('~')));
  if (m.payload.size() >= 8) {
    for (std::size_t i = 0; i < 8; ++i) {
      op.seq |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(m.payload[i])) << (8 * i);
    }
  }
  op.topic = topic;
  op.partition = m.id.partition();
  op.subscription = subscription;
  op.key = std::string(m.key);
  op.ledger_id = m.id.ledger_id();
  op.entry_id = m.id.entry_id();
  op.batch_index = m.id.batch_index();
  op.redelivery_count = m.redelivery_count;
  return op;
}

}  // namespace streamlab::workloads
