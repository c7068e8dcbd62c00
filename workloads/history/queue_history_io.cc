#include "workloads/history/queue_history_io.h"

#include <cstdio>
#include <fstream>
#include <map>

#include "workloads/history/flat_json.h"

namespace streamlab::workloads {

namespace {

void put_string(std::string& out, const char* key, const std::string& value) {
  if (value.empty()) return;
  out += out.size() > 1 ? ",\"" : "\"";
  out += key;
  out += "\":\"";
  for (const char c : value) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void put_int(std::string& out, const char* key, long long value, long long fallback) {
  if (value == fallback) return;
  out += out.size() > 1 ? ",\"" : "\"";
  out += key;
  out += "\":";
  out += std::to_string(value);
}

const char* kind_name(QueueOpKind kind) {
  switch (kind) {
    case QueueOpKind::send: return "send";
    case QueueOpKind::poll: return "poll";
    case QueueOpKind::ack: return "ack";
    case QueueOpKind::commit: return "commit";
    case QueueOpKind::abort: return "abort";
  }
  return "?";
}

}  // namespace

std::string queue_op_to_json(const QueueOp& op) {
  std::string out = "{";
  put_int(out, "time", op.time_ns, -1);
  put_int(out, "process", op.process, -1);
  put_string(out, "type", to_string(op.type));
  put_string(out, "f", kind_name(op.kind));
  put_string(out, "producer", op.producer);
  put_int(out, "seq", static_cast<long long>(op.seq), -1);
  put_string(out, "topic", op.topic);
  put_int(out, "partition", op.partition, 0);
  put_string(out, "subscription", op.subscription);
  put_string(out, "key", op.key);
  put_int(out, "ledger", static_cast<long long>(op.ledger_id), 0);
  put_int(out, "entry", op.entry_id, -1);
  put_int(out, "batch", op.batch_index, -1);
  put_string(out, "broker", op.broker);
  put_int(out, "redelivery", op.redelivery_count, 0);
  put_string(out, "error", op.error);
  put_string(out, "txn", op.txn);  // Last: lines without transactions are as they were.
  out += '}';
  return out;
}

Result<QueueOp> queue_op_from_json(const std::string& line) {
  Result<std::map<std::string, std::string>> fields = parse_flat_json(line);
  if (!fields) return Error{fields.error()};
  QueueOp op;
  for (const auto& [key, value] : fields.value()) {
    try {
      if (key == "time") op.time_ns = std::stoll(value);
      else if (key == "process") op.process = static_cast<std::uint32_t>(std::stoul(value));
      else if (key == "type") {
        if (value == "invoke") op.type = OpType::invoke;
        else if (value == "ok") op.type = OpType::ok;
        else if (value == "fail") op.type = OpType::fail;
        else if (value == "info") op.type = OpType::info;
        else return Error{"type: \"" + value + "\" is not invoke, ok, fail or info"};
      } else if (key == "f") {
        if (value == "send") op.kind = QueueOpKind::send;
        else if (value == "poll") op.kind = QueueOpKind::poll;
        else if (value == "ack") op.kind = QueueOpKind::ack;
        else if (value == "commit") op.kind = QueueOpKind::commit;
        else if (value == "abort") op.kind = QueueOpKind::abort;
        else return Error{"f: \"" + value + "\" is not send, poll, ack, commit or abort"};
      } else if (key == "producer") op.producer = value;
      else if (key == "seq") op.seq = std::stoull(value);
      else if (key == "topic") op.topic = value;
      else if (key == "partition") op.partition = static_cast<std::uint32_t>(std::stoul(value));
      else if (key == "subscription") op.subscription = value;
      else if (key == "key") op.key = value;
      else if (key == "ledger") op.ledger_id = std::stoull(value);
      else if (key == "entry") op.entry_id = std::stoll(value);
      else if (key == "batch") op.batch_index = static_cast<std::int32_t>(std::stol(value));
      else if (key == "broker") op.broker = value;
      else if (key == "redelivery") op.redelivery_count = static_cast<std::uint32_t>(std::stoul(value));
      else if (key == "error") op.error = value;
      else if (key == "txn") op.txn = value;
      else return Error{"unknown field \"" + key + "\""};
    } catch (const std::exception&) {
      return Error{key + ": \"" + value + "\" is not a valid number"};
    }
  }
  return op;
}

Result<std::vector<QueueOp>> read_queue_history(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{path + ": cannot open"};
  std::vector<QueueOp> ops;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    Result<QueueOp> op = queue_op_from_json(line);
    if (!op) return Error{path + ":" + std::to_string(number) + ": " + op.error()};
    ops.push_back(std::move(op.value()));
  }
  return ops;
}

}  // namespace streamlab::workloads
