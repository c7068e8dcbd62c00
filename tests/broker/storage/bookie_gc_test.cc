// Bookie garbage collection and compaction (broker/storage/bookie.h): a ledger deleted
// from the metadata store leaves the bookies' index and files, an entry log left without
// a live ledger is deleted, a mostly dead one is compacted, and a crash at any moment of
// it loses nothing of the live ledgers.

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/broker/storage/ledger_cluster.h"

namespace streamlab::storage::ledger_test {
namespace {

constexpr std::int64_t kGcInterval = kSec;
constexpr int kEntries = 300;

std::set<std::string> entry_logs(sim::World& world, NodeId bookie) {
  std::set<std::string> out;
  for (const std::string& name : world.disk(bookie).file_names()) {
    if (entry_log_id_of(name)) out.insert(name);
  }
  return out;
}

std::size_t entries_of(const JournalContents& held, std::uint64_t ledger) {
  std::size_t n = 0;
  for (const auto& [key, entry] : held.entries) n += key.first == ledger ? 1 : 0;
  return n;
}

class BookieGcTest : public ::testing::Test {
 protected:
  // Two ledgers on every bookie (E = Qw = 3): `doomed` written first, then `kept`, or
  // both at once when interleaved, so that they share entry logs. The write cache is
  // flushed every 100 ms, and also at flush_bytes.
  void write_two_ledgers(bool interleaved, double compaction_threshold = 0.5,
                         std::uint64_t flush_bytes = 1024) {
    cluster_ = std::make_unique<Cluster>(spec({0, 0, 0}, 2));
    BookieConfig& b = cluster_->bookie_config();
    b.gc_metadata.store = "n0";
    b.gc_interval_ns = kGcInterval;
    b.compaction_threshold = compaction_threshold;
    b.entry_log_max_bytes = 4096;  // Many small entry logs.
    b.entry_log_flush_bytes = flush_bytes;
    b.entry_log_flush_interval_ns = 100 * kMs;
    cluster_->start();
    doomed_ = cluster_->create(0, options(3, 3, 2));
    kept_ = cluster_->create(1, options(3, 3, 2));
    ASSERT_NE(doomed_, 0u);
    ASSERT_NE(kept_, 0u);
    cluster_->writer(0).append(doomed_, kEntries, kMs);
    if (!interleaved) cluster_->run_for(kEntries * kMs + 100 * kMs);
    cluster_->writer(1).append(kept_, kEntries, kMs);
    ASSERT_TRUE(cluster_->run_until(
        [&] {
          return cluster_->log(0).ok_adds().size() == kEntries &&
                 cluster_->log(1).ok_adds().size() == kEntries;
        },
        5 * kSec));
    ASSERT_EQ(cluster_->close(0, doomed_), LedgerError::ok);
    ASSERT_EQ(cluster_->close(1, kept_), LedgerError::ok);
    cluster_->run_for(300 * kMs);  // Every write cache flushed to the entry logs.
  }

  void delete_doomed() {
    std::optional<LedgerError> removed;
    cluster_->writer(0).ledger().remove(doomed_, [&](LedgerError e) { removed = e; });
    ASSERT_TRUE(cluster_->run_until([&] { return removed.has_value(); }, kSec));
    ASSERT_EQ(*removed, LedgerError::ok);
  }

  std::unique_ptr<Cluster> cluster_;
  std::uint64_t doomed_ = 0;
  std::uint64_t kept_ = 0;
};

TEST_F(BookieGcTest, ADeletedLedgerLeavesTheBookiesAndSoDoItsEntryLogs) {
  write_two_ledgers(/*interleaved=*/false);
  const NodeId bookie = cluster_->bookies()[0];
  const std::set<std::string> before = entry_logs(cluster_->world(), bookie);
  ASSERT_GT(before.size(), 4u);
  ASSERT_EQ(entries_of(cluster_->journal(bookie), doomed_), static_cast<std::size_t>(kEntries));
  delete_doomed();
  cluster_->run_for(2 * kGcInterval + 300 * kMs);
  for (const NodeId b : cluster_->bookies()) {
    const JournalContents held = cluster_->journal(b);
    EXPECT_EQ(entries_of(held, doomed_), 0u) << "bookie n" << b;
    EXPECT_EQ(entries_of(held, kept_), static_cast<std::size_t>(kEntries)) << "bookie n" << b;
  }
  const std::set<std::string> after = entry_logs(cluster_->world(), bookie);
  EXPECT_LT(after.size(), before.size());
  // The live ledger still reads back through a bookie.
  const DoneEvent opened = cluster_->open(1, kept_, /*recovery=*/false);
  EXPECT_EQ(opened.error, LedgerError::ok);
  EXPECT_EQ(opened.value, kEntries - 1);
}

// A ledger whose metadata is still there is never dropped, however long it waits.
TEST_F(BookieGcTest, LedgersInTheStoreAreNeverCollected) {
  write_two_ledgers(/*interleaved=*/true);
  cluster_->run_for(5 * kGcInterval);
  for (const NodeId b : cluster_->bookies()) {
    const JournalContents held = cluster_->journal(b);
    EXPECT_EQ(entries_of(held, doomed_), static_cast<std::size_t>(kEntries));
    EXPECT_EQ(entries_of(held, kept_), static_cast<std::size_t>(kEntries));
  }
}

// Interleaved, every entry log holds both ledgers: deleting one leaves them about half
// live, and compaction (threshold 0.6) rewrites them one per pass.
TEST_F(BookieGcTest, CompactionRewritesHalfDeadEntryLogs) {
  write_two_ledgers(/*interleaved=*/true, /*compaction_threshold=*/0.6);
  const NodeId bookie = cluster_->bookies()[1];
  const std::set<std::string> before = entry_logs(cluster_->world(), bookie);
  ASSERT_GT(before.size(), 4u);
  delete_doomed();
  cluster_->run_for((static_cast<std::int64_t>(before.size()) + 3) * kGcInterval);
  const std::set<std::string> after = entry_logs(cluster_->world(), bookie);
  std::size_t survivors = 0;
  for (const std::string& name : before) survivors += after.contains(name) ? 1 : 0;
  // Only the log that was current when the ledger was deleted may still be there.
  EXPECT_LE(survivors, 1u);
  EXPECT_LT(after.size(), before.size());
  const JournalContents held = cluster_->journal(bookie);
  EXPECT_EQ(entries_of(held, kept_), static_cast<std::size_t>(kEntries));
  // The copies hold only the live ledger.
  BookieFiles copies;
  std::map<std::string, std::vector<std::uint8_t>> bytes;
  for (const std::string& name : after) {
    if (before.contains(name)) continue;
    bytes[name] = cluster_->world().disk(bookie).contents(name);
    copies[name] = bytes[name];
  }
  ASSERT_FALSE(copies.empty());
  EXPECT_EQ(entries_of(read_bookie_files(copies), doomed_), 0u);
}

// A pass compacts every entry log under the threshold, not one: a bookie that fills logs
// faster than passes come would otherwise fall further behind with each pass.
TEST_F(BookieGcTest, OnePassCompactsEveryEntryLogUnderTheThreshold) {
  write_two_ledgers(/*interleaved=*/true, /*compaction_threshold=*/0.6);
  const NodeId bookie = cluster_->bookies()[1];
  const std::set<std::uint64_t> before_ids = [&] {
    std::set<std::uint64_t> ids;
    for (const std::string& name : entry_logs(cluster_->world(), bookie)) {
      ids.insert(*entry_log_id_of(name));
    }
    return ids;
  }();
  ASSERT_GT(before_ids.size(), 5u);
  delete_doomed();
  // The first tick opened the session long ago: the next pass lists, drops and compacts.
  cluster_->run_for(kGcInterval + 500 * kMs);
  std::size_t survivors = 0;
  for (const std::string& name : entry_logs(cluster_->world(), bookie)) {
    survivors += before_ids.contains(*entry_log_id_of(name)) ? 1 : 0;
  }
  EXPECT_LE(survivors, 1u) << "of " << before_ids.size() << " entry logs";
  EXPECT_EQ(entries_of(cluster_->journal(bookie), kept_), static_cast<std::size_t>(kEntries));
}

// A bit flipped in every read of an entry log being compacted hides a record: the pass is
// put off rather than deleting a log the index still points into, and once reads are
// clean again the log is compacted and the live ledger is whole.
TEST_F(BookieGcTest, ACorruptReadPutsCompactionOffAndLosesNothing) {
  write_two_ledgers(/*interleaved=*/true, /*compaction_threshold=*/0.6);
  const NodeId bookie = cluster_->bookies()[1];
  const std::set<std::string> before = entry_logs(cluster_->world(), bookie);
  ASSERT_GT(before.size(), 4u);
  cluster_->world().disk(bookie).faults().corrupt_read_probability = 1;
  delete_doomed();
  cluster_->run_for((static_cast<std::int64_t>(before.size()) + 3) * kGcInterval);
  const std::set<std::string> during = entry_logs(cluster_->world(), bookie);
  for (const std::string& name : before) EXPECT_TRUE(during.contains(name)) << name;

  cluster_->world().disk(bookie).faults().corrupt_read_probability = 0;
  cluster_->run_for((static_cast<std::int64_t>(before.size()) + 3) * kGcInterval);
  const std::set<std::string> after = entry_logs(cluster_->world(), bookie);
  std::size_t survivors = 0;
  for (const std::string& name : before) survivors += after.contains(name) ? 1 : 0;
  EXPECT_LE(survivors, 1u);
  EXPECT_EQ(entries_of(cluster_->journal(bookie), kept_), static_cast<std::size_t>(kEntries));
}

// A crash at every 20 ms of the passes that drop the ledger and compact the logs, torn
// writes included: after the restart the live ledger is whole on the crashed bookie.
// Flushes wait for their 100 ms timer, so a compaction's copies spend that long in the
// write cache before the old log may go.
TEST_F(BookieGcTest, ACrashAtAnyMomentOfCollectionLosesNoLiveEntry) {
  int crashes = 0;
  for (std::int64_t at = 0; at < 2 * kGcInterval; at += 20 * kMs) {
    write_two_ledgers(/*interleaved=*/true, /*compaction_threshold=*/0.6, /*flush_bytes=*/1 << 20);
    delete_doomed();
    cluster_->run_for(at);
    const NodeId bookie = cluster_->bookies()[2];
    cluster_->world().crash(bookie, /*torn=*/true);
    cluster_->world().restart(bookie);
    cluster_->run_for(200 * kMs);
    const JournalContents held = cluster_->journal(bookie);
    ASSERT_EQ(entries_of(held, kept_), static_cast<std::size_t>(kEntries))
        << "crash at +" << at / kMs << " ms";
    ++crashes;
  }
  EXPECT_EQ(crashes, 100);
}

}  // namespace
}  // namespace streamlab::storage::ledger_test
