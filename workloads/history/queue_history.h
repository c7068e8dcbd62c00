#pragma once

// The history of a queue workload (Jepsen's queue / Kafka workloads): every send
// (invoke, then ok with where the message was stored and which broker acknowledged it,
// fail when it certainly was not stored, info when the client cannot know) and every
// delivery (recorded once, as ok, when a consumer receives a message) and every
// acknowledgement a consumer sends (recorded once, as ok, with the message it acks).
// Transactions (workloads/txn_client.h): sends and acks inside one carry its id, and its
// end is a commit or abort op (invoke, then ok when the coordinator confirmed it, fail
// when it certainly did not happen, info when the outcome is unknown).

#include <cstdint>
#include <string>

#include "workloads/history/history.h"
#include "workloads/history/name.h"

namespace streamlab::workloads {

enum class QueueOpKind : std::uint8_t { send, poll, ack, commit, abort };

struct QueueOp {
  std::int64_t time_ns = 0;
  std::uint32_t process = 0;  // The client node.
  OpType type = OpType::invoke;
  QueueOpKind kind = QueueOpKind::send;
  Name producer;          // The producer's name (poll: the message's producer).
  std::uint64_t seq = 0;  // The producer's sequence number for the message.
  Name topic;             // The topic as configured (not the partition's name).
  std::uint32_t partition = 0;
  Name subscription;  // poll and ack.
  Name key;
  // send ok, poll and ack: where the message is stored.
  std::uint64_t ledger_id = 0;
  std::int64_t entry_id = -1;
  std::int32_t batch_index = -1;
  Name broker;                         // send ok: the broker that acknowledged it.
  std::uint32_t redelivery_count = 0;  // poll.
  Name error;                          // fail / info: why.
  Name txn;  // send / ack inside a transaction, commit / abort: "<most>:<least>".
};
// Millions of ops make a long run's history: names are interned to keep each op small.
static_assert(sizeof(QueueOp) <= 88);

using QueueHistory = HistoryOf<QueueOp>;

}  // namespace streamlab::workloads
