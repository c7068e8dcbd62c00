#pragma once

// Running a program from a test as a user would: its exit code and everything it printed.
// The CLI tests run `streamlab` this way, the real-mode tests `streamlab-node` too.

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

}  // namespace streamlab::test_util
