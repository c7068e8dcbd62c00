#pragma once

// Running `streamlab` and `streamlab-node` from the real-mode tests as a user would: a
// command's exit code and output, the shipped scenarios, and a guard that stops a test's
// cluster however the test ends. STREAMLAB_BIN, STREAMLAB_NODE_BIN and
// STREAMLAB_SCENARIOS come from tests/runtime/CMakeLists.txt.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace streamlab::test_util {

struct Outcome {
  int exit_code;
  std::string out;  // stdout and stderr.
};

inline Outcome run(const std::string& binary, const std::string& args) {
  const std::string command = binary + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  EXPECT_NE(pipe, nullptr);
  std::string out;
  char buffer[4096];
  while (const std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

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
