#pragma once

// The real disk of AsioRuntime: one directory, a file per name, plain POSIX calls done
// synchronously (the runtime posts their completions). Mirrors the simulated disk's
// visible behaviour: a write or truncate creates its file, a missing file reads as empty
// and fsyncs as a no-op, a read past the end returns the bytes that exist, a removal is
// durable when it returns. A file's first
// fsync after it was created also fsyncs the directory, so the file's name is as durable
// as its bytes.

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/runtime.h"

namespace streamlab {

class AsioFiles {
 public:
  // Creates the directory if needed; a directory that cannot be created or opened is a
  // configuration error and stops the process with a message.
  explicit AsioFiles(std::string dir);
  AsioFiles(const AsioFiles&) = delete;
  AsioFiles& operator=(const AsioFiles&) = delete;
  ~AsioFiles();

  IoStatus write(std::string_view file, std::uint64_t offset, std::span<const std::uint8_t> bytes);
  IoStatus fsync(std::string_view file);
  // Replaces `out` with up to `length` bytes from `offset`.
  IoStatus read(std::string_view file, std::uint64_t offset, std::uint64_t length,
                std::vector<std::uint8_t>& out);
  IoStatus truncate(std::string_view file, std::uint64_t size_bytes);
  // Unlinks the file and fsyncs the directory; a missing file is no error.
  IoStatus remove(std::string_view file);
  // Replaces `out` with the directory's regular files, sorted.
  IoStatus list(std::vector<std::string>& out);

 private:
  // The file's descriptor, opening (and with `create`, creating) it on first use;
  // -1 with errno set when it cannot be opened.
  int fd_of(std::string_view file, bool create);

  std::string dir_;
  int dir_fd_ = -1;
  bool dir_unsynced_ = false;  // A file was created since the directory was last fsynced.
  std::map<std::string, int, std::less<>> fds_;
};

}  // namespace streamlab
