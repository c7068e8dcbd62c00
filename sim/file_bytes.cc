#include "sim/file_bytes.h"

#include <algorithm>
#include <cstring>

#include "base/assert.h"

namespace streamlab::sim {

namespace {

const std::uint8_t kZeros[FileBytes::kChunkBytes] = {};

std::uint64_t chunks_for(std::uint64_t bytes) {
  return (bytes + FileBytes::kChunkBytes - 1) / FileBytes::kChunkBytes;
}

}  // namespace

const std::uint8_t* FileBytes::zeros() { return kZeros; }

// Invariant: every byte of a held chunk past size() is zero, so growing needs no fill.
std::uint8_t* FileBytes::chunk_for_write(std::uint64_t offset) {
  Chunk& c = chunks_[offset / kChunkBytes];
  if (!c) {
    c = std::make_unique<std::uint8_t[]>(kChunkBytes);  // Zeroed.
    ++held_chunks_;
  }
  return c.get();
}

void FileBytes::write(std::uint64_t offset, std::span<const std::uint8_t> bytes) {
  SL_ASSERT_GE(offset, base_);
  const std::uint64_t end = offset + bytes.size();
  if (end > size_) {
    size_ = end;
    chunks_.resize(chunks_for(size_));
  }
  std::uint64_t at = offset;
  while (at < end) {
    const std::uint64_t in_chunk = at % kChunkBytes;
    const std::uint64_t n = std::min(kChunkBytes - in_chunk, end - at);
    std::memcpy(chunk_for_write(at) + in_chunk, bytes.data() + (at - offset), n);
    at += n;
  }
}

void FileBytes::read(std::uint64_t offset, std::uint64_t length,
                     std::vector<std::uint8_t>& out) const {
  SL_ASSERT_GE(offset, base_);
  const std::uint64_t end = std::min(size_, offset + length);
  if (offset >= end) return;
  out.reserve(out.size() + (end - offset));
  for (std::uint64_t at = offset; at < end;) {
    const std::uint64_t in_chunk = at % kChunkBytes;
    const std::uint64_t n = std::min(kChunkBytes - in_chunk, end - at);
    const std::uint8_t* from = chunk(at) + in_chunk;
    out.insert(out.end(), from, from + n);
    at += n;
  }
}

void FileBytes::resize(std::uint64_t size) {
  SL_ASSERT_GE(size, base_);
  if (size >= size_) {
    size_ = size;
    chunks_.resize(chunks_for(size_));
    return;
  }
  const std::uint64_t keep = chunks_for(size);
  for (std::uint64_t i = keep; i < chunks_.size(); ++i) held_chunks_ -= chunks_[i] != nullptr;
  chunks_.resize(keep);
  // The cut chunk's tail must read as zero if the file grows again.
  if (size % kChunkBytes != 0 && chunks_.back()) {
    std::memset(chunks_.back().get() + size % kChunkBytes, 0, kChunkBytes - size % kChunkBytes);
  }
  size_ = size;
}

void FileBytes::drop_before(std::uint64_t offset) {
  const std::uint64_t whole = std::min(offset, size_) / kChunkBytes;
  for (std::uint64_t i = base_ / kChunkBytes; i < whole; ++i) {
    if (chunks_[i]) {
      chunks_[i].reset();
      --held_chunks_;
    }
  }
  base_ = std::max(base_, whole * kChunkBytes);
}

std::vector<std::uint8_t> FileBytes::contents() const {
  std::vector<std::uint8_t> out;
  read(base_, size_ - base_, out);
  return out;
}

}  // namespace streamlab::sim
