#include "workloads/report/history_export.h"

#include "broker/pulsar/wire.h"
#include "workloads/history/history_io.h"
#include "workloads/history/queue_history_io.h"

namespace streamlab::cli {

namespace {

using workloads::LedgerOp;
using workloads::LedgerOpKind;
using workloads::Op;
using workloads::OpType;
using workloads::QueueOp;
using workloads::QueueOpKind;

std::string edn_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + '"';
}

std::string node_name(const workloads::ScenarioConfig& config, std::uint32_t node) {
  return node < config.topology.nodes.size() ? config.topology.nodes[node].name : "";
}

// The common head of every op: {:type :ok, :f :send, :process 3, :node "client-1", :time t
std::string edn_head(const workloads::ScenarioConfig& config, OpType type, const char* f,
                     std::uint32_t process, std::int64_t time_ns) {
  return std::string("{:type :") + workloads::to_string(type) + ", :f :" + f +
         ", :process " + std::to_string(process) + ", :node " +
         edn_string(node_name(config, process)) + ", :time " + std::to_string(time_ns);
}

std::string edn_tail(const std::string& error) {
  return error.empty() ? "}" : ", :error " + edn_string(error) + "}";
}

// The partition as stored: the topic itself when it is not partitioned.
std::string queue_key(const workloads::ScenarioConfig& config, const QueueOp& op) {
  const auto it = config.pulsar.topics.find(op.topic);
  const bool partitioned = it != config.pulsar.topics.end() && it->second > 0;
  return partitioned ? pulsar::partition_name(op.topic, op.partition) : op.topic.str();
}

std::string queue_edn(const workloads::ScenarioConfig& config, const QueueOp& op) {
  const std::string value = edn_string(op.producer + "/" + std::to_string(op.seq));
  const std::string offset =
      op.ledger_id == 0 ? "nil"
                        : "[" + std::to_string(op.ledger_id) + " " + std::to_string(op.entry_id) +
                              " " + std::to_string(op.batch_index) + "]";
  // A send is routed to its partition only when acknowledged: until then its key is the
  // topic, as the producer named it.
  const std::string key = edn_string(op.kind == QueueOpKind::send && op.type != OpType::ok
                                         ? op.topic.str()
                                         : queue_key(config, op));
  std::string out;
  switch (op.kind) {
    case QueueOpKind::send:
      out = edn_head(config, op.type, "send", op.process, op.time_ns) + ", :value [[:send " +
            key + " [" + offset + " " + value + "]]]";
      break;
    case QueueOpKind::poll:
      out = edn_head(config, op.type, "poll", op.process, op.time_ns) + ", :value [[:poll {" +
            key + " [[" + offset + " " + value + "]]}]], :subscription " +
            edn_string(op.subscription);
      if (op.redelivery_count > 0) out += ", :redelivery " + std::to_string(op.redelivery_count);
      break;
    case QueueOpKind::ack:
      out = edn_head(config, op.type, "ack", op.process, op.time_ns) + ", :value [[:ack " + key +
            " [" + offset + " " + value + "]]], :subscription " + edn_string(op.subscription);
      break;
    case QueueOpKind::commit:
    case QueueOpKind::abort:
      // A transaction's end, by its id: its sends and acks carry the same :txn.
      out = edn_head(config, op.type, op.kind == QueueOpKind::commit ? "commit" : "abort",
                     op.process, op.time_ns) +
            ", :value " + edn_string(op.txn);
      return out + edn_tail(op.error);
  }
  if (!op.txn.empty()) out += ", :txn " + edn_string(op.txn);
  return out + edn_tail(op.error);
}

std::string ledger_edn(const workloads::ScenarioConfig& config, const LedgerOp& op) {
  if (op.kind == LedgerOpKind::recover) {
    return edn_head(config, op.type, "recover", op.process, op.time_ns) + ", :value [" +
           std::to_string(op.ledger_id) + " " + std::to_string(op.entry_id) + "]" +
           edn_tail(op.error);
  }
  const std::string ledger = op.ledger_id == 0 ? "nil" : std::to_string(op.ledger_id);
  const std::string entry = op.entry_id < 0 ? "nil" : std::to_string(op.entry_id);
  return edn_head(config, op.type, "append", op.process, op.time_ns) + ", :value [" + ledger +
         " " + entry + " " + std::to_string(op.seq) + "]" + edn_tail(op.error);
}

std::string counter_edn(const workloads::ScenarioConfig& config, const Op& op) {
  std::string out = edn_head(config, op.type, "add", op.process, op.time_ns) + ", :value " +
                    std::to_string(op.amount) + ", :request " + std::to_string(op.request_id);
  if (op.type == OpType::ok) out += ", :counter " + std::to_string(op.value);
  return out + edn_tail(op.error);
}

}  // namespace

std::string history_edn(const workloads::ScenarioConfig& config,
                        const workloads::RunResult& result) {
  std::string out;
  for (const QueueOp& op : result.history.queue) out += queue_edn(config, op) + '\n';
  for (const LedgerOp& op : result.history.ledger) out += ledger_edn(config, op) + '\n';
  for (const Op& op : result.history.counter) out += counter_edn(config, op) + '\n';
  return out;
}

std::string history_jsonl(const workloads::ScenarioConfig& config,
                          const workloads::RunResult& result) {
  std::string out;
  for (const QueueOp& op : result.history.queue) out += workloads::queue_op_to_json(op) + '\n';
  for (const LedgerOp& op : result.history.ledger) out += workloads::ledger_op_to_json(op) + '\n';
  for (const Op& op : result.history.counter) out += workloads::counter_op_to_json(op) + '\n';
  return out;
}

}  // namespace streamlab::cli
