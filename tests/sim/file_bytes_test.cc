// FileBytes (sim/file_bytes.h): a file's bytes in one growing mapping, against a plain
// vector as the model, over writes that straddle chunks, holes, shrinking, regrowth past
// the first reservation and dropped heads.

#include "sim/file_bytes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "sim/rng.h"

namespace streamlab::sim {
namespace {

constexpr std::uint64_t kChunk = FileBytes::kChunkBytes;

std::vector<std::uint8_t> filled(std::uint64_t n, std::uint8_t first) {
  std::vector<std::uint8_t> v(n);
  for (std::uint64_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(first + i);
  return v;
}

TEST(FileBytes, RandomWritesResizesAndReadsMatchAPlainVector) {
  Rng rng(3);
  FileBytes file;
  std::vector<std::uint8_t> model;
  for (int step = 0; step < 2'000; ++step) {
    const std::uint64_t roll = rng.uniform_u64(10);
    if (roll < 6) {
      const std::uint64_t offset = rng.uniform_u64(model.size() + 3 * kChunk / 2);
      const auto bytes = filled(1 + rng.uniform_u64(kChunk + 100), static_cast<std::uint8_t>(step));
      file.write(offset, bytes);
      if (model.size() < offset + bytes.size()) model.resize(offset + bytes.size(), 0);
      std::copy(bytes.begin(), bytes.end(), model.begin() + static_cast<std::ptrdiff_t>(offset));
    } else if (roll < 8) {
      const std::uint64_t size = rng.uniform_u64(model.size() + kChunk);
      file.resize(size);
      model.resize(size, 0);
    } else {
      const std::uint64_t offset = rng.uniform_u64(model.size() + 10);
      const std::uint64_t length = rng.uniform_u64(2 * kChunk);
      std::vector<std::uint8_t> got{7};
      file.read(offset, length, got);
      std::vector<std::uint8_t> want{7};
      if (offset < model.size()) {
        const std::uint64_t end = std::min<std::uint64_t>(model.size(), offset + length);
        want.insert(want.end(), model.begin() + static_cast<std::ptrdiff_t>(offset),
                    model.begin() + static_cast<std::ptrdiff_t>(end));
      }
      ASSERT_EQ(got, want) << "step " << step;  // Appended after what `out` held.
    }
    ASSERT_EQ(file.size(), model.size()) << "step " << step;
    ASSERT_LE(file.held_bytes(), (model.size() + kChunk - 1) / kChunk * kChunk);
  }
  EXPECT_EQ(file.contents(), model);
  const std::span<const std::uint8_t> view = file.view();
  EXPECT_EQ(std::vector<std::uint8_t>(view.begin(), view.end()), model);
}

TEST(FileBytes, GrowingPastItsReservationKeepsEveryByte) {
  FileBytes file;
  const std::vector<std::uint8_t> head = filled(3 * kChunk + 7, 5);
  file.write(0, head);
  constexpr std::uint64_t kFar = 100ULL << 20;  // Past the first reservations.
  file.write(kFar, filled(10, 9));
  EXPECT_EQ(file.size(), kFar + 10);
  EXPECT_EQ(file.held_bytes(), 5 * kChunk);
  std::vector<std::uint8_t> out;
  file.read(0, head.size(), out);
  EXPECT_EQ(out, head);
  const std::span<const std::uint8_t> view = file.view();
  EXPECT_EQ(view[head.size()], 0);
  EXPECT_EQ(view[kFar + 9], static_cast<std::uint8_t>(9 + 9));
  file.resize(head.size());
  EXPECT_EQ(file.held_bytes(), 4 * kChunk);
  file.resize(kFar);  // Regrown with zeros: nothing of the cut tail comes back.
  out.clear();
  file.read(kFar - 10, 10, out);
  EXPECT_EQ(out, std::vector<std::uint8_t>(10, 0));
}

TEST(FileBytes, AnEmptyWritePastTheEndGrowsTheFileWithZeros) {
  FileBytes file;
  file.write(4096, {});
  EXPECT_EQ(file.size(), 4096u);
  EXPECT_EQ(file.held_bytes(), 0u);
  EXPECT_EQ(file.contents(), std::vector<std::uint8_t>(4096, 0));
  file.write(10, {});
  EXPECT_EQ(file.size(), 4096u);
}

TEST(FileBytes, AMovedFileKeepsItsBytesAndTheOldOneIsEmpty) {
  FileBytes file;
  file.write(0, filled(100, 1));
  FileBytes moved(std::move(file));
  EXPECT_EQ(moved.contents(), filled(100, 1));
  EXPECT_EQ(file.size(), 0u);  // NOLINT(bugprone-use-after-move): the moved-from state is specified.
  EXPECT_TRUE(file.view().empty());
  file = std::move(moved);
  EXPECT_EQ(file.contents(), filled(100, 1));
}

TEST(FileBytes, AHoleHoldsNoMemoryAndReadsAsZeros) {
  FileBytes file;
  file.write(10 * kChunk, filled(5, 1));
  EXPECT_EQ(file.size(), 10 * kChunk + 5);
  EXPECT_EQ(file.held_bytes(), kChunk);
  std::vector<std::uint8_t> out;
  file.read(3 * kChunk, 4, out);
  EXPECT_EQ(out, std::vector<std::uint8_t>(4, 0));
}

TEST(FileBytes, DroppingTheHeadFreesWholeChunksOnly) {
  FileBytes file;
  const std::vector<std::uint8_t> bytes = filled(3 * kChunk, 0);
  file.write(0, bytes);
  file.drop_before(kChunk + 10);
  EXPECT_EQ(file.base(), kChunk);
  EXPECT_EQ(file.held_bytes(), 2 * kChunk);
  EXPECT_EQ(file.contents(), std::vector<std::uint8_t>(bytes.begin() + kChunk, bytes.end()));
  EXPECT_DEATH(file.write(kChunk - 1, filled(1, 0)), "offset");
}

}  // namespace
}  // namespace streamlab::sim
