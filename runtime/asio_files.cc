#include "runtime/asio_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "base/assert.h"

namespace streamlab {

namespace {

// A node keeps a handful of files; more open descriptors than this is a leak.
constexpr std::size_t kMaxOpenFiles = 1'024;

IoStatus status_of_errno(int error) {
  // A full device and an exhausted quota both mean "no room": the caller's remedy is the
  // same.
  return error == ENOSPC || error == EDQUOT ? IoStatus::disk_full : IoStatus::io_error;
}

// Names are plain file names inside the node's directory; anything that could escape it
// is a bug in the node.
void check_name(std::string_view file) {
  SL_ASSERT_MSG(!file.empty(), "empty file name");
  SL_ASSERT_MSG(file != "." && file != "..", "file name is a directory");
  SL_ASSERT_MSG(file.find('/') == std::string_view::npos, "file name with a slash");
  SL_ASSERT_MSG(file.find('\0') == std::string_view::npos, "file name with a NUL");
}

}  // namespace

AsioFiles::AsioFiles(std::string dir) : dir_(std::move(dir)) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  SL_ASSERT_MSG(!ec, "cannot create the data directory");
  dir_fd_ = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  SL_ASSERT_MSG(dir_fd_ >= 0, "cannot open the data directory");
}

AsioFiles::~AsioFiles() {
  for (const auto& [name, fd] : fds_) ::close(fd);
  ::close(dir_fd_);
}

int AsioFiles::fd_of(std::string_view file, bool create) {
  check_name(file);
  const auto it = fds_.find(file);
  if (it != fds_.end()) return it->second;
  SL_ASSERT_MSG(fds_.size() < kMaxOpenFiles, "too many open files");
  const std::string name(file);
  int fd = ::openat(dir_fd_, name.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && create) {
    fd = ::openat(dir_fd_, name.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) dir_unsynced_ = true;
  }
  if (fd >= 0) fds_.emplace(name, fd);
  return fd;
}

IoStatus AsioFiles::write(std::string_view file, std::uint64_t offset,
                          std::span<const std::uint8_t> bytes) {
  const int fd = fd_of(file, /*create=*/true);
  if (fd < 0) return status_of_errno(errno);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::pwrite(fd, bytes.data() + done, bytes.size() - done,
                               static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return status_of_errno(errno);
    // pwrite of a regular file writes something unless the device is full.
    if (n == 0) return IoStatus::disk_full;
    done += static_cast<std::size_t>(n);
  }
  return IoStatus::ok;
}

IoStatus AsioFiles::fsync(std::string_view file) {
  const int fd = fd_of(file, /*create=*/false);
  if (fd < 0) return errno == ENOENT ? IoStatus::ok : status_of_errno(errno);
  if (::fsync(fd) != 0) return status_of_errno(errno);
  // POSIX: fsync of a file does not make its directory entry durable; a new file needs
  // its directory synced too, or a crash could lose the file with its synced bytes.
  if (dir_unsynced_) {
    if (::fsync(dir_fd_) != 0) return status_of_errno(errno);
    dir_unsynced_ = false;
  }
  return IoStatus::ok;
}

IoStatus AsioFiles::read(std::string_view file, std::uint64_t offset, std::uint64_t length,
                         std::vector<std::uint8_t>& out) {
  out.clear();
  const int fd = fd_of(file, /*create=*/false);
  if (fd < 0) return errno == ENOENT ? IoStatus::ok : status_of_errno(errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return status_of_errno(errno);
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (offset >= size) return IoStatus::ok;
  // Callers ask for "everything" with a huge length; allocate only what exists.
  out.resize(static_cast<std::size_t>(std::min(length, size - offset)));
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::pread(fd, out.data() + done, out.size() - done,
                              static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      out.clear();
      return status_of_errno(errno);
    }
    if (n == 0) break;  // The file shrank since fstat: return what exists.
    done += static_cast<std::size_t>(n);
  }
  out.resize(done);
  return IoStatus::ok;
}

IoStatus AsioFiles::truncate(std::string_view file, std::uint64_t size_bytes) {
  const int fd = fd_of(file, /*create=*/true);
  if (fd < 0) return status_of_errno(errno);
  while (::ftruncate(fd, static_cast<off_t>(size_bytes)) != 0) {
    if (errno != EINTR) return status_of_errno(errno);
  }
  return IoStatus::ok;
}

IoStatus AsioFiles::remove(std::string_view file) {
  check_name(file);
  if (const auto it = fds_.find(file); it != fds_.end()) {
    ::close(it->second);
    fds_.erase(it);
  }
  const std::string name(file);
  if (::unlinkat(dir_fd_, name.c_str(), 0) != 0) {
    if (errno == ENOENT) return IoStatus::ok;
    return status_of_errno(errno);
  }
  while (::fsync(dir_fd_) != 0) {
    if (errno != EINTR) return status_of_errno(errno);
  }
  return IoStatus::ok;
}

IoStatus AsioFiles::list(std::vector<std::string>& out) {
  out.clear();
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    if (entry.is_regular_file(ec)) out.push_back(entry.path().filename().string());
  }
  if (ec) return IoStatus::io_error;
  std::sort(out.begin(), out.end());
  return IoStatus::ok;
}

}  // namespace streamlab
