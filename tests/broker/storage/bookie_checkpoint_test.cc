// The bookie's files over time (broker/storage/bookie.h, bookie_files.h; REFERENCE.md
// "Checkpoints and GC"): journals and entry logs rotate, a checkpoint is taken once a
// flush is durable and lets the journals before it go, and a restart rebuilds from the
// entry logs and the journals after the mark. A crash at any moment of this loses nothing
// acknowledged; with the unsafe checkpoint order (apache/bookkeeper PR #2983) some
// moment does.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/broker/storage/bookie_world.h"

namespace streamlab::storage {
namespace {

using namespace bookie_test;  // NOLINT(google-build-using-namespace): the tests' world.

// Small files and frequent flushes, so a few hundred adds rotate, checkpoint and delete.
BookieConfig small_files() {
  BookieConfig config;
  config.journal_max_bytes = 2 * 1024;
  config.entry_log_max_bytes = 4 * 1024;
  config.entry_log_flush_interval_ns = 10 * kMs;
  return config;
}

sim::DiskProfile slow_fsync() {
  sim::DiskProfile disk;
  disk.fsync_latency_ns = 2 * kMs;
  return disk;
}

std::string payload(std::int64_t entry) { return "entry-" + std::to_string(entry) + std::string(60, '.'); }

std::vector<std::string> with_prefix(const std::vector<std::string>& names, std::string_view prefix) {
  std::vector<std::string> out;
  std::copy_if(names.begin(), names.end(), std::back_inserter(out),
               [prefix](const std::string& n) { return n.starts_with(prefix); });
  return out;
}

class BookieCheckpointTest : public BookieTest {
 protected:
  // Adds entries 0..count-1 of ledger 1, one every `every` ns, without waiting for acks.
  void stream(std::int64_t count, std::int64_t every) {
    for (std::int64_t e = 0; e < count; ++e) {
      add(1, e, e - 1, payload(e));
      run_for(every);
    }
  }
  std::vector<std::string> names() { return world_->disk(kBookie).file_names(); }
  // The entries acknowledged so far, from the replies.
  std::vector<std::int64_t> acknowledged() {
    std::vector<std::int64_t> out;
    for (const Reply& r : adds()) {
      if (r.message.add_response().status() == BK_OK) out.push_back(r.message.add_response().entry_id());
    }
    return out;
  }
  // Restarts the bookie; the acknowledged entries it cannot serve, after it serves again.
  std::vector<std::int64_t> lost_after_restart(const std::vector<std::int64_t>& acked) {
    world_->restart(kBookie);
    run_for(200 * kMs);
    EXPECT_TRUE(bookie().serving());
    std::vector<std::int64_t> lost;
    for (const std::int64_t e : acked) {
      if (read_now(1, e).payload() != payload(e)) lost.push_back(e);
    }
    return lost;
  }
};

TEST_F(BookieCheckpointTest, JournalsRotateAndTheCheckpointDeletesTheOldOnes) {
  start(small_files());
  stream(300, 500 * kUs);
  run_for(100 * kMs);
  EXPECT_EQ(acknowledged().size(), 300u);
  const std::vector<std::string> journals = with_prefix(names(), kJournalPrefix);
  const std::vector<std::string> entry_logs = with_prefix(names(), kEntryLogPrefix);
  // About 30 KB went through 2 KiB journals and 4 KiB entry logs.
  ASSERT_FALSE(journals.empty());
  EXPECT_GT(*journal_id_of(journals.front()), 5u) << "the journals before the mark stayed";
  EXPECT_LE(journals.size(), 2u);
  EXPECT_GE(entry_logs.size(), 4u);
  const JournalMark mark = parse_last_mark(file(kLastMarkFile)).first;
  EXPECT_GE(mark.journal, *journal_id_of(journals.front()));
  // Every entry is served, from the entry logs: the journals that had them are gone.
  for (std::int64_t e = 0; e < 300; e += 37) EXPECT_EQ(read_now(1, e).payload(), payload(e));
  EXPECT_EQ(journal().entries.size(), 300u);
  EXPECT_EQ(journal().lac.at(1), 298);

  world_->crash(kBookie);
  const std::vector<std::int64_t> lost = lost_after_restart({0, 1, 150, 298, 299});
  EXPECT_TRUE(lost.empty()) << ::testing::PrintToString(lost);
  EXPECT_EQ(read_now(1, -1).lac(), 298);
  // New files after a restart: nothing new follows an old file's tail.
  EXPECT_EQ(add_now(1, 300, payload(300)), BK_OK);
  const std::vector<std::string> after = with_prefix(names(), kJournalPrefix);
  EXPECT_GT(*journal_id_of(after.back()), *journal_id_of(journals.back()));
}

// A fence lives in the journal and then in the entry logs: deleting its journal must not
// forget it.
TEST_F(BookieCheckpointTest, AFenceOutlivesTheJournalItWasWrittenTo) {
  start(small_files());
  EXPECT_EQ(add_now(7, 0, "before"), BK_OK);
  EXPECT_EQ(read_now(7, -1, /*fence=*/true).status(), BK_OK);
  stream(200, 500 * kUs);
  run_for(100 * kMs);
  EXPECT_EQ(acknowledged().size(), 200u);
  const std::vector<std::string> files = names();
  ASSERT_EQ(std::count(files.begin(), files.end(), journal_file(1)), 0)
      << "the fence's journal was not deleted: the test proves nothing";
  world_->crash(kBookie);
  world_->restart(kBookie);
  run_for(200 * kMs);
  ASSERT_TRUE(bookie().serving());
  EXPECT_EQ(add_now(7, 1, "old writer"), FENCED);
  EXPECT_EQ(read_now(7, 0).payload(), "before");
}

// The power goes out at one moment of a stream of adds, flushes, checkpoints and
// deletions, tearing the newest write; after the restart every acknowledged entry is
// there. Moments 150 us apart over 60 ms cover every step of several checkpoints.
TEST_F(BookieCheckpointTest, ACrashAtAnyMomentLosesNothingAcknowledged) {
  int crashes = 0;
  for (std::int64_t at = 0; at < 60 * kMs; at += 150 * kUs) {
    start(small_files(), slow_fsync());
    stream(static_cast<std::int64_t>(40 + at / (500 * kUs)), 500 * kUs);
    world_->crash(kBookie, /*torn=*/true);
    const std::vector<std::int64_t> acked = acknowledged();
    const std::vector<std::int64_t> lost = lost_after_restart(acked);
    ASSERT_TRUE(lost.empty()) << "crash at +" << at / kUs << " us lost "
                              << ::testing::PrintToString(lost) << " of " << acked.size();
    ++crashes;
  }
  EXPECT_EQ(crashes, 400);
}

// The unsafe order: the mark moves when the flush starts. A crash after the mark is
// durable and before the entry log is loses what the mark skipped.
TEST_F(BookieCheckpointTest, ACheckpointBeforeTheFlushIsDurableLosesAcknowledgedEntries) {
  BookieConfig config = small_files();
  config.checkpoint_after_flush = false;
  int losing = 0;
  for (std::int64_t at = 0; at < 60 * kMs; at += 150 * kUs) {
    start(config, slow_fsync());
    stream(static_cast<std::int64_t>(40 + at / (500 * kUs)), 500 * kUs);
    world_->crash(kBookie, /*torn=*/true);
    losing += !lost_after_restart(acknowledged()).empty();
  }
  EXPECT_GT(losing, 0) << "no crash moment lost anything: the unsafe order is not unsafe";
}

}  // namespace
}  // namespace streamlab::storage
