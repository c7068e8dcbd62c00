#include "workloads/cluster/history_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "workloads/history/queue_history_io.h"

namespace streamlab::cluster {

Result<HistoryFile> HistoryFile::create(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Error{"cannot create history file " + path + ": " + std::strerror(errno)};
  return HistoryFile(fd, path);
}

HistoryFile::HistoryFile(HistoryFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

HistoryFile::~HistoryFile() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::monostate> HistoryFile::append(const std::vector<workloads::QueueOp>& ops) {
  buffer_.clear();
  for (const workloads::QueueOp& op : ops) {
    buffer_ += workloads::queue_op_to_json(op);
    buffer_ += '\n';
  }
  std::size_t done = 0;
  while (done < buffer_.size()) {
    const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{"cannot write history file " + path_ + ": " + std::strerror(errno)};
    done += static_cast<std::size_t>(n);
  }
  return std::monostate{};
}

}  // namespace streamlab::cluster
