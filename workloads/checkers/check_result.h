#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace streamlab::workloads {

// What a checker found. Anomaly names follow Jepsen's queue/Kafka taxonomy where the
// meaning is the same (REFERENCE.md), so Jepsen users recognise them.
struct CheckResult {
  std::map<std::string, std::uint64_t> anomalies;   // name -> count; absent = 0.
  std::map<std::string, std::string> examples;      // name -> the first example, in words.
  std::map<std::string, double> metrics;
  // name -> (time_ns, value) points in time order, e.g. a rate per second.
  std::map<std::string, std::vector<std::pair<std::int64_t, double>>> series;

  void add(const std::string& name, const std::string& example) {
    if (anomalies[name]++ == 0) examples[name] = example;
  }
};

}  // namespace streamlab::workloads
