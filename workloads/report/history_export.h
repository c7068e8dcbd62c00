#pragma once

// A run's client history for other tools (`streamlab run --history OUT.edn|OUT.jsonl`).
//
// EDN, in the shape of Jepsen's histories, one op map per line: :type (:invoke :ok :fail
// :info), :f, :value, :process (the client node's id), :time (ns of simulated time), and
// our own :node (its name) and :error. Queue runs follow Jepsen's Kafka workload: a send
// is {:f :send, :value [[:send KEY [OFFSET VALUE]]]} (OFFSET nil until acknowledged), a
// poll {:f :poll, :value [[:poll {KEY [[OFFSET VALUE]]}]]}, with KEY the topic partition
// as stored ("orders", "events-partition-2"), VALUE the message "producer/number" and
// OFFSET the Pulsar message id [ledger entry batch-index] (a position, not a dense
// integer); acks are {:f :ack} likewise, with :subscription. Ledger runs: {:f :append,
// :value [LEDGER ENTRY SEQ]} and {:f :recover, :value [LEDGER LAST-ENTRY]}. Counter runs:
// {:f :add, :value AMOUNT} (ok ops add :counter, the value after the add).
//
// JSONL: the queue ops exactly as workloads/queue_history_io.h writes them (flat
// objects that `streamlab check` and `cluster check` read back); ledger and counter ops
// as flat objects with the same fields under the same names.

#include <string>

#include "workloads/scenario/scenario_config.h"
#include "workloads/run/scenario_runner.h"

namespace streamlab::cli {

// Kept history (RunOptions::keep_history) of `result` as EDN or JSON lines.
std::string history_edn(const workloads::ScenarioConfig& config, const workloads::RunResult& result);
std::string history_jsonl(const workloads::ScenarioConfig& config,
                          const workloads::RunResult& result);

}  // namespace streamlab::cli
