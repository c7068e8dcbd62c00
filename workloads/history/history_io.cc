#include "workloads/history/history_io.h"

#include <fstream>
#include <functional>
#include <map>

#include "workloads/history/flat_json.h"

namespace streamlab::workloads {

namespace {

std::string field(const char* key, const std::string& value) {
  std::string out = std::string("\"") + key + "\":\"";
  for (const char c : value) {
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + '"';
}

std::string field(const char* key, long long value) {
  return std::string("\"") + key + "\":" + std::to_string(value);
}

Result<OpType> op_type(const std::string& value) {
  if (value == "invoke") return OpType::invoke;
  if (value == "ok") return OpType::ok;
  if (value == "fail") return OpType::fail;
  if (value == "info") return OpType::info;
  return Error{"type: \"" + value + "\" is not invoke, ok, fail or info"};
}

// Reads every line of `path` with `parse`; errors name the file and line.
template <typename T>
Result<std::vector<T>> read_lines(const std::string& path,
                                  const std::function<Result<T>(const std::string&)>& parse) {
  std::ifstream in(path);
  if (!in) return Error{path + ": cannot open"};
  std::vector<T> ops;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    Result<T> op = parse(line);
    if (!op) return Error{path + ":" + std::to_string(number) + ": " + op.error()};
    ops.push_back(std::move(op.value()));
  }
  return ops;
}

}  // namespace

std::string ledger_op_to_json(const LedgerOp& op) {
  std::string out = "{" + field("time", op.time_ns) + "," + field("process", op.process) + "," +
                    field("type", to_string(op.type)) + "," +
                    field("f", op.kind == LedgerOpKind::add ? "append" : "recover") + "," +
                    field("seq", static_cast<long long>(op.seq)) + "," +
                    field("ledger", static_cast<long long>(op.ledger_id)) + "," +
                    field("entry", op.entry_id);
  if (!op.error.empty()) out += "," + field("error", op.error);
  return out + "}";
}

Result<LedgerOp> ledger_op_from_json(const std::string& line) {
  Result<std::map<std::string, std::string>> fields = parse_flat_json(line);
  if (!fields) return Error{fields.error()};
  LedgerOp op;
  for (const auto& [key, value] : fields.value()) {
    try {
      if (key == "time") op.time_ns = std::stoll(value);
      else if (key == "process") op.process = static_cast<std::uint32_t>(std::stoul(value));
      else if (key == "type") {
        Result<OpType> type = op_type(value);
        if (!type) return Error{type.error()};
        op.type = type.value();
      } else if (key == "f") {
        if (value == "append") op.kind = LedgerOpKind::add;
        else if (value == "recover") op.kind = LedgerOpKind::recover;
        else return Error{"f: \"" + value + "\" is not append or recover"};
      } else if (key == "seq") op.seq = std::stoull(value);
      else if (key == "ledger") op.ledger_id = std::stoull(value);
      else if (key == "entry") op.entry_id = std::stoll(value);
      else if (key == "error") op.error = value;
      else return Error{"unknown field \"" + key + "\""};
    } catch (const std::exception&) {
      return Error{key + ": \"" + value + "\" is not a valid number"};
    }
  }
  return op;
}

std::string counter_op_to_json(const Op& op) {
  std::string out = "{" + field("time", op.time_ns) + "," + field("process", op.process) + "," +
                    field("type", to_string(op.type)) + "," + field("f", "add") + "," +
                    field("request", static_cast<long long>(op.request_id)) + "," +
                    field("amount", op.amount);
  if (op.type == OpType::ok) out += "," + field("value", op.value);
  if (!op.error.empty()) out += "," + field("error", op.error);
  return out + "}";
}

Result<Op> counter_op_from_json(const std::string& line) {
  Result<std::map<std::string, std::string>> fields = parse_flat_json(line);
  if (!fields) return Error{fields.error()};
  Op op;
  for (const auto& [key, value] : fields.value()) {
    try {
      if (key == "time") op.time_ns = std::stoll(value);
      else if (key == "process") op.process = static_cast<std::uint32_t>(std::stoul(value));
      else if (key == "type") {
        Result<OpType> type = op_type(value);
        if (!type) return Error{type.error()};
        op.type = type.value();
      } else if (key == "f") {
        if (value != "add") return Error{"f: \"" + value + "\" is not add"};
      } else if (key == "request") op.request_id = std::stoull(value);
      else if (key == "amount") op.amount = std::stoll(value);
      else if (key == "value") op.value = std::stoll(value);
      else if (key == "error") op.error = value;
      else return Error{"unknown field \"" + key + "\""};
    } catch (const std::exception&) {
      return Error{key + ": \"" + value + "\" is not a valid number"};
    }
  }
  return op;
}

Result<std::vector<LedgerOp>> read_ledger_history(const std::string& path) {
  return read_lines<LedgerOp>(path, ledger_op_from_json);
}

Result<std::vector<Op>> read_counter_history(const std::string& path) {
  return read_lines<Op>(path, counter_op_from_json);
}

}  // namespace streamlab::workloads
