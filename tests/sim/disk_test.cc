#include "sim/disk.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sim/kernel.h"
#include "test_world.h"

namespace streamlab::sim {
namespace {

using namespace test_util;  // NOLINT(google-build-using-namespace): test helpers.

// 1 ms per operation, 1 byte per microsecond written, 2 per microsecond read.
DiskProfile test_profile() {
  DiskProfile profile;
  profile.iops = 1'000;
  profile.write_bytes_per_s = 1'000'000;
  profile.read_bytes_per_s = 2'000'000;
  profile.fsync_latency_ns = 5 * kMs;
  profile.capacity_bytes = 1'000'000;
  return profile;
}

class DiskTest : public ::testing::Test {
 protected:
  DiskTest() { make_disk(1, test_profile()); }

  void make_disk(std::uint64_t seed, const DiskProfile& profile) {
    disk_ = std::make_unique<SimDisk>(kernel_, node_, profile, Rng(seed));
  }

  // Each helper issues one operation and runs the kernel until it has completed.
  IoStatus write(std::string_view file, std::uint64_t offset, std::string_view text) {
    IoStatus result = IoStatus::io_error;
    int calls = 0;
    disk_->write(file, offset, bytes_of(text), [&](IoStatus s) { result = s, ++calls; });
    kernel_.run();
    EXPECT_EQ(calls, 1);
    return result;
  }
  IoStatus fsync(std::string_view file) {
    IoStatus result = IoStatus::io_error;
    disk_->fsync(file, [&](IoStatus s) { result = s; });
    kernel_.run();
    return result;
  }
  IoStatus truncate(std::string_view file, std::uint64_t size) {
    IoStatus result = IoStatus::io_error;
    disk_->truncate(file, size, [&](IoStatus s) { result = s; });
    kernel_.run();
    return result;
  }
  std::pair<IoStatus, std::string> read(std::string_view file, std::uint64_t offset,
                                        std::uint64_t length) {
    std::pair<IoStatus, std::string> result{IoStatus::ok, "<no completion>"};
    disk_->read(file, offset, length, [&](IoStatus s, std::span<const std::uint8_t> b) {
      result = {s, text_of(b)};
    });
    kernel_.run();
    return result;
  }
  std::vector<std::string> list() {
    std::vector<std::string> names{"<no completion>"};
    disk_->list([&](IoStatus s, std::span<const std::string> n) {
      EXPECT_EQ(s, IoStatus::ok);
      names.assign(n.begin(), n.end());
    });
    kernel_.run();
    return names;
  }
  // As World::crash does it: the node's pending completions die with the incarnation.
  void crash(bool torn = false) {
    kernel_.bump_incarnation(node_);
    disk_->crash(torn);
  }
  std::string contents(std::string_view file) { return text_of(disk_->contents(file)); }
  std::string durable(std::string_view file) { return text_of(disk_->durable_contents(file)); }

  Kernel kernel_{1};
  std::uint32_t node_ = kernel_.add_node();
  std::unique_ptr<SimDisk> disk_;
};

TEST_F(DiskTest, UnsyncedWriteLostOnCrashSyncedWriteSurvives) {
  ASSERT_EQ(write("a", 0, "synced"), IoStatus::ok);
  ASSERT_EQ(fsync("a"), IoStatus::ok);
  ASSERT_EQ(write("a", 0, "SYN"), IoStatus::ok);  // Overwrite, unsynced.
  ASSERT_EQ(write("b", 0, "unsynced"), IoStatus::ok);
  crash();
  EXPECT_EQ(contents("a"), "synced");
  EXPECT_EQ(contents("b"), "");
  EXPECT_EQ(disk_->stats().bytes_lost_in_crashes, 11u);
}

TEST_F(DiskTest, ContentsSeesUnsyncedWritesDurableContentsDoesNot) {
  ASSERT_EQ(write("a", 0, "one"), IoStatus::ok);
  ASSERT_EQ(fsync("a"), IoStatus::ok);
  ASSERT_EQ(write("a", 3, "two"), IoStatus::ok);
  EXPECT_EQ(contents("a"), "onetwo");
  EXPECT_EQ(durable("a"), "one");
  ASSERT_EQ(fsync("a"), IoStatus::ok);
  EXPECT_EQ(durable("a"), "onetwo");
}

TEST_F(DiskTest, FsyncOfOneFileDoesNotMakeAnotherDurable) {
  ASSERT_EQ(write("a", 0, "aaa"), IoStatus::ok);
  ASSERT_EQ(write("b", 0, "bbb"), IoStatus::ok);
  ASSERT_EQ(fsync("a"), IoStatus::ok);
  EXPECT_EQ(durable("b"), "");
  crash();
  EXPECT_EQ(contents("a"), "aaa");
  EXPECT_EQ(contents("b"), "");
}

TEST_F(DiskTest, UnsyncedWriteOlderThanWritebackDelaySurvivesCrash) {
  DiskProfile profile = test_profile();
  profile.writeback_delay_ns = 100 * kMs;
  make_disk(1, profile);
  ASSERT_EQ(write("a", 0, "old"), IoStatus::ok);  // Completes at 1.003 ms.
  EXPECT_EQ(durable("a"), "");
  kernel_.run_until(101 * kMs);
  EXPECT_EQ(durable("a"), "");  // 99.997 ms old: still dirty.
  kernel_.run_until(102 * kMs);
  EXPECT_EQ(durable("a"), "old");  // The flusher has written it back.
  ASSERT_EQ(write("b", 0, "new"), IoStatus::ok);
  crash();
  EXPECT_EQ(contents("a"), "old");
  EXPECT_EQ(contents("b"), "");
}

TEST_F(DiskTest, TruncateUndoneByCrashUnlessSynced) {
  ASSERT_EQ(write("a", 0, "hello world"), IoStatus::ok);
  ASSERT_EQ(fsync("a"), IoStatus::ok);
  ASSERT_EQ(truncate("a", 5), IoStatus::ok);
  EXPECT_EQ(contents("a"), "hello");
  EXPECT_EQ(durable("a"), "hello world");
  crash();
  EXPECT_EQ(contents("a"), "hello world");
  ASSERT_EQ(truncate("a", 5), IoStatus::ok);
  ASSERT_EQ(fsync("a"), IoStatus::ok);
  crash();
  EXPECT_EQ(contents("a"), "hello");
}

TEST_F(DiskTest, CrashRevertsInterleavedUnsyncedWritesNewestFirst) {
  ASSERT_EQ(write("a", 0, "0123456789"), IoStatus::ok);
  ASSERT_EQ(fsync("a"), IoStatus::ok);
  ASSERT_EQ(write("a", 2, "xxxx"), IoStatus::ok);
  ASSERT_EQ(truncate("a", 4), IoStatus::ok);
  ASSERT_EQ(write("a", 8, "yy"), IoStatus::ok);  // Leaves a hole of zeros.
  EXPECT_EQ(contents("a"), std::string("01xx\0\0\0\0yy", 10));
  crash();
  EXPECT_EQ(contents("a"), "0123456789");
  EXPECT_EQ(disk_->used_bytes(), 10u);
}

TEST_F(DiskTest, TornWriteOnCrashLeavesPrefixOfNewestWrite) {
  const std::string old_data(100, 'o');
  const std::string new_data(250, 'n');  // At offset 50: grows the file to 300 bytes.
  std::set<std::size_t> kept_lengths;
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    make_disk(seed, test_profile());
    ASSERT_EQ(write("f", 0, old_data), IoStatus::ok);
    ASSERT_EQ(fsync("f"), IoStatus::ok);
    ASSERT_EQ(write("older", 0, "gone"), IoStatus::ok);
    ASSERT_EQ(write("f", 50, new_data), IoStatus::ok);
    crash(/*torn=*/true);
    EXPECT_EQ(contents("older"), "");  // Only the newest write may survive, torn.
    const std::string after = contents("f");
    ASSERT_GE(after.size(), old_data.size()) << "seed " << seed;
    ASSERT_LE(after.size(), 50 + new_data.size()) << "seed " << seed;
    const std::size_t kept = after.find_first_not_of('n', 50) == std::string::npos
                                 ? after.size() - 50
                                 : after.find_first_not_of('n', 50) - 50;
    std::string expected = old_data;
    expected.resize(std::max<std::size_t>(100, 50 + kept), 'o');
    std::fill_n(expected.begin() + 50, kept, 'n');
    EXPECT_EQ(after, expected) << "seed " << seed;
    kept_lengths.insert(kept);
  }
  EXPECT_GT(kept_lengths.size(), 5u);  // The tear point is drawn, not fixed.
}

TEST_F(DiskTest, OperationsCostIopsPlusTransferAndQueueFifo) {
  std::vector<std::pair<std::string, std::int64_t>> done;
  auto record = [&](const char* what) {
    return [&done, what, this](IoStatus) { done.emplace_back(what, kernel_.now()); };
  };
  disk_->write("a", 0, bytes_of(std::string(500, 'x')), record("w500"));
  disk_->write("a", 500, bytes_of(std::string(1000, 'x')), record("w1000"));
  disk_->fsync("a", record("fsync"));
  disk_->truncate("a", 10, record("truncate"));
  kernel_.run();
  // 1 ms per op; 500 B at 1 B/us; then 1000 B; a 5 ms fsync; a truncate is one op.
  using Done = std::vector<std::pair<std::string, std::int64_t>>;
  EXPECT_EQ(done, (Done{{"w500", 1500 * kUs},
                        {"w1000", 3500 * kUs},
                        {"fsync", 8500 * kUs},
                        {"truncate", 9500 * kUs}}));
  done.clear();
  kernel_.run_until(20 * kMs);  // An idle disk starts the next operation at once.
  disk_->read("a", 0, 100, [&](IoStatus, std::span<const std::uint8_t> bytes) {
    done.emplace_back("read " + std::to_string(bytes.size()), kernel_.now());
  });
  disk_->write("a", 0, bytes_of(""), record("w0"));
  kernel_.run();
  // The read returns the 10 bytes that exist, at 2 B/us: 5 us.
  EXPECT_EQ(done, (Done{{"read 10", 21 * kMs + 5 * kUs}, {"w0", 22 * kMs + 5 * kUs}}));
}

TEST_F(DiskTest, JournalFilesQueueOnTheirOwnDevice) {
  DiskProfile journal = test_profile();
  journal.write_bytes_per_s = 10'000'000;  // 10 bytes per microsecond.
  disk_ = std::make_unique<SimDisk>(kernel_, node_, test_profile(), Rng(1), journal);
  std::vector<std::pair<std::string, std::int64_t>> done;
  const auto note = [&done, this](const char* what) {
    return [&done, what, this](IoStatus) { done.emplace_back(what, kernel_.now()); };
  };
  disk_->write("entrylog", 0, bytes_of(std::string(1000, 'e')), note("entrylog"));
  disk_->write("journal", 0, bytes_of(std::string(1000, 'j')), note("journal"));
  kernel_.run();
  // In parallel: 1 ms + 100 us on the journal's device, 1 ms + 1 ms on the main one.
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0], (std::pair<std::string, std::int64_t>{"journal", 1100 * kUs}));
  EXPECT_EQ(done[1], (std::pair<std::string, std::int64_t>{"entrylog", 2 * kMs}));
  ASSERT_EQ(disk_->device_count(), 2u);
  EXPECT_EQ(disk_->device_busy_ns(0), 2 * kMs);
  EXPECT_EQ(disk_->device_busy_ns(1), 1100 * kUs);
}

// Whole chunks more than the kept size behind the end are forgotten.
TEST_F(DiskTest, KeepRecentOnlyForgetsOldChunksAndRefusesToCrash) {
  constexpr std::uint64_t kChunk = FileBytes::kChunkBytes;
  disk_->keep_recent_only(10);
  ASSERT_EQ(write("log", 0, std::string(kChunk, 'a')), IoStatus::ok);
  EXPECT_EQ(disk_->kept_from("log"), 0u);
  ASSERT_EQ(write("log", kChunk, std::string(kChunk, 'b')), IoStatus::ok);
  EXPECT_EQ(disk_->kept_from("log"), kChunk);
  EXPECT_EQ(contents("log"), std::string(kChunk, 'b'));
  EXPECT_EQ(read("log", 0, 4).first, IoStatus::io_error);
  EXPECT_EQ(disk_->stats().forgotten_reads, 1u);
  EXPECT_EQ(read("log", kChunk, 4), (std::pair<IoStatus, std::string>{IoStatus::ok, "bbbb"}));
  ASSERT_EQ(write("log", kChunk + 2, "XY"), IoStatus::ok);  // Overwrites within what is kept.
  EXPECT_EQ(read("log", kChunk, 6), (std::pair<IoStatus, std::string>{IoStatus::ok, "bbXYbb"}));
  EXPECT_EQ(disk_->held_bytes(), kChunk);
  EXPECT_DEATH(crash(), "keep_recent_only");
}

// A removal frees the file's memory, is durable at once, and takes the file's unsynced
// writes with it; the listing names what exists, sorted.
TEST_F(DiskTest, RemovedFileIsGoneForGoodAndListedNoMore) {
  ASSERT_EQ(write("b", 0, std::string(100'000, 'x')), IoStatus::ok);
  ASSERT_EQ(fsync("b"), IoStatus::ok);
  ASSERT_EQ(write("a", 0, "kept"), IoStatus::ok);
  ASSERT_EQ(fsync("a"), IoStatus::ok);
  ASSERT_EQ(write("b", 0, "unsynced"), IoStatus::ok);
  EXPECT_EQ(list(), (std::vector<std::string>{"a", "b"}));
  const std::uint64_t held = disk_->held_bytes();
  IoStatus removed = IoStatus::io_error;
  disk_->remove("b", [&](IoStatus s) { removed = s; });
  kernel_.run();
  ASSERT_EQ(removed, IoStatus::ok);
  EXPECT_LT(disk_->held_bytes(), held - 90'000);
  EXPECT_EQ(disk_->used_bytes(), 4u);
  EXPECT_EQ(list(), std::vector<std::string>{"a"});
  crash();
  EXPECT_EQ(list(), std::vector<std::string>{"a"});
  EXPECT_EQ(contents("b"), "");
  EXPECT_EQ(contents("a"), "kept");
  disk_->remove("missing", [&](IoStatus s) { removed = s; });
  kernel_.run();
  EXPECT_EQ(removed, IoStatus::ok);
}

// Truncating gives back the chunks past the new end; bytes past it read as zeros if the
// file grows again.
TEST_F(DiskTest, TruncationGivesMemoryBackAndRegrowthReadsZeros) {
  ASSERT_EQ(write("f", 0, std::string(200'000, 'x')), IoStatus::ok);
  const std::uint64_t held = disk_->held_bytes();
  ASSERT_EQ(truncate("f", 10), IoStatus::ok);
  EXPECT_EQ(disk_->held_bytes(), FileBytes::kChunkBytes);
  EXPECT_LT(disk_->held_bytes(), held);
  ASSERT_EQ(write("f", 20, "y"), IoStatus::ok);
  EXPECT_EQ(contents("f"), std::string(10, 'x') + std::string(10, '\0') + "y");
}

TEST_F(DiskTest, QueuedReadIsChargedForTheBytesItReturns) {
  disk_->write("a", 0, bytes_of(std::string(2000, 'x')), [](IoStatus) {});  // Done at 3 ms.
  std::int64_t read_done = 0;
  std::size_t read_bytes = 0;
  disk_->read("a", 0, 2000, [&](IoStatus, std::span<const std::uint8_t> bytes) {
    read_done = kernel_.now();
    read_bytes = bytes.size();
  });
  kernel_.run();
  ASSERT_EQ(read_bytes, 2000u);
  // 1 ms per op plus 2000 B at 2 B/us.
  // A read queued behind the write that fills the file is charged for the bytes it finds.
  EXPECT_EQ(read_done, 3 * kMs + 2 * kMs);
}

TEST_F(DiskTest, SlowFactorMultipliesServiceTime) {
  disk_->faults().slowdown_factor = 3;
  std::vector<std::int64_t> done;
  disk_->write("a", 0, bytes_of(std::string(500, 'x')),
               [&](IoStatus) { done.push_back(kernel_.now()); });
  disk_->fsync("a", [&](IoStatus) { done.push_back(kernel_.now()); });
  kernel_.run();
  EXPECT_EQ(done, (std::vector<std::int64_t>{4500 * kUs, 4500 * kUs + 15 * kMs}));
}

TEST_F(DiskTest, DiskFullFaultFailsOnlyGrowingWrites) {
  ASSERT_EQ(write("a", 0, "abcd"), IoStatus::ok);
  disk_->faults().full = true;
  EXPECT_EQ(write("a", 0, "ABCD"), IoStatus::ok);  // In place: no growth.
  EXPECT_EQ(write("a", 3, "DE"), IoStatus::disk_full);
  EXPECT_EQ(write("b", 0, "x"), IoStatus::disk_full);
  EXPECT_EQ(contents("a"), "ABCD");
  disk_->faults().full = false;
  EXPECT_EQ(write("a", 4, "E"), IoStatus::ok);
}

TEST_F(DiskTest, WriteBeyondCapacityFailsWithDiskFull) {
  DiskProfile profile = test_profile();
  profile.capacity_bytes = 10;
  make_disk(1, profile);
  ASSERT_EQ(write("a", 0, "12345678"), IoStatus::ok);
  EXPECT_EQ(write("b", 0, "abc"), IoStatus::disk_full);
  EXPECT_EQ(write("b", 0, "ab"), IoStatus::ok);
  EXPECT_EQ(disk_->used_bytes(), 10u);
}

TEST_F(DiskTest, ReadErrorProbabilityOneFailsReads) {
  ASSERT_EQ(write("a", 0, "data"), IoStatus::ok);
  disk_->faults().read_error_probability = 1.0;
  EXPECT_EQ(read("a", 0, 4).first, IoStatus::io_error);
  disk_->faults().read_error_probability = 0.0;
  EXPECT_EQ(read("a", 0, 4), (std::pair<IoStatus, std::string>{IoStatus::ok, "data"}));
}

TEST_F(DiskTest, CorruptionProbabilityOneFlipsExactlyOneBit) {
  const std::string data = "the quick brown fox";
  ASSERT_EQ(write("a", 0, data), IoStatus::ok);
  disk_->faults().corrupt_read_probability = 1.0;
  for (int i = 0; i < 20; ++i) {
    const auto [status, got] = read("a", 0, data.size());
    ASSERT_EQ(status, IoStatus::ok);
    ASSERT_EQ(got.size(), data.size());
    int flipped = 0;
    for (std::size_t j = 0; j < data.size(); ++j) {
      flipped += std::popcount(static_cast<unsigned>(static_cast<std::uint8_t>(got[j] ^ data[j])));
    }
    EXPECT_EQ(flipped, 1);
  }
  EXPECT_EQ(contents("a"), data);  // Bit rot on the read path: storage intact.
}

TEST_F(DiskTest, ReadPastEndReturnsTheBytesThatExist) {
  ASSERT_EQ(write("a", 0, "abcdef"), IoStatus::ok);
  EXPECT_EQ(read("a", 4, 100), (std::pair<IoStatus, std::string>{IoStatus::ok, "ef"}));
  EXPECT_EQ(read("a", 10, 5), (std::pair<IoStatus, std::string>{IoStatus::ok, ""}));
  EXPECT_EQ(read("missing", 0, 5), (std::pair<IoStatus, std::string>{IoStatus::ok, ""}));
}

TEST_F(DiskTest, LyingFsyncAcknowledgesButCrashLosesTheWrite) {
  disk_->faults().lying_fsync = true;
  ASSERT_EQ(write("a", 0, "acked"), IoStatus::ok);
  EXPECT_EQ(fsync("a"), IoStatus::ok);
  EXPECT_EQ(durable("a"), "");
  crash();
  EXPECT_EQ(contents("a"), "");
}

TEST_F(DiskTest, MisdirectedWriteLandsAtAnotherAlignedOffset) {
  constexpr std::size_t kBlock = 4096;
  const std::string zeros(16 * kBlock, '\0');
  const std::string block(kBlock, 'M');
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    make_disk(seed, test_profile());
    ASSERT_EQ(write("f", 0, zeros), IoStatus::ok);
    disk_->faults().misdirect_write_probability = 1.0;
    ASSERT_EQ(write("f", 8 * kBlock, block), IoStatus::ok);  // Reports success.
    const std::string after = contents("f");
    EXPECT_EQ(after.substr(8 * kBlock, kBlock), std::string(kBlock, '\0')) << "seed " << seed;
    const std::size_t landed = after.find('M');
    ASSERT_NE(landed, std::string::npos) << "seed " << seed;
    EXPECT_EQ(landed % kBlock, 0u);
    EXPECT_EQ(after.substr(landed, kBlock), block);
  }
}

TEST_F(DiskTest, CrashForgetsPendingOperations) {
  // SimDisk::crash alone, without World's incarnation bump: "Operations still pending at a
  // crash never complete" (sim/disk.h).
  int old_completions = 0;
  disk_->write("a", 0, bytes_of("old"), [&](IoStatus) { ++old_completions; });  // Due 1.003 ms.
  disk_->crash(false);
  std::int64_t new_done = -1;
  disk_->write("b", 0, bytes_of(std::string(5000, 'n')), [&](IoStatus) {  // Due 6 ms.
    new_done = kernel_.now();
  });
  kernel_.run_until(2 * kMs);
  // The crashed write's completion must not complete the op that reused its slot.
  EXPECT_EQ(new_done, -1);
  kernel_.run();
  EXPECT_EQ(old_completions, 0);
  EXPECT_EQ(new_done, 6 * kMs);
  EXPECT_EQ(contents("a"), "");
}

}  // namespace
}  // namespace streamlab::sim
