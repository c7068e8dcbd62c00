// The arithmetic of BookKeeper's replication protocol (REFERENCE.md "BookKeeper (storage)"):
// quorum validity, striping, the fencing and recovery quorums, and reading fragments out of
// ledger metadata. Beyond examples, property loops check every E <= 6, Qw <= E, Qa <= Qw
// for the facts the ledger client's safety rests on.

#include "broker/storage/ledger_rules.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace streamlab::storage {
namespace {

constexpr std::uint32_t kEnsembleMax = 6;

// Every valid (E, Qw, Qa) with E <= kEnsembleMax.
std::vector<Quorums> all_valid_quorums() {
  std::vector<Quorums> all;
  for (std::uint32_t e = 1; e <= kEnsembleMax; ++e) {
    for (std::uint32_t w = 1; w <= e; ++w) {
      for (std::uint32_t a = 1; a <= w; ++a) all.push_back(Quorums{e, w, a});
    }
  }
  return all;
}

std::string describe(const Quorums& q) {
  return "E=" + std::to_string(q.ensemble) + " Qw=" + std::to_string(q.write_quorum) +
         " Qa=" + std::to_string(q.ack_quorum);
}

// The ensemble indexes of entry e's write set, in order.
std::vector<std::uint32_t> write_set(std::int64_t entry, const Quorums& q) {
  std::vector<std::uint32_t> members;
  for (std::uint32_t i = 0; i < q.write_quorum; ++i) {
    members.push_back(write_set_member(entry, i, q));
  }
  return members;
}

LedgerMetadata metadata_with_fragments(const std::vector<std::int64_t>& first_entries) {
  LedgerMetadata metadata;
  metadata.set_ensemble_size(3);
  metadata.set_write_quorum(3);
  metadata.set_ack_quorum(2);
  for (std::int64_t first : first_entries) {
    Fragment* fragment = metadata.add_fragments();
    fragment->set_first_entry(first);
    for (const char* b : {"b0", "b1", "b2"}) fragment->add_bookies(b);
  }
  return metadata;
}

// [SECTION] check_quorums

TEST(LedgerRules, CheckQuorumsAcceptsValidCombinations) {
  EXPECT_EQ(check_quorums(Quorums{3, 3, 2}), "");
  EXPECT_EQ(check_quorums(Quorums{1, 1, 1}), "");
  EXPECT_EQ(check_quorums(Quorums{2, 2, 2}), "");
  EXPECT_EQ(check_quorums(Quorums{5, 3, 1}), "");
  EXPECT_EQ(check_quorums(Quorums{}), "") << "the defaults must be valid";
}

TEST(LedgerRules, CheckQuorumsRejectsEachBrokenInequality) {
  EXPECT_NE(check_quorums(Quorums{3, 3, 0}), "") << "Qa >= 1";
  EXPECT_NE(check_quorums(Quorums{3, 2, 3}), "") << "Qw >= Qa";
  EXPECT_NE(check_quorums(Quorums{2, 3, 2}), "") << "E >= Qw";
  EXPECT_NE(check_quorums(Quorums{0, 0, 0}), "");
  EXPECT_NE(check_quorums(Quorums{0, 1, 1}), "");
  // The message names the quorum at fault.
  EXPECT_NE(check_quorums(Quorums{3, 2, 3}).find("ack quorum"), std::string::npos);
  EXPECT_NE(check_quorums(Quorums{2, 3, 2}).find("ensemble"), std::string::npos);
}

TEST(LedgerRules, CheckQuorumsAgreesWithTheInequalityEverywhere) {
  for (std::uint32_t e = 0; e <= 7; ++e) {
    for (std::uint32_t w = 0; w <= 7; ++w) {
      for (std::uint32_t a = 0; a <= 7; ++a) {
        const Quorums q{e, w, a};
        const bool valid = e >= w && w >= a && a >= 1;
        EXPECT_EQ(check_quorums(q).empty(), valid) << describe(q);
      }
    }
  }
}

// [SECTION] Striping

TEST(LedgerRules, StripesAsTheProtocolDocShows) {
  // BookKeeper 4.4 protocol doc, E=4, Qw=3 (zero-based ensemble indexes).
  const Quorums q{4, 3, 2};
  EXPECT_EQ(write_set(0, q), (std::vector<std::uint32_t>{0, 1, 2}));
  EXPECT_EQ(write_set(1, q), (std::vector<std::uint32_t>{1, 2, 3}));
  EXPECT_EQ(write_set(2, q), (std::vector<std::uint32_t>{2, 3, 0}));
  EXPECT_EQ(write_set(3, q), (std::vector<std::uint32_t>{3, 0, 1}));
  EXPECT_EQ(write_set(4, q), write_set(0, q)) << "the pattern repeats every E entries";
  EXPECT_TRUE(in_write_set(3, 0, q));
  EXPECT_TRUE(in_write_set(3, 1, q));
  EXPECT_FALSE(in_write_set(3, 2, q));
  EXPECT_TRUE(in_write_set(3, 3, q));
  EXPECT_FALSE(in_write_set(0, 3, q));
  EXPECT_FALSE(in_write_set(1, 0, q));
}

TEST(LedgerRules, FullReplicationPutsEveryEntryOnEveryBookie) {
  const Quorums q{3, 3, 2};
  for (std::int64_t e = 0; e < 10; ++e) {
    for (std::uint32_t b = 0; b < 3; ++b) EXPECT_TRUE(in_write_set(e, b, q)) << e << " " << b;
  }
}

TEST(LedgerRules, StripingHandlesLargeEntryIds) {
  const Quorums q{5, 2, 2};
  const std::int64_t big = (std::int64_t{1} << 62) + 3;  // big mod 5 == (4 + 3) mod 5 == 2.
  EXPECT_EQ(write_set(big, q), (std::vector<std::uint32_t>{2, 3}));
  EXPECT_TRUE(in_write_set(big, 3, q));
  EXPECT_FALSE(in_write_set(big, 4, q));
}

TEST(LedgerRules, EveryWriteSetHasQwDistinctMembersMatchingInWriteSet) {
  for (const Quorums& q : all_valid_quorums()) {
    for (std::int64_t e = 0; e < 3 * kEnsembleMax; ++e) {
      const std::vector<std::uint32_t> members = write_set(e, q);
      const std::set<std::uint32_t> distinct(members.begin(), members.end());
      ASSERT_EQ(distinct.size(), q.write_quorum) << describe(q) << " entry " << e;
      EXPECT_EQ(members.front(), static_cast<std::uint32_t>(e % q.ensemble)) << describe(q);
      for (std::uint32_t b = 0; b < q.ensemble; ++b) {
        EXPECT_EQ(in_write_set(e, b, q), distinct.count(b) == 1)
            << describe(q) << " entry " << e << " bookie " << b;
      }
    }
  }
}

TEST(LedgerRules, EveryBookieIsInExactlyQwOfAnyEConsecutiveWriteSets) {
  // Striping spreads load evenly: over any window of E entries each bookie stores Qw.
  for (const Quorums& q : all_valid_quorums()) {
    for (std::int64_t start = 0; start < 2 * kEnsembleMax; ++start) {
      for (std::uint32_t b = 0; b < q.ensemble; ++b) {
        std::uint32_t count = 0;
        for (std::int64_t e = start; e < start + q.ensemble; ++e) count += in_write_set(e, b, q);
        EXPECT_EQ(count, q.write_quorum) << describe(q) << " start " << start << " bookie " << b;
      }
    }
  }
}

// [SECTION] Fencing and recovery quorums

TEST(LedgerRules, QuorumSizesMatchTheProtocol) {
  EXPECT_EQ(fence_quorum(Quorums{3, 3, 2}), 2u);
  EXPECT_EQ(fence_quorum(Quorums{5, 3, 2}), 4u);
  EXPECT_EQ(fence_quorum(Quorums{2, 2, 2}), 1u);
  EXPECT_EQ(fence_quorum(Quorums{3, 3, 1}), 3u);
  EXPECT_EQ(no_entry_quorum(Quorums{3, 3, 2}), 2u);
  EXPECT_EQ(no_entry_quorum(Quorums{5, 3, 2}), 2u);
  EXPECT_EQ(no_entry_quorum(Quorums{2, 2, 2}), 1u);
  EXPECT_EQ(no_entry_quorum(Quorums{3, 3, 1}), 3u);
  for (const Quorums& q : all_valid_quorums()) {
    EXPECT_GE(fence_quorum(q), 1u) << describe(q);
    EXPECT_LE(fence_quorum(q), q.ensemble) << describe(q) << ": fencing must be completable";
    EXPECT_GE(no_entry_quorum(q), 1u) << describe(q);
    EXPECT_LE(no_entry_quorum(q), q.write_quorum) << describe(q);
  }
}

TEST(LedgerRules, AnyFenceQuorumMeetsEveryAckQuorum) {
  // BookKeeper: after (E - Qa) + 1 bookies are fenced, fewer than Qa are unfenced, so no
  // entry of the old writer can gather Qa acks. Checked over every fenced set of exactly
  // fence_quorum bookies and every Qa-subset of the ensemble, and of each write set.
  for (const Quorums& q : all_valid_quorums()) {
    const std::uint32_t all = (1u << q.ensemble) - 1;
    for (std::uint32_t fenced = 0; fenced <= all; ++fenced) {
      if (std::popcount(fenced) != static_cast<int>(fence_quorum(q))) continue;
      const std::uint32_t unfenced = all & ~fenced;
      EXPECT_LT(std::popcount(unfenced), static_cast<int>(q.ack_quorum)) << describe(q);
      for (std::uint32_t acks = 0; acks <= all; ++acks) {
        if (std::popcount(acks) != static_cast<int>(q.ack_quorum)) continue;
        EXPECT_NE(acks & fenced, 0u) << describe(q) << " fenced " << fenced << " acks " << acks;
      }
    }
  }
}

TEST(LedgerRules, OneFewerThanTheFenceQuorumLeavesAnAckQuorumUnfenced) {
  // The fence quorum is the smallest that works: with one reply fewer, some Qa bookies
  // (and so some write set's ack quorum when Qw == E) are still unfenced.
  for (const Quorums& q : all_valid_quorums()) {
    const std::uint32_t fewer = fence_quorum(q) - 1;
    EXPECT_GE(q.ensemble - fewer, q.ack_quorum) << describe(q);
  }
}

TEST(LedgerRules, NoEntryQuorumMeetsEveryAckQuorumOfTheWriteSet) {
  // Any (Qw - Qa) + 1 bookies of a write set include one of any Qa that acked it.
  for (const Quorums& q : all_valid_quorums()) {
    const std::uint32_t all = (1u << q.write_quorum) - 1;
    for (std::uint32_t no = 0; no <= all; ++no) {
      if (std::popcount(no) != static_cast<int>(no_entry_quorum(q))) continue;
      for (std::uint32_t acks = 0; acks <= all; ++acks) {
        if (std::popcount(acks) != static_cast<int>(q.ack_quorum)) continue;
        EXPECT_NE(no & acks, 0u) << describe(q);
      }
    }
  }
}

// [SECTION] judge_recovery_read

TEST(LedgerRules, JudgesRecoveryReadsByExample) {
  const Quorums q{3, 3, 2};  // no_entry_quorum == 2.
  EXPECT_EQ(judge_recovery_read(0, 0, 0, q), RecoveryVerdict::waiting);
  EXPECT_EQ(judge_recovery_read(1, 0, 0, q), RecoveryVerdict::recoverable);
  EXPECT_EQ(judge_recovery_read(1, 2, 0, q), RecoveryVerdict::recoverable)
      << "one positive reply wins over any number of no-entry replies";
  EXPECT_EQ(judge_recovery_read(0, 1, 0, q), RecoveryVerdict::waiting);
  EXPECT_EQ(judge_recovery_read(0, 2, 0, q), RecoveryVerdict::absent);
  EXPECT_EQ(judge_recovery_read(0, 2, 1, q), RecoveryVerdict::absent);
  EXPECT_EQ(judge_recovery_read(0, 3, 0, q), RecoveryVerdict::absent);
  EXPECT_EQ(judge_recovery_read(0, 1, 1, q), RecoveryVerdict::waiting);
  EXPECT_EQ(judge_recovery_read(0, 1, 2, q), RecoveryVerdict::unknown);
  EXPECT_EQ(judge_recovery_read(0, 0, 3, q), RecoveryVerdict::unknown);
  EXPECT_EQ(judge_recovery_read(0, 0, 2, q), RecoveryVerdict::waiting);
}

TEST(LedgerRules, AckQuorumOneNeedsEveryBookieToSayNoEntry) {
  const Quorums q{3, 3, 1};
  EXPECT_EQ(judge_recovery_read(0, 2, 0, q), RecoveryVerdict::waiting);
  EXPECT_EQ(judge_recovery_read(0, 2, 1, q), RecoveryVerdict::unknown);
  EXPECT_EQ(judge_recovery_read(0, 3, 0, q), RecoveryVerdict::absent);
}

TEST(LedgerRules, AckQuorumEqualToWriteQuorumNeedsOneNoEntry) {
  const Quorums q{2, 2, 2};
  EXPECT_EQ(judge_recovery_read(0, 1, 0, q), RecoveryVerdict::absent);
  EXPECT_EQ(judge_recovery_read(0, 0, 1, q), RecoveryVerdict::waiting);
  EXPECT_EQ(judge_recovery_read(0, 0, 2, q), RecoveryVerdict::unknown);
}

TEST(LedgerRules, JudgeRecoveryReadMatchesItsSpecOnEveryReplyCount) {
  for (const Quorums& q : all_valid_quorums()) {
    for (std::uint32_t ok = 0; ok <= q.write_quorum; ++ok) {
      for (std::uint32_t no = 0; ok + no <= q.write_quorum; ++no) {
        for (std::uint32_t err = 0; ok + no + err <= q.write_quorum; ++err) {
          RecoveryVerdict expected = RecoveryVerdict::waiting;
          if (ok >= 1) {
            expected = RecoveryVerdict::recoverable;
          } else if (no >= q.write_quorum - q.ack_quorum + 1) {
            expected = RecoveryVerdict::absent;
          } else if (ok + no + err == q.write_quorum) {
            expected = RecoveryVerdict::unknown;
          }
          EXPECT_EQ(judge_recovery_read(ok, no, err, q), expected)
              << describe(q) << " ok " << ok << " no " << no << " err " << err;
        }
      }
    }
  }
}

TEST(LedgerRules, AnAcknowledgedEntryIsNeverJudgedAbsent) {
  // Qa bookies of the write set hold the entry; they reply OK or an error (or not at
  // all), never "no such entry". The other Qw - Qa may reply anything. Whatever arrives,
  // recovery must not call the entry absent: that would truncate an acked write.
  for (const Quorums& q : all_valid_quorums()) {
    const std::uint32_t others = q.write_quorum - q.ack_quorum;
    for (std::uint32_t holder_ok = 0; holder_ok <= q.ack_quorum; ++holder_ok) {
      for (std::uint32_t holder_err = 0; holder_ok + holder_err <= q.ack_quorum; ++holder_err) {
        for (std::uint32_t other_no = 0; other_no <= others; ++other_no) {
          for (std::uint32_t other_err = 0; other_no + other_err <= others; ++other_err) {
            const RecoveryVerdict v =
                judge_recovery_read(holder_ok, other_no, holder_err + other_err, q);
            EXPECT_NE(v, RecoveryVerdict::absent)
                << describe(q) << " ok " << holder_ok << " no " << other_no << " err "
                << holder_err + other_err;
            if (holder_ok > 0) {
              EXPECT_EQ(v, RecoveryVerdict::recoverable) << describe(q);
            }
          }
        }
      }
    }
  }
}

TEST(LedgerRules, RecoveryAlwaysDecidesOnceEveryReplyIsIn) {
  for (const Quorums& q : all_valid_quorums()) {
    for (std::uint32_t ok = 0; ok <= q.write_quorum; ++ok) {
      for (std::uint32_t no = 0; ok + no <= q.write_quorum; ++no) {
        const std::uint32_t err = q.write_quorum - ok - no;
        EXPECT_NE(judge_recovery_read(ok, no, err, q), RecoveryVerdict::waiting)
            << describe(q) << " ok " << ok << " no " << no << " err " << err;
      }
    }
  }
}

// [SECTION] Metadata

TEST(LedgerRules, FragmentOfFindsTheLastFragmentStartingAtOrBeforeTheEntry) {
  const LedgerMetadata m = metadata_with_fragments({0, 5, 12});
  EXPECT_EQ(fragment_of(m, 0), 0);
  EXPECT_EQ(fragment_of(m, 4), 0);
  EXPECT_EQ(fragment_of(m, 5), 1);
  EXPECT_EQ(fragment_of(m, 11), 1);
  EXPECT_EQ(fragment_of(m, 12), 2);
  EXPECT_EQ(fragment_of(m, 1'000'000), 2);
}

TEST(LedgerRules, FragmentOfWithOneFragment) {
  const LedgerMetadata m = metadata_with_fragments({0});
  EXPECT_EQ(fragment_of(m, 0), 0);
  EXPECT_EQ(fragment_of(m, 99), 0);
}

TEST(LedgerRules, FragmentOfPrefersTheLaterOfTwoFragmentsStartingAtTheSameEntry) {
  // Two ensemble changes before any entry of the fragment landed: the later ensemble is
  // the one writes went to.
  const LedgerMetadata m = metadata_with_fragments({0, 3, 3});
  EXPECT_EQ(fragment_of(m, 2), 0);
  EXPECT_EQ(fragment_of(m, 3), 2);
  EXPECT_EQ(fragment_of(m, 7), 2);
}

TEST(LedgerRules, FragmentOfAgreesWithALinearScanOnManyLayouts) {
  for (std::int64_t second = 1; second < 8; ++second) {
    for (std::int64_t third = second; third < 10; ++third) {
      const LedgerMetadata m = metadata_with_fragments({0, second, third});
      for (std::int64_t e = 0; e < 12; ++e) {
        const int expected = e >= third ? 2 : (e >= second ? 1 : 0);
        EXPECT_EQ(fragment_of(m, e), expected) << second << " " << third << " entry " << e;
      }
    }
  }
}

TEST(LedgerRules, QuorumsOfReadsTheMetadata) {
  LedgerMetadata m;
  m.set_ensemble_size(5);
  m.set_write_quorum(3);
  m.set_ack_quorum(2);
  const Quorums q = quorums_of(m);
  EXPECT_EQ(q.ensemble, 5u);
  EXPECT_EQ(q.write_quorum, 3u);
  EXPECT_EQ(q.ack_quorum, 2u);
}

// [SECTION] Programmer errors

TEST(LedgerRulesDeathTest, InWriteSetRejectsABookieOutsideTheEnsemble) {
  EXPECT_DEATH(in_write_set(0, 3, Quorums{3, 2, 2}), "bookie < q.ensemble");
}

TEST(LedgerRulesDeathTest, JudgeRecoveryReadRejectsMoreRepliesThanTheWriteSet) {
  EXPECT_DEATH(judge_recovery_read(2, 1, 1, Quorums{3, 3, 2}), "write_quorum");
}

TEST(LedgerRulesDeathTest, FragmentOfRejectsEmptyMetadataAndNegativeEntries) {
  EXPECT_DEATH(fragment_of(LedgerMetadata{}, 0), "fragments_size");
  EXPECT_DEATH(fragment_of(metadata_with_fragments({0}), -1), "entry >= 0");
}

}  // namespace
}  // namespace streamlab::storage
