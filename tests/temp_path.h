#pragma once

// A file path of a test's own, in a directory of the test process's own (removed when the
// process exits): tests that run at once (ctest -j, a release and a sanitized suite side
// by side) would otherwise share names in the one temporary directory gtest gives them.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace streamlab::test_util {

class ProcessTempDir {
 public:
  ProcessTempDir() : path_(testing::TempDir() + "/streamlab-" + std::to_string(::getpid())) {
    std::filesystem::create_directories(path_);
  }
  ~ProcessTempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ProcessTempDir(const ProcessTempDir&) = delete;
  ProcessTempDir& operator=(const ProcessTempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string unique_temp_path(const std::string& name) {
  static const ProcessTempDir dir;
  return dir.path() + "/" + name;
}

}  // namespace streamlab::test_util
