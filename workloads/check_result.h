#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace streamlab::workloads {

// What a checker found. Anomaly names follow Jepsen's queue/Kafka taxonomy where the
// meaning is the same (REFERENCE.md), so Jepsen users recognise them.
struct CheckResult {
  std::map<std::string, std::uint64_t> anomalies;   // name -> count; absent = 0.
  std::map<std::string, std::string> examples;      // name -> the first example, in words.
  std::map<std::string, double> metrics;

  void add(const std::string& name, const std::string& example) {
    if (anomalies[name]++ == 0) examples[name] = example;
  }
};

}  // namespace streamlab::workloads
