#include "workloads/checkers/ledger_checker.h"
#include "workloads/history/ledger_list.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "broker/storage/ledger_client.h"
#include "broker/storage/record_log.h"
#include "broker/storage/storage.pb.h"
#include "tests/workloads/evidence.h"
#include "workloads/clients/ledger_writer.h"

namespace streamlab::workloads {
namespace {

using test::anomalies_of;
using test::count;
using test::example;
using test::frame;
using test::MetaLogWriter;

// Builds a run's evidence by hand: the writers' history, the metadata store's log (one
// put of /ledgers/<id> per metadata change, as the store logs them) and the bookies'
// journals. Entries are placed by the striping rule, so each test says only which
// bookies hold what.
class LedgerRun {
 public:
  // E bookies per ledger (the fragment's list), write quorum qw, ack quorum qa.
  void create(std::uint64_t ledger, std::vector<std::string> bookies, std::uint32_t qw,
              std::uint32_t qa) {
    storage::LedgerMetadata& m = ledgers_[ledger];
    m.set_ensemble_size(static_cast<std::uint32_t>(bookies.size()));
    m.set_write_quorum(qw);
    m.set_ack_quorum(qa);
    m.set_state(storage::OPEN);
    m.set_last_entry_id(-1);
    m.set_writer("w1");
    add_fragment(ledger, 0, bookies);
  }

  // An ensemble change: entries from `first_entry` on go to `bookies`.
  void add_fragment(std::uint64_t ledger, std::int64_t first_entry,
                    const std::vector<std::string>& bookies) {
    storage::Fragment* f = ledgers_.at(ledger).add_fragments();
    f->set_first_entry(first_entry);
    for (const std::string& b : bookies) f->add_bookies(b);
    put(ledger);
  }

  void close(std::uint64_t ledger, std::int64_t last_entry) {
    storage::LedgerMetadata& m = ledgers_.at(ledger);
    m.set_state(storage::CLOSED);
    m.set_last_entry_id(last_entry);
    put(ledger);
  }

  // Writes the log's ledger list, as writers publish it.
  void list(const std::string& log, const std::vector<std::uint64_t>& ledgers) {
    meta_.put("/logs/" + log + "/ledgers", format_ledger_list(ledgers));
  }

  void remove(std::uint64_t ledger) {
    meta_.remove(storage::ledger_key(ledger));
  }

  // The bookie's journal gets (ledger, entry) holding writer's append `seq`.
  void store(const std::string& bookie, std::uint64_t ledger, std::int64_t entry,
             std::uint32_t writer, std::uint64_t seq) {
    storage::JournalRecord r;
    r.set_ledger_id(ledger);
    r.set_entry_id(entry);
    r.set_lac(entry - 1);
    r.set_payload(payload(writer, seq));
    frame(r, journals_[bookie]);
  }

  // Stores the entry on every bookie of its write set, as a healthy add does.
  void store_replicated(std::uint64_t ledger, std::int64_t entry, std::uint32_t writer,
                        std::uint64_t seq) {
    for (const std::string& b : write_set(ledger, entry)) store(b, ledger, entry, writer, seq);
  }

  // The write set of entry e in the ledger's current metadata (E=3, Qw=2, [b1 b2 b3]:
  // entry 0 -> b1 b2, entry 1 -> b2 b3, entry 2 -> b3 b1).
  std::vector<std::string> write_set(std::uint64_t ledger, std::int64_t entry) const {
    const storage::LedgerMetadata& m = ledgers_.at(ledger);
    int fragment = 0;
    for (int i = 0; i < m.fragments_size(); ++i) {
      if (m.fragments(i).first_entry() <= entry) fragment = i;
    }
    std::vector<std::string> out;
    for (std::uint32_t i = 0; i < m.write_quorum(); ++i) {
      const auto index = static_cast<int>((static_cast<std::uint64_t>(entry) + i) % m.ensemble_size());
      out.push_back(m.fragments(fragment).bookies(index));
    }
    return out;
  }

  void invoke(std::int64_t t, std::uint32_t writer, std::uint64_t seq, std::uint64_t ledger) {
    history_.push_back(LedgerOp{t, writer, OpType::invoke, LedgerOpKind::add, seq, ledger, -1, ""});
  }
  void ok(std::int64_t t, std::uint32_t writer, std::uint64_t seq, std::uint64_t ledger,
          std::int64_t entry) {
    history_.push_back(LedgerOp{t, writer, OpType::ok, LedgerOpKind::add, seq, ledger, entry, ""});
  }
  void fail(std::int64_t t, std::uint32_t writer, std::uint64_t seq, OpType type = OpType::fail) {
    history_.push_back(LedgerOp{t, writer, type, LedgerOpKind::add, seq, 0, -1, "timeout"});
  }
  // A writer's recovery (fence, recover, close) of `ledger`: invoked, then ok at `done`.
  void recovered(std::int64_t start, std::int64_t done, std::uint32_t writer,
                 std::uint64_t ledger, std::int64_t last_entry) {
    history_.push_back(
        LedgerOp{start, writer, OpType::invoke, LedgerOpKind::recover, 0, ledger, -1, ""});
    history_.push_back(
        LedgerOp{done, writer, OpType::ok, LedgerOpKind::recover, 0, ledger, last_entry, ""});
  }

  // An append that went well: invoked at t, stored on its write set, acked at t + 1ms.
  void append(std::int64_t t, std::uint32_t writer, std::uint64_t seq, std::uint64_t ledger,
              std::int64_t entry) {
    invoke(t, writer, seq, ledger);
    store_replicated(ledger, entry, writer, seq);
    ok(t + 1'000'000, writer, seq, ledger, entry);
  }

  CheckResult check(std::int64_t duration_ns = 0) const {
    LedgerCheckInput in;
    in.history = &history_;
    in.metadata_log = meta_.bytes();
    for (const auto& [bookie, bytes] : journals_) {
      in.bookie_files[bookie][storage::journal_file(1)] = bytes;
    }
    in.process_name = [](std::uint32_t p) { return "w" + std::to_string(p); };
    in.duration_ns = duration_ns;
    return check_ledgers(in);
  }

  static std::string payload(std::uint32_t writer, std::uint64_t seq) {
    std::string p(kLedgerPayloadHeader + 4, 'x');  // Filler after the header, as writers pad.
    for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((writer >> (8 * i)) & 0xff);
    for (int i = 0; i < 8; ++i) p[4 + i] = static_cast<char>((seq >> (8 * i)) & 0xff);
    return p;
  }

 private:
  void put(std::uint64_t ledger) {
    meta_.put(storage::ledger_key(ledger), ledgers_.at(ledger).SerializeAsString());
  }


  std::map<std::uint64_t, storage::LedgerMetadata> ledgers_;
  MetaLogWriter meta_;
  std::map<std::string, std::vector<std::uint8_t>> journals_;
  std::vector<LedgerOp> history_;
};

const std::vector<std::string> kBookies = {"b1", "b2", "b3"};


TEST(LedgerCheckerHelpers, WriteSetFollowsStriping) {
  LedgerRun run;
  run.create(1, kBookies, 2, 2);
  EXPECT_EQ(run.write_set(1, 0), (std::vector<std::string>{"b1", "b2"}));
  EXPECT_EQ(run.write_set(1, 1), (std::vector<std::string>{"b2", "b3"}));
  EXPECT_EQ(run.write_set(1, 2), (std::vector<std::string>{"b3", "b1"}));
}

// A log's ledger may be followed by the next only once closed: one left open could still
// acknowledge its writer while the next ledger's writer acknowledges too.
TEST(LedgerChecker, OpenLedgerFollowedInItsLogIsSplitBrain) {
  LedgerRun run;
  run.create(1, kBookies, 2, 2);
  run.append(10'000'000, 1, 100, 1, 0);
  run.create(2, kBookies, 2, 2);
  run.append(20'000'000, 2, 200, 2, 0);
  run.list("orders", {1, 2});
  EXPECT_EQ(run.check().anomalies.count("split-brain"), 1u) << anomalies_of(run.check());
  run.close(1, 0);
  EXPECT_TRUE(run.check().anomalies.empty()) << anomalies_of(run.check());
}

// An acknowledged append to a ledger no log lists is invisible to the log's readers.
TEST(LedgerChecker, AckedAppendToAnUnlistedLedgerIsLostWrite) {
  LedgerRun run;
  run.create(1, kBookies, 2, 2);
  run.append(10'000'000, 1, 100, 1, 0);
  run.create(2, kBookies, 2, 2);
  run.append(20'000'000, 1, 101, 2, 0);
  run.close(1, 0);
  run.list("orders", {1});
  const CheckResult r = run.check();
  EXPECT_EQ(r.anomalies.count("lost-write"), 1u) << anomalies_of(r);
  EXPECT_NE(r.examples.at("lost-write").find("no log lists"), std::string::npos);
}

TEST(LedgerChecker, CleanRunHasNoAnomalies) {
  LedgerRun run;
  run.create(1, kBookies, 2, 2);
  for (int e = 0; e < 6; ++e) run.append(e * 10'000'000, 1, 100 + e, 1, e);
  run.invoke(70'000'000, 1, 200, 1);  // Refused: never stored.
  run.fail(71'000'000, 1, 200);
  run.invoke(72'000'000, 1, 201, 1);  // Unknown outcome, never stored: fine too.
  run.fail(73'000'000, 1, 201, OpType::info);
  run.invoke(74'000'000, 1, 202, 1);  // Still pending at the end.
  run.close(1, 5);
  // A second, open ledger (the writer's current one) read up to its end.
  run.create(2, kBookies, 2, 2);
  run.append(80'000'000, 1, 300, 2, 0);
  run.append(81'000'000, 1, 301, 2, 1);

  const CheckResult r = run.check(1'000'000'000);
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("ops_invoked"), 11);
  EXPECT_EQ(r.metrics.at("ops_ok"), 8);
  EXPECT_EQ(r.metrics.at("ops_fail"), 1);
  EXPECT_EQ(r.metrics.at("ops_info"), 1);
  EXPECT_EQ(r.metrics.at("ops_pending"), 1);
  EXPECT_EQ(r.metrics.at("ledgers"), 2);
  EXPECT_EQ(r.metrics.at("ledger_entries"), 8);
  EXPECT_EQ(r.metrics.at("entries_below_write_quorum"), 0);
  EXPECT_EQ(r.metrics.at("recoveries"), 0);
  EXPECT_NEAR(r.metrics.at("add_latency_ms_p50"), 1.0, 0.05);
  EXPECT_NEAR(r.metrics.at("add_latency_ms_max"), 1.0, 0.05);
  EXPECT_DOUBLE_EQ(r.metrics.at("throughput_ok_per_s"), 8.0);
}

TEST(LedgerChecker, EmptyRunHasNoAnomalies) {
  const CheckResult r = LedgerRun().check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("ledgers"), 0);
  EXPECT_EQ(r.metrics.count("throughput_ok_per_s"), 0u);  // No duration, no rate.
}

TEST(LedgerChecker, AckedEntryBeyondClosedLedgersEndIsLostWrite) {
  LedgerRun run;
  run.create(1, kBookies, 2, 2);
  for (int e = 0; e < 4; ++e) run.append(e * 10'000'000, 1, e, 1, e);
  run.close(1, 2);  // Recovery closed it at 2 although entry 3 was acknowledged.

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "lost-write"), 1u) << anomalies_of(r);
  EXPECT_NE(example(r, "lost-write").find("ledger 1 entry 3"), std::string::npos)
      << example(r, "lost-write");
  EXPECT_NE(example(r, "lost-write").find("ends at entry 2 (closed)"), std::string::npos)
      << example(r, "lost-write");
  // Entry 3 is beyond the end: readers never see it, so it counts for nothing else.
  EXPECT_EQ(r.metrics.at("ledger_entries"), 3);
  EXPECT_EQ(count(r, "duplicate"), 0u);
}

TEST(LedgerChecker, EmptyClosedLedgerLosesEveryAckedEntry) {
  LedgerRun run;
  run.create(1, kBookies, 2, 2);
  run.append(0, 1, 1, 1, 0);
  run.close(1, -1);
  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "lost-write"), 1u) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("ledger_entries"), 0);
}

TEST(LedgerChecker, CopyOutsideTheWriteSetDoesNotCount) {
  LedgerRun run;
  run.create(1, kBookies, 2, 2);  // E=3, Qw=2: entry 1 goes to b2 and b3.
  run.append(0, 1, 10, 1, 0);
  run.invoke(10'000'000, 1, 11, 1);
  run.store("b1", 1, 1, 1, 11);  // b1 is not in entry 1's write set.
  run.ok(11'000'000, 1, 11, 1, 1);
  run.append(20'000'000, 1, 12, 1, 2);
  run.close(1, 2);

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "lost-write"), 1u) << anomalies_of(r);
  EXPECT_NE(example(r, "lost-write").find("ledger 1 entry 1"), std::string::npos)
      << example(r, "lost-write");
  EXPECT_NE(example(r, "lost-write").find("no bookie of its write set holds it"),
            std::string::npos)
      << example(r, "lost-write");
  EXPECT_EQ(r.metrics.at("ledger_entries"), 2);
}

TEST(LedgerChecker, AckedEntryOnOneWriteSetBookieIsKept) {
  LedgerRun run;
  run.create(1, kBookies, 2, 2);
  run.invoke(0, 1, 10, 1);
  run.store("b3", 1, 1, 1, 10);  // Entry 1's write set is b2 b3: one copy is enough to read.
  run.ok(1'000'000, 1, 10, 1, 1);
  run.store_replicated(1, 0, 1, 9);
  run.invoke(0, 1, 9, 1);
  run.ok(1'000'000, 1, 9, 1, 0);
  run.close(1, 1);

  const CheckResult r = run.check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("entries_below_write_quorum"), 1);
}

TEST(LedgerChecker, EntryHoldingAnotherAppendIsLostWrite) {
  LedgerRun run;
  run.create(1, kBookies, 2, 2);
  // w1's append 7 was acknowledged as entry 0, but the bookies hold w2's append 3 there
  // (w2 invoked it; its outcome was unknown to w2).
  run.invoke(0, 1, 7, 1);
  run.ok(1'000'000, 1, 7, 1, 0);
  run.invoke(0, 2, 3, 1);
  run.fail(2'000'000, 2, 3, OpType::info);
  run.store_replicated(1, 0, 2, 3);
  run.close(1, 0);

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "lost-write"), 1u) << anomalies_of(r);
  EXPECT_NE(example(r, "lost-write").find("w1 append #7"), std::string::npos)
      << example(r, "lost-write");
  EXPECT_NE(example(r, "lost-write").find("the entry holds w2 append #3"), std::string::npos)
      << example(r, "lost-write");
  EXPECT_EQ(count(r, "unexpected"), 0u);
  EXPECT_EQ(count(r, "duplicate"), 0u);
}

TEST(LedgerChecker, SameAppendInTwoLedgersIsDuplicate) {
  LedgerRun run;
  run.create(1, kBookies, 2, 2);
  run.create(2, kBookies, 2, 2);
  run.append(0, 1, 5, 1, 0);
  run.store_replicated(2, 0, 1, 5);  // Re-sent into the next ledger as well.
  run.close(1, 0);

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "duplicate"), 1u) << anomalies_of(r);
  EXPECT_NE(example(r, "duplicate").find("w1 append #5 is in the logs 2 times"), std::string::npos)
      << example(r, "duplicate");
  EXPECT_EQ(count(r, "lost-write"), 0u);
  EXPECT_EQ(count(r, "unexpected"), 0u);
}

TEST(LedgerChecker, SameAppendTwiceInOneLedgerIsDuplicate) {
  LedgerRun run;
  run.create(1, kBookies, 2, 2);
  run.append(0, 1, 5, 1, 0);
  run.store_replicated(1, 1, 1, 5);
  run.close(1, 1);
  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "duplicate"), 1u) << anomalies_of(r);
}

TEST(LedgerChecker, UnknownAppendIsUnexpected) {
  LedgerRun run;
  run.create(1, kBookies, 2, 2);
  run.append(0, 1, 1, 1, 0);
  run.store_replicated(1, 1, 9, 42);  // No writer 9 ever invoked an append.
  run.close(1, 1);

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "unexpected"), 1u) << anomalies_of(r);
  EXPECT_NE(example(r, "unexpected").find("ledger 1 entry 1 holds w9 append #2a"),
            std::string::npos)
      << example(r, "unexpected");
  EXPECT_EQ(count(r, "lost-write"), 0u);
}

TEST(LedgerChecker, AppendToMissingLedgerIsLostWrite) {
  LedgerRun run;
  run.create(1, kBookies, 2, 2);
  run.append(0, 1, 1, 1, 0);
  run.remove(1);
  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "lost-write"), 1u) << anomalies_of(r);
  EXPECT_NE(example(r, "lost-write").find("the ledger does not exist"), std::string::npos)
      << example(r, "lost-write");
  EXPECT_EQ(r.metrics.at("ledgers"), 0);
}

// w2 recovers and closes w1's ledger 1 at t = 100ms with entries 0 and 1 in it.
LedgerRun recovered_ledger() {
  LedgerRun run;
  run.create(1, kBookies, 2, 2);
  run.append(0, 1, 1, 1, 0);
  run.recovered(90'000'000, 100'000'000, 2, 1, 1);
  run.close(1, 1);
  return run;
}

TEST(LedgerChecker, AppendInvokedAfterAnotherWritersRecoveryIsSplitBrain) {
  LedgerRun run = recovered_ledger();
  run.invoke(150'000'000, 1, 2, 1);  // w1 did not notice and appended to the closed ledger.
  run.store_replicated(1, 1, 1, 2);
  run.ok(160'000'000, 1, 2, 1, 1);

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "split-brain"), 1u) << anomalies_of(r);
  EXPECT_NE(example(r, "split-brain").find("w1 append #2"), std::string::npos)
      << example(r, "split-brain");
  EXPECT_NE(example(r, "split-brain").find("after w2 had recovered"), std::string::npos)
      << example(r, "split-brain");
  EXPECT_EQ(count(r, "lost-write"), 0u);
  EXPECT_EQ(r.metrics.at("recoveries"), 1);
}

TEST(LedgerChecker, AppendInvokedBeforeRecoveryAndAckedLateIsNotSplitBrain) {
  LedgerRun run = recovered_ledger();
  run.invoke(50'000'000, 1, 2, 1);  // Before the recovery; the reply was queued.
  run.store_replicated(1, 1, 1, 2);
  run.ok(500'000'000, 1, 2, 1, 1);  // Delivered long after the recovery.

  const CheckResult r = run.check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
}

TEST(LedgerChecker, AppendInvokedDuringRecoveryIsNotSplitBrain) {
  LedgerRun run = recovered_ledger();
  run.invoke(95'000'000, 1, 2, 1);  // Recovery started at 90ms but completed at 100ms.
  run.store_replicated(1, 1, 1, 2);
  run.ok(120'000'000, 1, 2, 1, 1);

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "split-brain"), 0u) << anomalies_of(r);
}

TEST(LedgerChecker, RecoveringWritersOwnAppendIsNotSplitBrain) {
  LedgerRun run = recovered_ledger();
  run.invoke(150'000'000, 2, 7, 1);
  run.store_replicated(1, 1, 2, 7);
  run.ok(160'000'000, 2, 7, 1, 1);

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "split-brain"), 0u) << anomalies_of(r);
}

TEST(LedgerChecker, RecoveryOfAnotherLedgerIsNotSplitBrain) {
  LedgerRun run = recovered_ledger();
  run.create(2, kBookies, 2, 2);
  run.append(150'000'000, 1, 2, 2, 0);

  const CheckResult r = run.check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
}

TEST(LedgerChecker, OpenLedgerEndsWhereOnlyBookiesOutsideTheWriteSetHoldTheEntry) {
  LedgerRun run;
  run.create(1, kBookies, 2, 2);  // Never closed.
  run.append(0, 1, 0, 1, 0);
  run.append(10'000'000, 1, 1, 1, 1);
  run.invoke(20'000'000, 1, 2, 1);
  run.store("b2", 1, 2, 1, 2);  // Entry 2's write set is b3 b1: recovery never asks b2.
  run.ok(21'000'000, 1, 2, 1, 2);
  run.append(30'000'000, 1, 3, 1, 3);

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "lost-write"), 2u) << anomalies_of(r);  // Entries 2 and 3.
  EXPECT_EQ(r.metrics.at("ledger_entries"), 2);
}

TEST(LedgerChecker, OpenLedgerEndsAtAGap) {
  LedgerRun run;
  run.create(1, kBookies, 2, 2);  // Never closed.
  run.append(0, 1, 0, 1, 0);
  run.append(10'000'000, 1, 1, 1, 1);
  run.invoke(20'000'000, 1, 2, 1);  // Entry 2 (write set b3 b1) is on no bookie.
  run.ok(21'000'000, 1, 2, 1, 2);
  run.append(30'000'000, 1, 3, 1, 3);
  run.store_replicated(1, 4, 9, 9);  // Beyond the gap: no reader sees it.

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "lost-write"), 2u) << anomalies_of(r);  // Entries 2 and 3.
  EXPECT_NE(example(r, "lost-write").find("ends at entry 1 (no bookie holds the next entry)"),
            std::string::npos)
      << example(r, "lost-write");
  EXPECT_EQ(count(r, "unexpected"), 0u);  // Entry 4 is past the end.
  EXPECT_EQ(r.metrics.at("ledger_entries"), 2);
}

TEST(LedgerChecker, EntriesBelowWriteQuorumAreCounted) {
  LedgerRun run;
  run.create(1, kBookies, 3, 2);  // E=3, Qw=3.
  run.append(0, 1, 0, 1, 0);      // 3 copies.
  run.invoke(10'000'000, 1, 1, 1);
  run.store("b1", 1, 1, 1, 1);
  run.store("b2", 1, 1, 1, 1);  // 2 copies.
  run.ok(11'000'000, 1, 1, 1, 1);
  run.invoke(20'000'000, 1, 2, 1);
  run.store("b3", 1, 2, 1, 2);  // 1 copy.
  run.ok(21'000'000, 1, 2, 1, 2);
  run.close(1, 2);

  const CheckResult r = run.check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("ledger_entries"), 3);
  EXPECT_EQ(r.metrics.at("entries_below_write_quorum"), 2);
}

TEST(LedgerChecker, BelowWriteQuorumIgnoresCopiesOutsideTheWriteSet) {
  LedgerRun run;
  run.create(1, kBookies, 2, 2);  // Entry 0 goes to b1 b2.
  run.invoke(0, 1, 0, 1);
  run.store("b1", 1, 0, 1, 0);
  run.store("b3", 1, 0, 1, 0);  // Not in the write set.
  run.ok(1'000'000, 1, 0, 1, 0);
  run.close(1, 0);

  const CheckResult r = run.check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("entries_below_write_quorum"), 1);
}

// Ledger 1 starts on b1 b2 b3; from entry 2 on, b2 is replaced by b4 (E=3, Qw=2).
LedgerRun changed_ensemble() {
  LedgerRun run;
  run.create(1, kBookies, 2, 2);
  run.add_fragment(1, 2, {"b1", "b4", "b3"});
  return run;
}

TEST(LedgerChecker, EnsembleChangeIsRespected) {
  LedgerRun run = changed_ensemble();
  EXPECT_EQ(run.write_set(1, 1), (std::vector<std::string>{"b2", "b3"}));
  EXPECT_EQ(run.write_set(1, 4), (std::vector<std::string>{"b4", "b3"}));
  for (int e = 0; e < 5; ++e) run.append(e * 10'000'000, 1, e, 1, e);
  run.close(1, 4);

  const CheckResult r = run.check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("ledger_entries"), 5);
  EXPECT_EQ(r.metrics.at("entries_below_write_quorum"), 0);
}

TEST(LedgerChecker, EntryOnTheReplacedBookieAfterAnEnsembleChangeIsLost) {
  LedgerRun run = changed_ensemble();
  for (int e = 0; e < 4; ++e) run.append(e * 10'000'000, 1, e, 1, e);
  // Entry 4's write set is b4 b3 in the second fragment; b2 held that place in the first.
  run.invoke(40'000'000, 1, 4, 1);
  run.store("b2", 1, 4, 1, 4);
  run.ok(41'000'000, 1, 4, 1, 4);
  run.close(1, 4);

  const CheckResult r = run.check();
  EXPECT_EQ(count(r, "lost-write"), 1u) << anomalies_of(r);
  EXPECT_NE(example(r, "lost-write").find("ledger 1 entry 4"), std::string::npos)
      << example(r, "lost-write");
}

TEST(LedgerChecker, OpenLedgerAfterAnEnsembleChangeReadsTheNewFragment) {
  LedgerRun run = changed_ensemble();
  for (int e = 0; e < 4; ++e) run.append(e * 10'000'000, 1, e, 1, e);

  const CheckResult r = run.check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
  EXPECT_EQ(r.metrics.at("ledger_entries"), 4);
}

TEST(LedgerChecker, LatestMetadataWins) {
  LedgerRun run;
  run.create(1, kBookies, 2, 2);
  run.close(1, 0);  // An earlier put said CLOSED at 0 ...
  run.append(0, 1, 0, 1, 0);
  run.append(0, 1, 1, 1, 1);
  run.close(1, 1);  // ... the last one at 1.
  const CheckResult r = run.check();
  EXPECT_TRUE(r.anomalies.empty()) << anomalies_of(r);
}

TEST(LedgerChecker, SeriesOverTime) {
  LedgerRun run;
  run.create(1, kBookies, 2, 2);
  for (int e = 0; e < 3; ++e) run.append(e * 10'000'000, 1, e, 1, e);
  run.append(1'500'000'000, 1, 3, 1, 3);
  run.close(1, 2);  // Entry 3, acknowledged at 1.501 s, is lost.

  const CheckResult r = run.check(2'000'000'000);
  using Series = std::vector<std::pair<std::int64_t, double>>;
  EXPECT_EQ(r.series.at("ok_rate"), (Series{{1'000'000'000, 3}, {2'000'000'000, 1}}));
  EXPECT_EQ(r.series.at("lost_write_total"), (Series{{1'000'000'000, 0}, {2'000'000'000, 1}}));
  EXPECT_EQ(r.series.at("duplicate_total"), (Series{{1'000'000'000, 0}, {2'000'000'000, 0}}));
  ASSERT_EQ(r.series.at("add_latency_ms_p50").size(), 2u);
  EXPECT_NEAR(r.series.at("add_latency_ms_p50")[1].second, 1.0, 0.05);
}

}  // namespace
}  // namespace streamlab::workloads
