#pragma once

// Running `streamlab` and `streamlab-node` from the real-mode tests as a user would: a
// command's exit code and output, the shipped scenarios, and a guard that stops a test's
// cluster however the test ends. STREAMLAB_BIN, STREAMLAB_NODE_BIN and
// STREAMLAB_SCENARIOS come from tests/runtime/CMakeLists.txt.

#include <string>

#include "tests/command.h"

namespace streamlab::test_util {

inline Outcome streamlab(const std::string& args) { return run(STREAMLAB_BIN, args); }
inline Outcome node(const std::string& args) { return run(STREAMLAB_NODE_BIN, args); }

inline std::string scenario(const std::string& name) {
  return std::string(STREAMLAB_SCENARIOS) + "/" + name;
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Stops whatever a test left running, even when it fails half-way.
class ClusterGuard {
 public:
  explicit ClusterGuard(std::string dir) : dir_(std::move(dir)) {}
  ClusterGuard(const ClusterGuard&) = delete;
  ClusterGuard& operator=(const ClusterGuard&) = delete;
  ~ClusterGuard() { streamlab("cluster down " + dir_); }

 private:
  std::string dir_;
};

}  // namespace streamlab::test_util
