#pragma once

// The bytes of one simulated file, contiguous in a private anonymous mapping the kernel
// fills with zero pages as they are first touched. The mapping is reserved ahead of the
// file's size and grows by mremap, which moves page tables, never bytes: a growing file
// is not copied (one std::vector copied everything it held at every doubling, most of a
// long run's time), and a checker reads a whole file in place (view()) where a chunked
// file had to be copied out first. Memory is given back in chunks of kChunkBytes: chunks
// past a shrunk end and chunks of a dropped head (SimDisk::keep_recent_only) are returned
// to the kernel (madvise), and a removed file unmaps. Bytes never written read as zero.

#include <cstdint>
#include <span>
#include <vector>

namespace streamlab::sim {

class FileBytes {
 public:
  // The unit memory is accounted and returned in.
  static constexpr std::uint64_t kChunkBytes = 64 * 1024;

  FileBytes() = default;
  FileBytes(const FileBytes&) = delete;
  FileBytes& operator=(const FileBytes&) = delete;
  // A moved-from file is empty.
  FileBytes(FileBytes&& other) noexcept;
  FileBytes& operator=(FileBytes&& other) noexcept;
  ~FileBytes();

  std::uint64_t size() const { return size_; }
  // The first offset still held: bytes before it were dropped (drop_before).
  std::uint64_t base() const { return base_; }
  // Memory the chunks written since they were last returned hold.
  std::uint64_t held_bytes() const { return held_chunks_ * kChunkBytes; }

  // Writes at offset (at or past base()), growing the file as needed.
  void write(std::uint64_t offset, std::span<const std::uint8_t> bytes);
  // Appends bytes [offset, offset + length) clipped to the file's end to `out`.
  void read(std::uint64_t offset, std::uint64_t length, std::vector<std::uint8_t>& out) const;
  // Shrinks (returning whole chunks past the new end) or grows with zeros.
  void resize(std::uint64_t size);
  // Returns the whole chunks that lie entirely before `offset`; base() moves to the first
  // byte still held.
  void drop_before(std::uint64_t offset);
  // Every byte from base() to the end, in place: valid until the file next changes.
  std::span<const std::uint8_t> view() const;
  // The same bytes, copied.
  std::vector<std::uint8_t> contents() const;

 private:
  void reserve(std::uint64_t bytes);
  void touch(std::uint64_t from, std::uint64_t to);
  // Gives chunks [first, last) back to the kernel; they read as zero afterwards.
  void release(std::uint64_t first, std::uint64_t last);

  std::uint8_t* data_ = nullptr;
  std::uint64_t reserved_ = 0;
  std::uint64_t size_ = 0;
  std::uint64_t base_ = 0;
  std::vector<bool> touched_;  // Per chunk: written since last returned.
  std::uint64_t held_chunks_ = 0;
};

}  // namespace streamlab::sim
