#pragma once

// A queue history as JSON lines, one operation per line, so histories recorded by
// separate processes (real mode's produce and consume commands) can be judged together
// by the same checker. Fields: time (ns), process, type (invoke/ok/fail/info),
// f (send/poll/ack/commit/abort), producer, seq, topic, partition, subscription, key,
// ledger, entry, batch, broker, redelivery, error, txn ("<most>:<least>"). Fields at their
// default are left out, so a history without transactions reads as it did before them.

#include <string>
#include <vector>

#include "base/result.h"
#include "workloads/history/queue_history.h"

namespace streamlab::workloads {

std::string queue_op_to_json(const QueueOp& op);
// The line must be one object as queue_op_to_json writes it; errors name the field.
Result<QueueOp> queue_op_from_json(const std::string& line);

// Reads a whole file of lines; errors name the file and line.
Result<std::vector<QueueOp>> read_queue_history(const std::string& path);

}  // namespace streamlab::workloads
