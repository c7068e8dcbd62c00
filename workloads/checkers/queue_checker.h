#pragma once

// Judges a queue (Pulsar-like broker) run, Jepsen-style, from the clients' history
// (workloads/queue_history.h) and the final state of storage: every topic partition's log
// as its readers find it (workloads/queue_log.h). Anomaly names follow Jepsen's queue /
// Kafka checker (REFERENCE.md "Anomaly names"); a message is the producer's
// (name, number) within one partition (see QueueIdentity), and a position is (ledger,
// entry, batch index).
// Transactions (REFERENCE.md "Pulsar transactions (PIP-31)"): a transaction's messages
// are visible in a partition once its commit marker is in that partition's log; its first
// marker there decides (readers ignore a later one), and no marker by the end of the log
// means it did not commit there. A copy is visible when it is not transactional or its
// transaction committed in the partition. A send inside a transaction names it (QueueOp.txn).
// - lost-write: a send acknowledged ok whose message is nowhere in its partition's log,
//   or whose acknowledged position holds another message (a send the broker acked as a
//   duplicate, ledger_id 0, needs only to be present; one acknowledged in a ledger its
//   topic's owner deleted is not lost once a subscription had it, or when its topic has
//   no subscription: retention, not loss; one whose position is past the log
//   while the message is stored elsewhere is not lost); a transaction's message counts
//   only if the transaction committed in its partition. Also, once per transaction, a
//   commit op that returned ok while an abort marker of the transaction is in some log, or
//   a message whose send in it was acknowledged ok is in a partition without the
//   transaction's commit marker;
// - duplicate: a message with more than one visible copy in its partition's log (one per
//   extra copy); and, across a pipeline (workloads/pipeline_payload.h), two distinct
//   visible output messages made from the same input (one per extra output);
// - duplicate-delivery: a delivery to a subscription after an ack of that subscription
//   for the message (ack time < poll time), one per such delivery; an ack inside a
//   transaction counts only if the transaction committed in the acked partition;
// - unseen: a send acknowledged more than unseen_grace_ns before the history's last op,
//   present in the log, delivered to no subscription although some subscription exists on
//   its topic (any poll names it for that topic); a transaction's message only if the
//   transaction committed in its partition, and the grace counts from when it certainly
//   had (its commit op's ok, or an entry after its commit marker acknowledged or read);
// - G1a (aborted read): a delivery of a copy that is not visible; one per delivery;
// - partial-txn: a transaction with a commit marker in one partition and an abort marker in
//   another (or the same), once per transaction; and a subscription that got some but not
//   all of a committed transaction's messages (visible copies) on the topics it reads,
//   the commit having certainly happened (as for unseen) more than unseen_grace_ns before
//   the history's last op, once per (transaction, subscription);
// - poll-skip (exclusive and failover subscriptions): two consecutive first-time
//   deliveries to one consumer process on one partition, at log positions p < q, with a
//   visible message strictly between them that the subscription never received;
// - nonmonotonic-poll (exclusive and failover): a first-time delivery at a log position
//   before the previous first-time delivery's to the same (process, subscription,
//   partition); redeliveries may rewind (at-least-once);
// - nonmonotonic-send: per producer and partition, consecutive send-ok messages (by
//   number) stored in the opposite order;
// - inconsistent-offsets: one position reported by send-ok / poll ops for two messages;
// - unexpected: a log message no send invoked (once per message), or an entry that is
//   neither a batch nor a control entry (a marker or pending-ack record, with no messages);
// - split-brain: per partition, a send acknowledged by broker X for a ledger of ordinal o
//   at time t although another broker Y acknowledged a send for a ledger of higher
//   ordinal before t; except a late reply (X paused with it queued): the send was invoked
//   before Y's ack and the log holds it where X said, so it took effect before the
//   takeover's recovery closed X's ledger.
// Every finding counts once per op or message as said; CheckResult keeps the first example.
// Subscriptions absent from `subscriptions` are taken as shared (no order to check).

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "broker/pulsar/pulsar.pb.h"
#include "broker/storage/bookie_files.h"
#include "workloads/checkers/check_result.h"
#include "workloads/history/queue_history.h"

namespace streamlab::workloads {

// How a stored message (one SingleMessage of an EntryData batch) names itself in the
// history.
enum class QueueIdentity : std::uint8_t {
  // The queue workload's (workloads/queue_client.h): the producer name up to its first '~'
  // and the message's number in the payload's first 8 bytes (little-endian, 0 if shorter),
  // because the client library numbers sequence ids its own way (per partition, and
  // renumbered after a reconnect) while the history records the workload's numbers.
  payload_number,
  // The producer name as stored and SingleMessage.sequence_id.
  sequence_id,
};

struct QueueCheckInput {
  const std::vector<QueueOp>* history = nullptr;
  std::span<const std::uint8_t> metadata_log;
  std::map<std::string, storage::BookieFiles> bookie_files;  // By bookie name.
  std::function<std::string(std::uint32_t)> process_name;
  std::int64_t duration_ns = 0;
  // Configured topic -> partitions (0: not partitioned). A topic absent here is taken as
  // not partitioned unless the metadata log lists "<topic>-partition-<p>".
  std::map<std::string, std::uint32_t> topics;
  std::map<std::string, pulsar::SubscriptionType> subscriptions;  // Name -> type.
  // Messages acknowledged later than this before the end of the history are not required to
  // have been delivered (they may still be in flight): no `unseen` for them.
  std::int64_t unseen_grace_ns = 5'000'000'000;
  QueueIdentity identity = QueueIdentity::payload_number;
};

CheckResult check_queue(const QueueCheckInput& input);

}  // namespace streamlab::workloads
