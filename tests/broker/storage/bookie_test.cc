// The bookie (broker/storage/bookie.h) in a simulated world with one test client node:
// group commit and fsync before ack, reads and LACs, fencing (REFERENCE.md "BookKeeper"),
// recovery from the journal after crashes, torn tails, disk errors, and the unsafe
// journal_sync_data = false knob.

#include "broker/storage/bookie.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "tests/broker/storage/bookie_world.h"

namespace streamlab::storage {
namespace {

using namespace bookie_test;  // NOLINT(google-build-using-namespace): the tests' world.
using sim::test_util::kMs;
using sim::test_util::kSec;
using sim::test_util::kUs;

// [SECTION] Journal and group commit

TEST_F(BookieTest, AddIsAcknowledgedOnlyAfterFsync) {
  sim::DiskProfile disk;
  disk.fsync_latency_ns = 5 * kMs;
  BookieConfig config;
  config.journal_max_group_wait_ns = 1 * kMs;
  start(config, disk);
  const std::int64_t sent = now();
  const std::uint64_t fsyncs = world_->disk(kBookie).stats().fsyncs;
  add(1, 0, -1, "hello");
  // Arrival + group wait + write + fsync: nothing may come back before the fsync is done.
  world_->run_until(sent + kNetNs + 1 * kMs + 5 * kMs);
  EXPECT_TRUE(adds().empty());
  run_for(10 * kMs);
  const std::vector<Reply> acks = adds();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].message.add_response().status(), BK_OK);
  EXPECT_EQ(acks[0].message.add_response().ledger_id(), 1u);
  EXPECT_EQ(acks[0].message.add_response().entry_id(), 0);
  EXPECT_GE(acks[0].time_ns, sent + 2 * kNetNs + 1 * kMs + 5 * kMs);
  EXPECT_EQ(world_->disk(kBookie).stats().fsyncs, fsyncs + 1);
  // What was acknowledged is what survives a crash now.
  EXPECT_EQ(journal(/*durable=*/true).entries.size(), 1u);
}

TEST_F(BookieTest, GroupCommitWritesManyAddsInOneWrite) {
  start(BookieConfig{});
  const sim::DiskStats before = world_->disk(kBookie).stats();
  for (int e = 0; e < 100; ++e) add(1, e, e - 1, "payload-" + std::to_string(e));
  run_for(20 * kMs);
  const std::vector<Reply> acks = adds();
  ASSERT_EQ(acks.size(), 100u);
  for (int e = 0; e < 100; ++e) {
    EXPECT_EQ(acks[e].message.add_response().status(), BK_OK);
    EXPECT_EQ(acks[e].message.add_response().entry_id(), e);  // In order.
  }
  const sim::DiskStats& after = world_->disk(kBookie).stats();
  EXPECT_EQ(after.writes, before.writes + 1);
  EXPECT_EQ(after.fsyncs, before.fsyncs + 1);
  EXPECT_EQ(journal().entries.size(), 100u);
}

TEST_F(BookieTest, BufferThresholdWritesBeforeTheGroupWait) {
  BookieConfig config;
  config.journal_max_group_wait_ns = 1 * kSec;
  config.journal_buffered_writes_threshold = 1000;
  start(config);
  const std::int64_t sent = now();
  const sim::DiskStats before = world_->disk(kBookie).stats();
  // 300-byte payloads: a batch reaches 1000 bytes at its fourth add.
  for (int e = 0; e < 8; ++e) add(1, e, e - 1, std::string(300, 'x'));
  run_for(100 * kMs);
  const std::vector<Reply> acks = adds();
  ASSERT_EQ(acks.size(), 8u);
  for (const Reply& r : acks) {
    EXPECT_EQ(r.message.add_response().status(), BK_OK);
    EXPECT_LT(r.time_ns, sent + 100 * kMs);
  }
  EXPECT_EQ(world_->disk(kBookie).stats().writes, before.writes + 2);
}

TEST_F(BookieTest, AddsArrivingDuringAWriteGoInTheNextBatch) {
  sim::DiskProfile disk;
  disk.fsync_latency_ns = 10 * kMs;
  start(BookieConfig{}, disk);
  const sim::DiskStats before = world_->disk(kBookie).stats();
  add(1, 0, -1, "a");
  run_for(3 * kMs);  // The first batch is now being synced.
  for (int e = 1; e < 20; ++e) add(1, e, e - 1, "b");
  run_for(50 * kMs);
  const std::vector<Reply> acks = adds();
  ASSERT_EQ(acks.size(), 20u);
  EXPECT_EQ(world_->disk(kBookie).stats().writes, before.writes + 2);
  EXPECT_EQ(world_->disk(kBookie).stats().fsyncs, before.fsyncs + 2);
  // The second batch starts only after the first is synced.
  EXPECT_GE(acks[1].time_ns, acks[0].time_ns + 10 * kMs);
}

// [SECTION] Reads

TEST_F(BookieTest, ReadsReturnPayloadAndLac) {
  start(BookieConfig{});
  EXPECT_EQ(add_now(1, 0, "zero"), BK_OK);
  EXPECT_EQ(add_now(1, 1, "one"), BK_OK);  // Carries LAC 0.

  const ReadResponse r0 = read_now(1, 0);
  EXPECT_EQ(r0.status(), BK_OK);
  EXPECT_EQ(r0.payload(), "zero");
  EXPECT_EQ(r0.lac(), 0);
  EXPECT_EQ(r0.ledger_id(), 1u);
  EXPECT_EQ(r0.entry_id(), 0);
  EXPECT_EQ(r0.request_id(), request_id_);
  EXPECT_EQ(read_now(1, 1).payload(), "one");

  const ReadResponse lac = read_now(1, -1);
  EXPECT_EQ(lac.status(), BK_OK);
  EXPECT_EQ(lac.lac(), 0);
  EXPECT_TRUE(lac.payload().empty());

  EXPECT_EQ(read_now(1, 5).status(), NO_ENTRY);
  EXPECT_EQ(read_now(9, 0).status(), NO_ENTRY);
  const ReadResponse unknown = read_now(9, -1);
  EXPECT_EQ(unknown.status(), BK_OK);
  EXPECT_EQ(unknown.lac(), -1);
}

TEST_F(BookieTest, RewrittenEntryIsServedFromItsNewestRecord) {
  start(BookieConfig{});
  EXPECT_EQ(add_now(1, 0, "first"), BK_OK);
  EXPECT_EQ(add_now(1, 0, "again", /*recovery=*/true), BK_OK);
  EXPECT_EQ(read_now(1, 0).payload(), "again");
  EXPECT_EQ(journal().entries.at({1, 0}).payload, "again");
}

// [SECTION] Ledger storage

TEST_F(BookieTest, FlushedEntriesAreServedFromTheEntryLog) {
  BookieConfig config;
  config.entry_log_flush_interval_ns = 100 * kMs;
  start(config);
  EXPECT_EQ(add_now(1, 0, "zero"), BK_OK);
  EXPECT_EQ(add_now(1, 1, "one"), BK_OK);
  EXPECT_TRUE(file(entry_log_file(1)).empty());  // Still cached.
  run_for(150 * kMs);
  EXPECT_FALSE(file(entry_log_file(1)).empty());
  // With the journal's copies gone, the reads can only come from the entry log.
  const std::size_t journal_bytes = file(journal_file(1)).size();
  world_->disk(kBookie).write(journal_file(1), 0, std::vector<std::uint8_t>(journal_bytes, 0),
                              [](IoStatus) {});
  run_for(kMs);
  EXPECT_EQ(read_now(1, 0).payload(), "zero");
  EXPECT_EQ(read_now(1, 1).payload(), "one");
}

TEST_F(BookieTest, RewriteAfterAFlushIsServedAndARestartRebuildsFromTheJournal) {
  BookieConfig config;
  config.entry_log_flush_interval_ns = 100 * kMs;
  start(config);
  EXPECT_EQ(add_now(1, 0, "first"), BK_OK);
  run_for(150 * kMs);
  EXPECT_EQ(add_now(1, 0, "again", /*recovery=*/true), BK_OK);
  EXPECT_EQ(read_now(1, 0).payload(), "again");
  run_for(150 * kMs);
  EXPECT_EQ(read_now(1, 0).payload(), "again");
  world_->crash(kBookie);
  world_->restart(kBookie);
  run_for(50 * kMs);
  ASSERT_TRUE(bookie().serving());
  EXPECT_EQ(read_now(1, 0).payload(), "again");
  EXPECT_EQ(add_now(1, 1, "next"), BK_OK);
  run_for(150 * kMs);
  EXPECT_EQ(read_now(1, 1).payload(), "next");
}

TEST_F(BookieTest, ReadErrorsAndCorruptionAreErrorsNotData) {
  start(BookieConfig{});
  EXPECT_EQ(add_now(1, 0, "data"), BK_OK);
  world_->disk(kBookie).faults().read_error_probability = 1;
  EXPECT_EQ(read_now(1, 0).status(), BK_ERROR);
  world_->disk(kBookie).faults().read_error_probability = 0;
  world_->disk(kBookie).faults().corrupt_read_probability = 1;
  EXPECT_EQ(read_now(1, 0).status(), BK_ERROR);
  world_->disk(kBookie).faults().corrupt_read_probability = 0;
  EXPECT_EQ(read_now(1, 0).payload(), "data");
}

TEST_F(BookieTest, MalformedAndForeignMessagesAreIgnored) {
  start(BookieConfig{});
  world_->runtime(kClient).send(kBookie, sim::test_util::bytes_of("\xff\xff not protobuf"));
  StorageMessage meta;
  meta.mutable_meta_request()->set_request_id(1);
  send(meta);
  add(1, -3, -1, "negative entry id");
  run_for(20 * kMs);
  EXPECT_TRUE(replies_.empty());
  EXPECT_EQ(add_now(1, 0, "still fine"), BK_OK);
}

// [SECTION] Fencing

TEST_F(BookieTest, FencingReadFencesEvenAnUnknownLedger) {
  sim::DiskProfile disk;
  disk.fsync_latency_ns = 5 * kMs;
  start(BookieConfig{}, disk);
  const std::int64_t sent = now();
  read(7, -1, /*fence=*/true);
  run_for(30 * kMs);
  const std::vector<Reply> fenced = reads();
  ASSERT_EQ(fenced.size(), 1u);
  EXPECT_EQ(fenced[0].message.read_response().status(), BK_OK);
  EXPECT_EQ(fenced[0].message.read_response().lac(), -1);
  // Answered only once the fence record was synced.
  EXPECT_GE(fenced[0].time_ns, sent + 2 * kNetNs + 5 * kMs);
  EXPECT_EQ(journal().fenced, std::set<std::uint64_t>{7});

  EXPECT_EQ(add_now(7, 0, "old writer"), FENCED);
  EXPECT_EQ(add_now(7, 0, "recovery", /*recovery=*/true), BK_OK);
  EXPECT_EQ(read_now(7, 0).payload(), "recovery");
  EXPECT_EQ(add_now(8, 0, "other ledger"), BK_OK);
  // A second fencing read of a fenced ledger is answered without another record.
  const std::uint64_t writes = world_->disk(kBookie).stats().writes;
  EXPECT_EQ(read_now(7, 0, /*fence=*/true).payload(), "recovery");
  EXPECT_EQ(world_->disk(kBookie).stats().writes, writes);
}

TEST_F(BookieTest, ConcurrentFencingReadsAllWaitForOneDurableFence) {
  sim::DiskProfile disk;
  disk.fsync_latency_ns = 5 * kMs;
  start(BookieConfig{}, disk);
  const sim::DiskStats before = world_->disk(kBookie).stats();
  const std::int64_t sent = now();
  read(11, -1, /*fence=*/true);
  read(11, -1, /*fence=*/true);  // Joins the fence record in the open batch.
  run_for(2 * kMs);
  read(11, -1, /*fence=*/true);  // Arrives while that record is being synced.
  run_for(30 * kMs);
  const std::vector<Reply> fenced = reads();
  ASSERT_EQ(fenced.size(), 3u);
  for (const Reply& r : fenced) {
    EXPECT_EQ(r.message.read_response().status(), BK_OK);
    EXPECT_GE(r.time_ns, sent + 2 * kNetNs + 5 * kMs);
  }
  EXPECT_EQ(world_->disk(kBookie).stats().writes, before.writes + 1);
  EXPECT_EQ(world_->disk(kBookie).stats().fsyncs, before.fsyncs + 1);
}

TEST_F(BookieTest, FenceRefusesAddsFromArrivalButEarlierAddsComplete) {
  sim::DiskProfile disk;
  disk.fsync_latency_ns = 5 * kMs;
  start(BookieConfig{}, disk);
  add(3, 0, -1, "accepted before the fence");
  read(3, -1, /*fence=*/true);
  add(3, 1, 0, "after the fence");
  run_for(30 * kMs);
  const std::vector<Reply> acks = adds();
  ASSERT_EQ(acks.size(), 2u);
  // The refusal is immediate; the earlier add is acknowledged with its batch.
  EXPECT_EQ(acks[0].message.add_response().entry_id(), 1);
  EXPECT_EQ(acks[0].message.add_response().status(), FENCED);
  EXPECT_EQ(acks[1].message.add_response().entry_id(), 0);
  EXPECT_EQ(acks[1].message.add_response().status(), BK_OK);
  const std::vector<Reply> fence = reads();
  ASSERT_EQ(fence.size(), 1u);
  // The fencing reader sees the entry accepted before the fence: no acked entry hides.
  EXPECT_GE(fence[0].time_ns, acks[1].time_ns);
  EXPECT_EQ(fence[0].message.read_response().lac(), -1);
  EXPECT_EQ(read_now(3, 0).status(), BK_OK);
}

TEST_F(BookieTest, FenceSurvivesRestart) {
  sim::DiskProfile disk;
  disk.fsync_latency_ns = 5 * kMs;  // Recovery syncs the journal: time to arrive before it ends.
  start(BookieConfig{}, disk);
  EXPECT_EQ(add_now(7, 0, "before"), BK_OK);
  EXPECT_EQ(read_now(7, -1, /*fence=*/true).status(), BK_OK);
  world_->crash(kBookie);
  // The client hears that its connection broke (50 ms later) before it can reconnect.
  run_for(60 * kMs);
  world_->restart(kBookie);
  // Until the journal is replayed, everything is refused.
  add(7, 1, 0, "during recovery");
  read(7, 0);
  run_for(50 * kMs);
  std::vector<Reply> early = adds();
  ASSERT_EQ(early.size(), 1u);
  EXPECT_EQ(early[0].message.add_response().status(), BK_ERROR);
  EXPECT_EQ(reads().at(0).message.read_response().status(), BK_ERROR);
  ASSERT_TRUE(bookie().serving());

  EXPECT_EQ(add_now(7, 1, "old writer"), FENCED);
  EXPECT_EQ(add_now(7, 1, "recovery", /*recovery=*/true), BK_OK);
  EXPECT_EQ(read_now(7, 0).payload(), "before");
}

// [SECTION] Crashes and recovery

TEST_F(BookieTest, CrashWithSyncOnLosesNothingAcknowledged) {
  sim::DiskProfile disk;
  disk.fsync_latency_ns = 2 * kMs;
  start(BookieConfig{}, disk);
  // Adds every 300 us, so batches are in every stage when the power goes out.
  for (int e = 0; e < 60; ++e) {
    add(1, e, e - 1, "entry-" + std::to_string(e));
    run_for(300 * kUs);
  }
  world_->crash(kBookie, /*torn=*/true);
  const std::vector<Reply> acks = adds();
  ASSERT_GT(acks.size(), 10u);
  ASSERT_LT(acks.size(), 60u);  // Some adds were in flight at the crash.
  const std::vector<std::uint8_t> torn = file(journal_file(1));
  ASSERT_LT(parse_journal(torn).valid_bytes, torn.size());  // With seed 7 the crash tore a write.
  world_->restart(kBookie);
  run_for(50 * kMs);
  ASSERT_TRUE(bookie().serving());
  for (const Reply& ack : acks) {
    ASSERT_EQ(ack.message.add_response().status(), BK_OK);
    const std::int64_t e = ack.message.add_response().entry_id();
    EXPECT_EQ(read_now(1, e).payload(), "entry-" + std::to_string(e));
  }
  // New records go to a new journal, never after the torn tail.
  const std::vector<std::uint8_t> bytes = file(journal_file(2));
  EXPECT_EQ(parse_journal(bytes).valid_bytes, bytes.size());
}

TEST_F(BookieTest, CrashWithSyncOffLosesAcknowledgedEntries) {
  BookieConfig config;
  config.journal_sync_data = false;  // The unsafe knob.
  start(config);
  const std::uint64_t fsyncs = world_->disk(kBookie).stats().fsyncs;
  EXPECT_EQ(add_now(1, 0, "acked"), BK_OK);
  EXPECT_EQ(world_->disk(kBookie).stats().fsyncs, fsyncs);
  EXPECT_EQ(read_now(1, 0).payload(), "acked");
  world_->crash(kBookie);
  world_->restart(kBookie);
  run_for(50 * kMs);
  ASSERT_TRUE(bookie().serving());
  // REFERENCE.md: with sync off, a power loss can lose acknowledged entries.
  EXPECT_EQ(read_now(1, 0).status(), NO_ENTRY);
}

TEST_F(BookieTest, TornTailStaysBehindAndNewAppendsGoToANewJournal) {
  std::vector<std::uint8_t> on_disk = journal_record(1, 0, -1, "zero");
  append(on_disk, journal_record(1, 1, 0, "one"));
  const std::uint64_t intact = on_disk.size();
  const std::vector<std::uint8_t> torn = journal_record(1, 2, 1, "two, torn");
  on_disk.insert(on_disk.end(), torn.begin(), torn.begin() + torn.size() / 2);
  start(BookieConfig{}, {}, on_disk);

  EXPECT_EQ(parse_journal(file(journal_file(1))).valid_bytes, intact);
  EXPECT_EQ(read_now(1, -1).lac(), 0);
  EXPECT_EQ(read_now(1, 2).status(), NO_ENTRY);
  EXPECT_EQ(add_now(1, 2, "two"), BK_OK);
  EXPECT_EQ(read_now(1, 0).payload(), "zero");
  EXPECT_EQ(read_now(1, 2).payload(), "two");
  EXPECT_EQ(journal().entries.size(), 3u);
  const std::vector<std::uint8_t> fresh = file(journal_file(2));
  EXPECT_EQ(parse_journal(fresh).entries.size(), 1u);
  EXPECT_EQ(parse_journal(fresh).valid_bytes, fresh.size());
}

TEST_F(BookieTest, JournalWriteErrorRefusesTheBatchThenRecovers) {
  start(BookieConfig{});
  EXPECT_EQ(add_now(1, 0, "kept"), BK_OK);
  world_->disk(kBookie).faults().full = true;
  add(1, 1, 0, "refused");
  read(2, -1, /*fence=*/true);
  run_for(20 * kMs);
  const std::vector<Reply> refused = adds();
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].message.add_response().status(), BK_ERROR);
  EXPECT_EQ(reads().at(0).message.read_response().status(), BK_ERROR);
  world_->disk(kBookie).faults().full = false;
  run_for(20 * kMs);
  ASSERT_TRUE(bookie().serving());
  EXPECT_EQ(read_now(1, 0).payload(), "kept");
  EXPECT_EQ(read_now(1, 1).status(), NO_ENTRY);
  EXPECT_EQ(add_now(2, 0, "ledger 2 was never fenced"), BK_OK);
}

TEST_F(BookieTest, RecoveryRetriesAfterAReadError) {
  start(BookieConfig{});
  EXPECT_EQ(add_now(1, 0, "kept"), BK_OK);
  world_->crash(kBookie);
  world_->disk(kBookie).faults().read_error_probability = 1;
  world_->restart(kBookie);
  run_for(100 * kMs);
  EXPECT_FALSE(bookie().serving());
  world_->disk(kBookie).faults().read_error_probability = 0;
  run_for(50 * kMs);
  ASSERT_TRUE(bookie().serving());
  EXPECT_EQ(read_now(1, 0).payload(), "kept");
}

// [SECTION] parse_journal

// A damaged record in the middle (a misdirected write, a bad sector) is skipped: the
// intact records after it were fsynced and acknowledged, and must survive it.
TEST(ParseJournalTest, RebuildsEntriesLacsAndFencesPastADamagedRecord) {
  std::vector<std::uint8_t> journal = journal_record(1, 0, -1, "a");
  append(journal, journal_record(1, 1, 0, "b"));
  append(journal, journal_record(2, -1, -1, "", /*fence=*/true));
  append(journal, journal_record(1, 0, 1, "a, rewritten"));
  append(journal, journal_record(3, 0, -1, "c"));
  std::vector<std::uint8_t> corrupt = journal_record(3, 1, 0, "d");
  corrupt.back() ^= 1;
  append(journal, corrupt);
  append(journal, journal_record(3, 2, 1, "after the corruption"));
  const std::uint64_t intact = journal.size();
  std::vector<std::uint8_t> torn = journal_record(4, 0, -1, "torn");
  torn.resize(torn.size() - 2);
  append(journal, torn);

  const JournalContents c = parse_journal(journal);
  EXPECT_EQ(c.valid_bytes, intact);  // The torn tail is what recovery cuts.
  ASSERT_EQ(c.entries.size(), 4u);
  EXPECT_EQ(c.entries.at({1, 0}).payload, "a, rewritten");
  EXPECT_EQ(c.entries.at({1, 0}).lac, 1);
  EXPECT_EQ(c.entries.at({1, 1}).payload, "b");
  EXPECT_EQ(c.entries.at({3, 0}).payload, "c");
  EXPECT_EQ(c.entries.count({3, 1}), 0u);
  EXPECT_EQ(c.entries.at({3, 2}).payload, "after the corruption");
  EXPECT_EQ(c.lac, (std::map<std::uint64_t, std::int64_t>{{1, 1}, {3, 1}}));
  EXPECT_EQ(c.fenced, std::set<std::uint64_t>{2});

  EXPECT_EQ(parse_journal({}).valid_bytes, 0u);
  EXPECT_TRUE(parse_journal({}).entries.empty());
}

}  // namespace
}  // namespace streamlab::storage
