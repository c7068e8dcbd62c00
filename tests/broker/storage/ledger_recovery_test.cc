// Opening another writer's ledger with fencing and recovery (REFERENCE.md "BookKeeper
// (storage)"), against a real metadata store and real bookies in a simulated world, and
// the unsafe recovery_fencing = false knob that lets two writers acknowledge at once.

#include "broker/storage/ledger_client.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/broker/storage/ledger_cluster.h"

namespace streamlab::storage {
namespace {

using namespace ledger_test;  // NOLINT: the tests' shared world.
using sim::test_util::kMs;
using sim::test_util::kSec;
using sim::test_util::kUs;

// [SECTION] Fencing and recovery

struct FencingRun {
  DoneEvent recovered;
  std::optional<LedgerMetadata> metadata;
  WriterLog a;
  std::map<std::string, JournalContents> journals;
  std::uint64_t id = 0;
};

// Writer 0 writes `count` entries every interval_ns; 100 ms in, writer 1 opens the
// ledger with recovery. `pause_ns` > 0: writer 0 pauses 10 ms before the open.
void run_fencing(bool fencing, int count, std::int64_t interval_ns, std::int64_t pause_ns,
                 FencingRun* out) {
  Cluster c(spec({0, 0, 0}, 2));
  c.config(1).recovery_fencing = fencing;
  c.start();
  out->id = c.create(0, options(3, 3, 2));
  ASSERT_NE(out->id, 0u);
  c.writer(0).append(out->id, count, interval_ns);
  if (pause_ns > 0) {
    c.run_for(90 * kMs);
    c.world().pause(c.writer_id(0), pause_ns);
    c.run_for(10 * kMs);
  } else {
    c.run_for(100 * kMs);
  }
  out->recovered = c.open(1, out->id, true);
  if (pause_ns > 0) {
    ASSERT_TRUE(c.world().paused(c.writer_id(0)));
  }
  // Let writer 0 go on (or resume) well past the recovery.
  c.run_until([&] { return !c.world().paused(c.writer_id(0)); }, 2 * kSec);
  c.run_for(count * interval_ns);
  out->metadata = c.metadata(out->id);
  out->a = c.log(0);
  out->journals = c.journals();
}

void expect_recovery_safe(const FencingRun& r) {
  ASSERT_EQ(r.recovered.error, LedgerError::ok) << to_string(r.recovered.error);
  const std::int64_t last = r.recovered.value;
  ASSERT_TRUE(r.metadata.has_value());
  EXPECT_EQ(r.metadata->state(), CLOSED);
  EXPECT_EQ(r.metadata->last_entry_id(), last);
  // Property: if entry e was acknowledged, the closed ledger's last entry is >= e.
  EXPECT_GE(last, r.a.max_acked());
  for (const AddEvent& a : r.a.ok_adds()) {
    EXPECT_LE(a.result.entry_id, last) << "acked past the closed ledger's end";
  }
  for (std::int64_t e = 0; e <= last; ++e) {
    EXPECT_GE(copies(r.journals, *r.metadata, r.id, e), 2u) << "entry " << e;
  }
  // The old writer learned it was fenced, and acknowledged nothing after that.
  bool fenced = false;
  for (const AddEvent& a : r.a.adds) {
    if (a.result.error == LedgerError::fenced) fenced = true;
    if (fenced) {
      EXPECT_NE(a.result.error, LedgerError::ok) << "ack after fenced: " << a.result.entry_id;
    }
  }
  EXPECT_TRUE(fenced);
}

TEST(LedgerClientTest, RecoveryFencesTheOldWriter) {
  FencingRun r;
  run_fencing(true, 400, 1 * kMs, 0, &r);
  expect_recovery_safe(r);
  EXPECT_GT(r.a.ok_adds().size(), 50u);
  for (const AddEvent& a : r.a.ok_adds()) {
    EXPECT_LT(a.time_ns, r.recovered.time_ns) << "entry " << a.result.entry_id;
  }
  // Every append made after the recovery failed with fenced.
  std::size_t late = 0;
  for (const AddEvent& a : r.a.adds) {
    if (a.time_ns <= r.recovered.time_ns) continue;
    ++late;
    EXPECT_EQ(a.result.error, LedgerError::fenced) << to_string(a.result.error);
  }
  EXPECT_GT(late, 100u);
}

TEST(LedgerClientTest, RecoveryWithoutFencingLetsTheOldWriterAckPastTheEnd) {
  FencingRun r;
  // A slow writer, so the unfenced recovery reads reach the end of what it wrote.
  run_fencing(false, 60, 10 * kMs, 0, &r);
  ASSERT_EQ(r.recovered.error, LedgerError::ok) << to_string(r.recovered.error);
  ASSERT_TRUE(r.metadata.has_value());
  EXPECT_EQ(r.metadata->state(), CLOSED);
  const std::int64_t last = r.recovered.value;
  EXPECT_EQ(r.metadata->last_entry_id(), last);
  // Split brain: the old writer goes on acknowledging entries past the closed end.
  std::size_t lost = 0;
  for (const AddEvent& a : r.a.ok_adds()) {
    if (a.time_ns > r.recovered.time_ns && a.result.entry_id > last) ++lost;
  }
  EXPECT_GT(lost, 10u);
  EXPECT_EQ(r.a.ok_adds().size(), 60u);
}

TEST(LedgerClientTest, PausedWriterIsFencedWhenItResumes) {
  FencingRun r;
  run_fencing(true, 300, 1 * kMs, 500 * kMs, &r);
  expect_recovery_safe(r);
  // Adds appended after the resume all fail.
  bool any_late = false;
  for (const AddEvent& a : r.a.adds) {
    if (r.a.appended_ns.at(a.result.token) <= r.recovered.time_ns) continue;
    any_late = true;
    EXPECT_EQ(a.result.error, LedgerError::fenced) << to_string(a.result.error);
  }
  EXPECT_TRUE(any_late);
}

// Fencing reads of the LAC go to every bookie of the last fragment, not only to the write
// sets recovery reads later touch (E=4, Qw=2: those miss one bookie).
TEST(LedgerClientTest, RecoveryFencesEveryBookieOfTheLastFragment) {
  Cluster c(spec({0, 0, 0, 0}, 2));
  c.start();
  const std::uint64_t id = c.create(0, options(4, 2, 2));
  ASSERT_NE(id, 0u);
  // Slow appends: each entry carries the previous one as LAC, so the bookies' highest LAC
  // is 8 and recovery reads only entries 9 and 10, whose write sets miss one bookie.
  c.writer(0).append(id, 10, 10 * kMs);
  ASSERT_TRUE(c.run_until([&] { return c.log(0).adds.size() == 10; }, kSec));
  expect_in_order(c.log(0), 10);
  const DoneEvent opened = c.open(1, id, true);
  ASSERT_EQ(opened.error, LedgerError::ok) << to_string(opened.error);
  EXPECT_EQ(opened.value, 9);
  c.run_for(20 * kMs);
  const auto m = c.metadata(id);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->state(), CLOSED);
  EXPECT_EQ(m->last_entry_id(), 9);
  for (const std::string& b : ensemble_of(*m, 0)) {
    EXPECT_TRUE(c.journal(c.node(b)).fenced.contains(id)) << b << " was not fenced";
  }
  // The old writer, still alive, is refused and gives the ledger up.
  c.writer(0).append(id, 1, kMs);
  ASSERT_TRUE(c.run_until([&] { return c.log(0).adds.size() == 11; }, kSec));
  EXPECT_EQ(c.log(0).adds.back().result.error, LedgerError::fenced);
  EXPECT_EQ(c.close(0, id), LedgerError::fenced);
  EXPECT_EQ(c.metadata(id)->last_entry_id(), 9);
}

// A writer fenced by another client's recovery can itself recover its ledger: the replies
// to its recovery rewrites belong to the recovery, not to the failed writer object it
// still holds for the ledger (they used to be dropped there, so the rewrite timed out).
TEST(LedgerClientTest, FencedWriterRecoversItsOwnLedger) {
  Cluster c(spec({0, 0, 0}, 2));
  c.config(0).add_timeout_ns = 500 * kMs;  // Bounds the rewrite, were its replies lost.
  c.start();
  const std::uint64_t id = c.create(0, options(3, 3, 2));
  ASSERT_NE(id, 0u);
  // Slow appends: the bookies' highest LAC is 8, so entry 9 is beyond it.
  c.writer(0).append(id, 10, 10 * kMs);
  ASSERT_TRUE(c.run_until([&] { return c.log(0).adds.size() == 10; }, kSec));
  expect_in_order(c.log(0), 10);

  // Writer 1 marks the ledger IN_RECOVERY and fences the bookies, but is cut off from the
  // store before it can close the ledger.
  const NodeId store = c.node("n0");
  c.writer(1).open(id, true);
  auto fenced = [&] {
    for (const NodeId b : c.bookies()) {
      if (!c.journal(b).fenced.contains(id)) return false;
    }
    return true;
  };
  const std::int64_t limit = c.now() + 100 * kMs;
  while (!fenced() && c.now() < limit) c.world().run_until(c.now() + 20 * kUs);
  ASSERT_TRUE(fenced());
  ASSERT_EQ(c.metadata(id)->state(), IN_RECOVERY);
  const auto cut = c.world().network().partition({c.writer_id(1)}, {store}, /*one_way=*/false);
  c.run_for(50 * kMs);
  ASSERT_EQ(c.metadata(id)->state(), IN_RECOVERY) << "writer 1 must not have closed it";

  // Writer 0's next append is fenced: its writer object for the ledger has failed.
  c.writer(0).append(id, 1, kMs);
  ASSERT_TRUE(c.run_until([&] { return c.log(0).adds.size() == 11; }, kSec));
  ASSERT_EQ(c.log(0).adds.back().result.error, LedgerError::fenced);

  // Writer 0 now recovers the ledger itself: entry 9 is read and rewritten, then closed.
  const std::int64_t start = c.now();
  const DoneEvent opened = c.open(0, id, true);
  ASSERT_EQ(opened.error, LedgerError::ok) << to_string(opened.error);
  EXPECT_LT(opened.time_ns - start, kSec);
  EXPECT_EQ(opened.value, 9);
  EXPECT_GE(opened.value, c.log(0).max_acked());
  const auto m = c.metadata(id);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->state(), CLOSED);
  EXPECT_EQ(m->last_entry_id(), 9);
  const auto journals = c.journals();
  for (std::int64_t e = 0; e <= 9; ++e) {
    EXPECT_GE(copies(journals, *m, id, e), 2u) << "entry " << e;
  }

  // Writer 1, back in touch with the store, sees the same end.
  c.world().network().remove(cut);
  c.run_for(50 * kMs);
  const DoneEvent again = c.open(1, id, true);
  ASSERT_EQ(again.error, LedgerError::ok) << to_string(again.error);
  EXPECT_EQ(again.value, 9);
}

// With Qa = Qw a recovery cannot rewrite without every bookie of the write set: when one
// is gone for good, recovery replaces it (an ensemble change of the IN_RECOVERY ledger)
// instead of failing on every attempt, and reads still follow where the writer wrote.
TEST(LedgerClientTest, RecoveryReplacesABookieLostWhileRewriting) {
  Cluster c(spec({0, 0, 0}, 2));
  c.config(1).placement.policy = PlacementPolicy::random;
  c.start();
  const std::uint64_t id = c.create(0, options(2, 2, 2));
  ASSERT_NE(id, 0u);
  c.writer(0).append(id, 10, 1 * kMs);
  ASSERT_TRUE(c.run_until([&] { return c.log(0).adds.size() == 10; }, kSec));
  ASSERT_EQ(c.log(0).max_acked(), 9);
  // The bookies store the LAC each add carried, which lags the acknowledgements: the
  // last entries lie beyond every stored LAC and recovery must rewrite them.
  const auto before = c.metadata(id);
  ASSERT_TRUE(before.has_value());
  const NodeId lost = c.node(before->fragments(0).bookies(1));
  c.world().crash(c.writer_id(0));
  c.world().crash(lost, false, /*wipe=*/true);
  const DoneEvent opened = c.open(1, id, true);
  EXPECT_EQ(opened.error, LedgerError::ok) << to_string(opened.error);
  EXPECT_EQ(opened.value, 9);
  const auto after = c.metadata(id);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->state(), CLOSED);
  EXPECT_EQ(after->last_entry_id(), 9);
  ASSERT_EQ(after->fragments_size(), 2);
  const std::int64_t first = after->fragments(1).first_entry();
  EXPECT_GT(first, 0);
  EXPECT_LE(first, 9);
  for (const std::string& b : after->fragments(1).bookies()) EXPECT_NE(c.node(b), lost);
  // Every rewritten entry has both copies in its (new) write set.
  for (std::int64_t e = first; e <= 9; ++e) {
    int copies = 0;
    for (const std::string& b : after->fragments(1).bookies()) {
      copies += c.journal(c.node(b)).entries.count({id, e}) > 0 ? 1 : 0;
    }
    EXPECT_EQ(copies, 2) << "entry " << e;
  }
}

// A recovery that replaces bookies and then dies must leave the ledger as it fenced it:
// had it published its ensemble change, the next recovery would read the entries after
// it from the replacements, which hold only what the first one rewrote, and cut entries
// the old writer had acknowledged (the broker swarm found this).
TEST(LedgerClientTest, ARecoveryThatDiesLeavesItsEnsembleChangesUnpublished) {
  Cluster c(spec({0, 0, 0, 0, 0}, 3));
  c.config(1).placement.policy = PlacementPolicy::random;
  c.start();
  const std::uint64_t id = c.create(0, options(3, 3, 2));
  ASSERT_NE(id, 0u);
  // Faster than a round trip: every add carries LAC -1, so recovery rewrites them all.
  c.writer(0).append(id, 30, 10 * kUs);
  ASSERT_TRUE(c.run_until([&] { return c.log(0).adds.size() == 30; }, kSec));
  ASSERT_EQ(c.log(0).max_acked(), 29);
  c.world().crash(c.writer_id(0));
  const std::vector<std::string> ensemble = ensemble_of(*c.metadata(id), 0);
  std::vector<NodeId> spares;
  for (const NodeId b : c.bookies()) {
    if (std::find(ensemble.begin(), ensemble.end(), "n" + std::to_string(b)) == ensemble.end()) {
      spares.push_back(b);
    }
  }
  ASSERT_EQ(spares.size(), 2u);

  c.writer(1).open(id, true);
  const NodeId lost_a = c.node(ensemble[0]);
  const NodeId lost_b = c.node(ensemble[1]);
  ASSERT_TRUE(c.run_until([&] {
    return c.journal(lost_a).fenced.contains(id) && c.journal(lost_b).fenced.contains(id);
  }, kSec));
  // Fenced: now the rewrites to two of the three bookies fail, and both are replaced.
  const auto cut =
      c.world().network().partition({c.writer_id(1)}, {lost_a, lost_b}, /*one_way=*/true);
  // Dies as soon as both replacements hold a rewritten entry, before the last one.
  std::int64_t rewritten = -1;
  ASSERT_TRUE(c.run_until([&] {
    bool both = true;
    for (const NodeId b : spares) {
      bool holds = false;
      for (const auto& [key, entry] : c.journal(b).entries) {
        if (key.first != id) continue;
        holds = true;
        rewritten = std::max(rewritten, key.second);
      }
      both = both && holds;
    }
    return both;
  }, 2 * kSec));
  ASSERT_LT(rewritten, 29);  // Entries after it were never rewritten.
  c.world().crash(c.writer_id(1));
  c.world().network().remove(cut);
  const auto left = c.metadata(id);
  ASSERT_TRUE(left.has_value());
  EXPECT_EQ(left->state(), IN_RECOVERY);
  EXPECT_EQ(left->fragments_size(), 1);

  const DoneEvent recovered = c.open(2, id, true);
  ASSERT_EQ(recovered.error, LedgerError::ok) << to_string(recovered.error);
  EXPECT_EQ(recovered.value, 29);
}

// An entry beyond the LAC that reached a single bookie is recovered: one positive reply
// suffices (REFERENCE: recovery).
TEST(LedgerClientTest, RecoveryKeepsAnEntryThatReachedOneBookie) {
  Cluster c(spec({0, 0, 0}, 2));
  c.start();
  const std::uint64_t id = c.create(0, options(3, 3, 2));
  ASSERT_NE(id, 0u);
  c.writer(0).append(id, 10, 1 * kMs);
  ASSERT_TRUE(c.run_until([&] { return c.log(0).adds.size() == 10; }, kSec));
  expect_in_order(c.log(0), 10);
  const std::vector<std::string> ensemble = ensemble_of(*c.metadata(id), 0);
  const NodeId keeper = c.node(ensemble[0]);
  const std::vector<NodeId> others = {c.node(ensemble[1]), c.node(ensemble[2])};
  const auto cut = c.world().network().partition({c.writer_id(0)}, others, /*one_way=*/true);
  c.writer(0).append(id, 1, kMs);
  c.run_for(5 * kMs);
  c.world().crash(c.writer_id(0));
  c.world().network().remove(cut);
  ASSERT_TRUE(c.journal(keeper).entries.contains({id, 10}));
  for (const NodeId b : others) ASSERT_FALSE(c.journal(b).entries.contains({id, 10}));
  // The "no such entry" replies come late, so the single positive one is decisive.
  c.world().network().clog({c.writer_id(1)}, others, 5 * kMs);

  const DoneEvent opened = c.open(1, id, true);
  ASSERT_EQ(opened.error, LedgerError::ok) << to_string(opened.error);
  EXPECT_EQ(opened.value, 10);
  const auto m = c.metadata(id);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->state(), CLOSED);
  EXPECT_EQ(m->last_entry_id(), 10);
  const auto journals = c.journals();
  EXPECT_GE(copies(journals, *m, id, 10), 2u) << "the recovered entry was not rewritten";
  for (const auto& [name, j] : journals) {
    if (j.entries.contains({id, 10})) {
      EXPECT_EQ(j.entries.at({id, 10}).payload, payload_of(10));
    }
  }
}

// The writer crashes at a random time; the recovered ledger must end at or after every
// entry it acknowledged, and every entry up to the end must have an ack quorum of copies.
TEST(LedgerClientTest, RecoveryNeverCutsAnAckedEntryAcrossSeeds) {
  int beyond_lac = 0;
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    sim::Rng rng(seed);
    sim::Jitter jitter;
    jitter.kind = sim::Jitter::Kind::uniform;
    jitter.high_ns = 300 * kUs;
    ClusterSpec s = spec({0, 0, 0, 0, 0}, 2);
    s.seed = seed;
    s.jitter = jitter;
    Cluster c(s);
    c.start();
    const std::uint64_t id = c.create(0, options(3 + static_cast<std::uint32_t>(seed % 2), 3, 2));
    ASSERT_NE(id, 0u);
    c.writer(0).append(id, 200, 500 * kUs);
    c.run_for(rng.uniform_i64(5 * kMs, 60 * kMs));
    c.world().crash(c.writer_id(0));
    const DoneEvent opened = c.open(1, id, true);
    ASSERT_EQ(opened.error, LedgerError::ok) << to_string(opened.error);
    const std::int64_t acked = c.log(0).max_acked();
    EXPECT_GE(opened.value, acked);
    if (opened.value > acked) ++beyond_lac;
    const auto m = c.metadata(id);
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->state(), CLOSED);
    EXPECT_EQ(m->last_entry_id(), opened.value);
    const auto journals = c.journals();
    for (std::int64_t e = 0; e <= opened.value; ++e) {
      EXPECT_GE(copies(journals, *m, id, e), 2u) << "entry " << e;
    }
  }
  // Coverage: some runs recovered entries the writer never acknowledged.
  EXPECT_GT(beyond_lac, 0);
}

}  // namespace
}  // namespace streamlab::storage
