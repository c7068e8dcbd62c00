#pragma once

// A client process's history file: its ops as JSON lines (workloads/queue_history_io.h),
// appended as the run goes so that a process killed mid-run leaves every op written up to
// its last append. Each append is whole lines handed to write(2) in one buffer, so a
// reader finds no half line unless the disk filled up.

#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "base/result.h"
#include "workloads/history/queue_history.h"

namespace streamlab::cluster {

class HistoryFile {
 public:
  // Creates the file, or empties it: one run, one history.
  static Result<HistoryFile> create(const std::string& path);

  HistoryFile(HistoryFile&& other) noexcept;
  HistoryFile& operator=(HistoryFile&& other) = delete;
  HistoryFile(const HistoryFile&) = delete;
  HistoryFile& operator=(const HistoryFile&) = delete;
  ~HistoryFile();

  // An error names the file.
  Result<std::monostate> append(const std::vector<workloads::QueueOp>& ops);
  const std::string& path() const { return path_; }

 private:
  HistoryFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
  std::string buffer_;  // Reused across appends.
};

}  // namespace streamlab::cluster
