#pragma once

// How the client library's results become queue history ops (workloads/queue_history.h),
// for every workload client that records them: plain producers and consumers
// (workloads/queue_client.h), transactional producers and pipelines (workloads/txn_client.h).

#include <cstdint>
#include <string>

#include "broker/client/client.h"
#include "runtime/runtime.h"
#include "workloads/history/queue_history.h"

namespace streamlab::workloads {

// A send's result: ok with where it is stored; fail when it certainly was not (refused
// before it was sent, or by its transaction); info when nobody knows. txn: the
// transaction's name, empty outside one.
void record_send_result(QueueHistory& history, NodeId self, const std::string& producer,
                        const std::string& topic, const std::string& txn,
                        const client::SendResult& r);

// A delivery to a consumer of `topic` (as configured) on `subscription`: the message's
// identity is its producer's name up to the first '~' and the number its payload starts with.
QueueOp poll_op(NodeId self, const client::Message& m, const std::string& topic,
                const std::string& subscription);

}  // namespace streamlab::workloads
