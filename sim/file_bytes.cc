#include "sim/file_bytes.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "base/assert.h"

namespace streamlab::sim {

namespace {

// The first reservation of a file: address space only (MAP_NORESERVE), so a node's many
// small files cost nothing until written.
constexpr std::uint64_t kFirstReserve = 16ULL << 20;

std::uint64_t chunks_for(std::uint64_t bytes) {
  return (bytes + FileBytes::kChunkBytes - 1) / FileBytes::kChunkBytes;
}

}  // namespace

FileBytes::FileBytes(FileBytes&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      reserved_(std::exchange(other.reserved_, 0)),
      size_(std::exchange(other.size_, 0)),
      base_(std::exchange(other.base_, 0)),
      touched_(std::move(other.touched_)),
      held_chunks_(std::exchange(other.held_chunks_, 0)) {
  other.touched_.clear();
}

FileBytes& FileBytes::operator=(FileBytes&& other) noexcept {
  if (this != &other) {
    FileBytes gone(std::move(*this));
    data_ = std::exchange(other.data_, nullptr);
    reserved_ = std::exchange(other.reserved_, 0);
    size_ = std::exchange(other.size_, 0);
    base_ = std::exchange(other.base_, 0);
    touched_ = std::move(other.touched_);
    other.touched_.clear();
    held_chunks_ = std::exchange(other.held_chunks_, 0);
  }
  return *this;
}

FileBytes::~FileBytes() {
  if (data_ != nullptr) munmap(data_, reserved_);
}

// Grows the mapping to hold `bytes`, at least doubling it: mremap may move the mapping,
// so views taken before are invalid (they are documented as valid until the next change).
void FileBytes::reserve(std::uint64_t bytes) {
  if (bytes <= reserved_) return;
  const std::uint64_t want =
      chunks_for(std::max({bytes, 2 * reserved_, kFirstReserve})) * kChunkBytes;
  void* got = data_ == nullptr
                  ? mmap(nullptr, want, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
                  : mremap(data_, reserved_, want, MREMAP_MAYMOVE);
  SL_ASSERT_MSG(got != MAP_FAILED, ("a simulated file cannot map " + std::to_string(want) +
                                     " bytes: " + std::strerror(errno))
                                        .c_str());
  // Fewer, larger page faults for big files; the kernel may ignore the advice. Small
  // files would each take a 2 MiB page for a few bytes, so the first reservation goes
  // without. The advice covers the whole mapping: advising a part would split it, and
  // mremap of the whole would then fail.
  if (want > kFirstReserve) madvise(got, want, MADV_HUGEPAGE);
  data_ = static_cast<std::uint8_t*>(got);
  reserved_ = want;
}

void FileBytes::touch(std::uint64_t from, std::uint64_t to) {
  for (std::uint64_t c = from / kChunkBytes; c < chunks_for(to); ++c) {
    if (!touched_[c]) {
      touched_[c] = true;
      ++held_chunks_;
    }
  }
}

void FileBytes::release(std::uint64_t first, std::uint64_t last) {
  std::uint64_t run = first;  // Start of the current run of touched chunks.
  for (std::uint64_t c = first; c <= last; ++c) {
    if (c < last && touched_[c]) continue;
    if (run < c) {
      madvise(data_ + run * kChunkBytes, (c - run) * kChunkBytes, MADV_DONTNEED);
      for (std::uint64_t t = run; t < c; ++t) touched_[t] = false;
      held_chunks_ -= c - run;
    }
    run = c + 1;
  }
}

void FileBytes::write(std::uint64_t offset, std::span<const std::uint8_t> bytes) {
  SL_ASSERT_GE(offset, base_);
  if (bytes.empty()) {
    // As a growing write: SimDisk counts the file's size up to offset.
    if (offset > size_) resize(offset);
    return;
  }
  const std::uint64_t end = offset + bytes.size();
  if (end > size_) {
    reserve(end);
    size_ = end;
    touched_.resize(chunks_for(size_), false);
  }
  std::memcpy(data_ + offset, bytes.data(), bytes.size());
  touch(offset, end);
}

void FileBytes::read(std::uint64_t offset, std::uint64_t length,
                     std::vector<std::uint8_t>& out) const {
  SL_ASSERT_GE(offset, base_);
  const std::uint64_t end = std::min(size_, offset + length);
  if (offset >= end) return;
  out.insert(out.end(), data_ + offset, data_ + end);
}

// Invariant: every byte past size() reads as zero, so growing needs no fill.
void FileBytes::resize(std::uint64_t size) {
  SL_ASSERT_GE(size, base_);
  if (size >= size_) {
    reserve(size);
    size_ = size;
    touched_.resize(chunks_for(size_), false);
    return;
  }
  const std::uint64_t keep = chunks_for(size);
  release(keep, touched_.size());
  touched_.resize(keep);
  if (size % kChunkBytes != 0 && touched_.back()) {
    std::memset(data_ + size, 0, keep * kChunkBytes - size);
  }
  size_ = size;
}

void FileBytes::drop_before(std::uint64_t offset) {
  const std::uint64_t whole = std::min(offset, size_) / kChunkBytes;
  if (whole * kChunkBytes <= base_) return;
  release(base_ / kChunkBytes, whole);
  base_ = whole * kChunkBytes;
}

std::span<const std::uint8_t> FileBytes::view() const {
  if (size_ == base_) return {};
  return {data_ + base_, size_ - base_};
}

std::vector<std::uint8_t> FileBytes::contents() const {
  const std::span<const std::uint8_t> bytes = view();
  return {bytes.begin(), bytes.end()};
}

}  // namespace streamlab::sim
