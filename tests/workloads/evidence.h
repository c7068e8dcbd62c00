#pragma once

// Evidence built by hand for the checker tests: the metadata store's log (puts with
// increasing versions, removals), records framed as the store and the bookies frame them,
// and reading a CheckResult back.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "broker/storage/record_log.h"
#include "broker/storage/storage.pb.h"
#include "workloads/checkers/check_result.h"

namespace streamlab::workloads::test {

inline void frame(const google::protobuf::Message& m, std::vector<std::uint8_t>& out) {
  const std::string body = m.SerializeAsString();
  storage::append_framed(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(body.data()),
                                    body.size()),
      out);
}

class MetaLogWriter {
 public:
  void put(const std::string& key, const std::string& value) {
    storage::MetaLogRecord r;
    storage::KeyPut* p = r.mutable_put();
    p->set_key(key);
    p->set_value(value);
    p->set_version(++version_);
    frame(r, bytes_);
  }
  void remove(const std::string& key) {
    storage::MetaLogRecord r;
    r.set_removed(key);
    frame(r, bytes_);
  }
  const std::vector<std::uint8_t>& bytes() const { return bytes_; }

 private:
  std::int64_t version_ = 0;
  std::vector<std::uint8_t> bytes_;
};

inline std::uint64_t count(const CheckResult& r, const std::string& anomaly) {
  const auto it = r.anomalies.find(anomaly);
  return it == r.anomalies.end() ? 0 : it->second;
}

inline std::string example(const CheckResult& r, const std::string& anomaly) {
  const auto it = r.examples.find(anomaly);
  return it == r.examples.end() ? "" : it->second;
}

// Every anomaly with its count and first example, for failure messages.
inline std::string anomalies_of(const CheckResult& r) {
  std::string out;
  for (const auto& [name, text] : r.examples) {
    out += name + " (" + std::to_string(r.anomalies.at(name)) + "): " + text + "\n";
  }
  return out;
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace streamlab::workloads::test
