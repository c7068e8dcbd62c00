#pragma once

// The bytes of one simulated file, in fixed-size chunks. A file that grows gets new
// chunks and never moves the old ones (one growing vector copied everything it held at
// every doubling and, past malloc's mmap threshold, faulted in fresh pages each time:
// most of a long run's time). Shrinking frees the chunks past the end, and the head can
// be dropped chunk by chunk (SimDisk::keep_recent_only), so a deleted or truncated file
// gives its memory back. Bytes never written read as zero.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace streamlab::sim {

class FileBytes {
 public:
  static constexpr std::uint64_t kChunkBytes = 64 * 1024;

  std::uint64_t size() const { return size_; }
  // The first offset still held: bytes before it were dropped (drop_before).
  std::uint64_t base() const { return base_; }
  std::uint64_t held_bytes() const { return held_chunks_ * kChunkBytes; }

  // Writes at offset (at or past base()), growing the file as needed.
  void write(std::uint64_t offset, std::span<const std::uint8_t> bytes);
  // Appends bytes [offset, offset + length) clipped to the file's end to `out`.
  void read(std::uint64_t offset, std::uint64_t length, std::vector<std::uint8_t>& out) const;
  // Shrinks (freeing whole chunks past the new end) or grows with zeros.
  void resize(std::uint64_t size);
  // Frees the whole chunks that lie entirely before `offset`; base() moves to the
  // first byte still held.
  void drop_before(std::uint64_t offset);
  // Every byte from base() to the end, as one vector.
  std::vector<std::uint8_t> contents() const;
  // Calls fn(span) for each run of bytes from base() to the end, in order, without a copy.
  template <typename Fn>
  void for_each_run(Fn&& fn) const {
    for (std::uint64_t at = base_; at < size_;) {
      const std::uint64_t in_chunk = at % kChunkBytes;
      const std::uint64_t n = std::min(kChunkBytes - in_chunk, size_ - at);
      fn(std::span<const std::uint8_t>(chunk(at) + in_chunk, n));
      at += n;
    }
  }

 private:
  using Chunk = std::unique_ptr<std::uint8_t[]>;
  static const std::uint8_t* zeros();  // What a chunk never written holds.
  const std::uint8_t* chunk(std::uint64_t offset) const {
    const Chunk& c = chunks_[offset / kChunkBytes];
    return c ? c.get() : zeros();
  }
  std::uint8_t* chunk_for_write(std::uint64_t offset);

  std::vector<Chunk> chunks_;  // chunks_[i] holds [i * kChunkBytes, (i + 1) * kChunkBytes).
  std::uint64_t size_ = 0;
  std::uint64_t base_ = 0;
  std::uint64_t held_chunks_ = 0;
};

}  // namespace streamlab::sim
