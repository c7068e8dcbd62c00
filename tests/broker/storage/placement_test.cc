// Ensemble placement (REFERENCE.md "BookKeeper (storage)", Placement): random and
// zone-aware policies, enforced or best effort, replacing failed bookies, and holding acks
// back until they span enough zones. Randomness comes from a splitmix64 stream per seed,
// so every case is reproducible; property loops run each rule over many seeds.

#include "broker/storage/placement.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace streamlab::storage {
namespace {

constexpr std::uint64_t kSeeds = 200;

// Sebastiano Vigna's splitmix64: a tiny, fully deterministic stream of 64-bit words.
std::function<std::uint64_t()> splitmix64(std::uint64_t seed) {
  return [state = seed]() mutable {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
}

// Bookies named "<zone><n>", `per_zone[i]` of them in zone "z<i>".
std::vector<BookieInfo> bookies_in_zones(const std::vector<int>& per_zone) {
  std::vector<BookieInfo> bookies;
  for (std::size_t z = 0; z < per_zone.size(); ++z) {
    for (int n = 0; n < per_zone[z]; ++n) {
      const std::string zone = "z" + std::to_string(z);
      bookies.push_back(BookieInfo{zone + "-b" + std::to_string(n), zone});
    }
  }
  return bookies;
}

PlacementConfig random_policy() {
  return PlacementConfig{PlacementPolicy::random, 2, true};
}
PlacementConfig zone_aware(std::uint32_t min_zones, bool enforce) {
  return PlacementConfig{PlacementPolicy::zone_aware, min_zones, enforce};
}

bool distinct(const std::vector<std::string>& names) {
  return std::set<std::string>(names.begin(), names.end()).size() == names.size();
}

bool known(const std::vector<BookieInfo>& bookies, const std::string& name) {
  return std::any_of(bookies.begin(), bookies.end(),
                     [&](const BookieInfo& b) { return b.name == name; });
}

bool any_of_in(const std::vector<std::string>& names, const std::vector<std::string>& set) {
  return std::any_of(names.begin(), names.end(), [&](const std::string& n) {
    return std::find(set.begin(), set.end(), n) != set.end();
  });
}

// Bit mask of ensemble indexes for the whole write set of `entry`.
std::uint32_t write_set_mask(std::int64_t entry, const Quorums& q) {
  std::uint32_t mask = 0;
  for (std::uint32_t i = 0; i < q.write_quorum; ++i) mask |= 1u << write_set_member(entry, i, q);
  return mask;
}

// [SECTION] Basic choice

TEST(Placement, RandomPolicyChoosesDistinctKnownBookiesOutsideExclude) {
  const std::vector<BookieInfo> bookies = bookies_in_zones({3, 2, 2});
  const std::vector<std::string> exclude = {"z0-b1", "z2-b0"};
  const Quorums q{4, 3, 2};
  for (std::uint64_t seed = 0; seed < kSeeds; ++seed) {
    Placement placement(bookies, splitmix64(seed));
    const auto ensemble = placement.choose(q, random_policy(), exclude);
    ASSERT_TRUE(ensemble.has_value()) << "seed " << seed;
    ASSERT_EQ(ensemble->size(), q.ensemble);
    EXPECT_TRUE(distinct(*ensemble)) << "seed " << seed;
    EXPECT_FALSE(any_of_in(*ensemble, exclude)) << "seed " << seed;
    for (const std::string& b : *ensemble) EXPECT_TRUE(known(bookies, b)) << b;
  }
}

TEST(Placement, SameSeedSameEnsemble) {
  const std::vector<BookieInfo> bookies = bookies_in_zones({4, 4, 4});
  for (const PlacementConfig& config : {random_policy(), zone_aware(2, true)}) {
    for (std::uint64_t seed = 0; seed < 20; ++seed) {
      Placement first(bookies, splitmix64(seed));
      Placement second(bookies, splitmix64(seed));
      EXPECT_EQ(first.choose(Quorums{5, 3, 2}, config, {}),
                second.choose(Quorums{5, 3, 2}, config, {}))
          << "seed " << seed;
    }
  }
}

TEST(Placement, RandomPolicyUsesEveryBookieAcrossSeeds) {
  const std::vector<BookieInfo> bookies = bookies_in_zones({3, 3});
  std::map<std::string, int> uses;
  for (std::uint64_t seed = 0; seed < kSeeds; ++seed) {
    Placement placement(bookies, splitmix64(seed));
    const auto ensemble = placement.choose(Quorums{2, 2, 2}, random_policy(), {});
    ASSERT_TRUE(ensemble.has_value());
    for (const std::string& b : *ensemble) ++uses[b];
  }
  ASSERT_EQ(uses.size(), bookies.size());
  // 400 picks over 6 bookies: about 67 each; a fixed or badly skewed choice fails this.
  for (const auto& [name, count] : uses) EXPECT_GT(count, 30) << name;
}

TEST(Placement, RandomPolicyIgnoresZones) {
  // All bookies in one zone: the random policy places anyway, even with enforce set.
  const std::vector<BookieInfo> bookies = bookies_in_zones({4});
  Placement placement(bookies, splitmix64(1));
  EXPECT_TRUE(placement.choose(Quorums{3, 3, 2}, random_policy(), {}).has_value());
}

TEST(Placement, TooFewBookiesGivesNoEnsembleUnderEveryPolicy) {
  const std::vector<BookieInfo> bookies = bookies_in_zones({2, 1});
  for (const PlacementConfig& config :
       {random_policy(), zone_aware(2, true), zone_aware(2, false)}) {
    Placement placement(bookies, splitmix64(7));
    EXPECT_FALSE(placement.choose(Quorums{4, 3, 2}, config, {}).has_value());
    EXPECT_FALSE(placement.choose(Quorums{3, 3, 2}, config, {"z0-b0"}).has_value())
        << "excluded bookies do not count";
    EXPECT_TRUE(placement.choose(Quorums{3, 3, 2}, config, {}).has_value());
  }
}

TEST(Placement, ChoosesTheWholeClusterWhenEIsItsSize) {
  const std::vector<BookieInfo> bookies = bookies_in_zones({2, 2, 1});
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    Placement placement(bookies, splitmix64(seed));
    auto ensemble = placement.choose(Quorums{5, 2, 2}, random_policy(), {});
    ASSERT_TRUE(ensemble.has_value());
    std::sort(ensemble->begin(), ensemble->end());
    EXPECT_EQ(*ensemble,
              (std::vector<std::string>{"z0-b0", "z0-b1", "z1-b0", "z1-b1", "z2-b0"}));
  }
}

// [SECTION] min_zones_per_write_set and acks_adhere

TEST(Placement, MinZonesPerWriteSetLooksAtEveryWriteSet) {
  const std::vector<BookieInfo> bookies = bookies_in_zones({2, 2, 1});
  Placement placement(bookies, splitmix64(0));
  // Zones z0 z1 z0 z1: every consecutive pair (with wrap) spans both.
  EXPECT_EQ(placement.min_zones_per_write_set({"z0-b0", "z1-b0", "z0-b1", "z1-b1"},
                                              Quorums{4, 2, 2}),
            2u);
  // Zones z0 z0 z1 z1: the write set {0, 1} lies in z0 only.
  EXPECT_EQ(placement.min_zones_per_write_set({"z0-b0", "z0-b1", "z1-b0", "z1-b1"},
                                              Quorums{4, 2, 2}),
            1u);
  EXPECT_EQ(placement.min_zones_per_write_set({"z0-b0", "z0-b1", "z1-b0", "z1-b1"},
                                              Quorums{4, 3, 2}),
            2u);
  // The wrap-around write set {3, 0} is z1 z1 here, though {0,1}, {1,2}, {2,3} span two.
  EXPECT_EQ(placement.min_zones_per_write_set({"z1-b0", "z0-b0", "z0-b1", "z1-b1"},
                                              Quorums{4, 2, 2}),
            1u);
  EXPECT_EQ(placement.min_zones_per_write_set({"z0-b0", "z1-b0", "z2-b0"}, Quorums{3, 3, 2}),
            3u);
  EXPECT_EQ(placement.min_zones_per_write_set({"z0-b0", "z1-b0", "z2-b0"}, Quorums{3, 1, 1}),
            1u);
}

TEST(Placement, AcksAlwaysAdhereUnlessEnforcedZoneAware) {
  const std::vector<BookieInfo> bookies = bookies_in_zones({2, 2});
  Placement placement(bookies, splitmix64(0));
  const std::vector<std::string> ensemble = {"z0-b0", "z0-b1", "z1-b0"};
  const Quorums q{3, 3, 2};
  const std::uint32_t one_zone = 0b011;  // z0-b0 and z0-b1.
  EXPECT_TRUE(placement.acks_adhere(ensemble, one_zone, q, random_policy()));
  EXPECT_TRUE(placement.acks_adhere(ensemble, one_zone, q, zone_aware(2, false)));
  EXPECT_FALSE(placement.acks_adhere(ensemble, one_zone, q, zone_aware(2, true)));
  EXPECT_TRUE(placement.acks_adhere(ensemble, 0b101, q, zone_aware(2, true)));
  EXPECT_TRUE(placement.acks_adhere(ensemble, 0b111, q, zone_aware(2, true)));
}

TEST(Placement, AcksNeedOnlyAsManyZonesAsTheAckQuorum) {
  // min(min_zones, Qa): with Qa = 1 a single ack from any zone suffices.
  const std::vector<BookieInfo> bookies = bookies_in_zones({2, 2, 2});
  Placement placement(bookies, splitmix64(0));
  const std::vector<std::string> ensemble = {"z0-b0", "z1-b0", "z2-b0"};
  EXPECT_TRUE(placement.acks_adhere(ensemble, 0b001, Quorums{3, 3, 1}, zone_aware(3, true)));
  EXPECT_FALSE(placement.acks_adhere(ensemble, 0b001, Quorums{3, 3, 2}, zone_aware(3, true)));
  EXPECT_TRUE(placement.acks_adhere(ensemble, 0b011, Quorums{3, 3, 2}, zone_aware(3, true)));
  EXPECT_FALSE(placement.acks_adhere(ensemble, 0b011, Quorums{3, 3, 3}, zone_aware(3, true)));
  EXPECT_TRUE(placement.acks_adhere(ensemble, 0b111, Quorums{3, 3, 3}, zone_aware(3, true)));
}

TEST(Placement, ZoneOfNamesTheBookiesZone) {
  Placement placement(bookies_in_zones({1, 2}), splitmix64(0));
  EXPECT_EQ(placement.zone_of("z0-b0"), "z0");
  EXPECT_EQ(placement.zone_of("z1-b1"), "z1");
}

// [SECTION] Zone-aware

TEST(Placement, EnforcedShortOfZonesGivesNoEnsemble) {
  // Enough bookies but one zone: NotEnoughBookies, so no new ledger.
  Placement one_zone(bookies_in_zones({6}), splitmix64(3));
  EXPECT_FALSE(one_zone.choose(Quorums{3, 3, 2}, zone_aware(2, true), {}).has_value());
  // Three zones wanted, two exist.
  Placement two_zones(bookies_in_zones({3, 3}), splitmix64(3));
  EXPECT_FALSE(two_zones.choose(Quorums{3, 3, 2}, zone_aware(3, true), {}).has_value());
  // Two zones, but excluding every bookie of one leaves one.
  EXPECT_FALSE(two_zones.choose(Quorums{3, 3, 2}, zone_aware(2, true),
                                {"z1-b0", "z1-b1", "z1-b2"})
                   .has_value());
}

TEST(Placement, EnforcedScenarioFourSpreadsEveryWriteSetOverThreeZones) {
  // REFERENCE scenario 4: 3 zones, E=Qw=3, Qa=2; safe placement puts one copy per zone.
  const std::vector<BookieInfo> bookies = bookies_in_zones({3, 3, 3});
  const Quorums q{3, 3, 2};
  for (std::uint64_t seed = 0; seed < kSeeds; ++seed) {
    Placement placement(bookies, splitmix64(seed));
    const auto ensemble = placement.choose(q, zone_aware(3, true), {});
    ASSERT_TRUE(ensemble.has_value()) << "seed " << seed;
    std::set<std::string> zones;
    for (const std::string& b : *ensemble) zones.insert(placement.zone_of(b));
    EXPECT_EQ(zones.size(), 3u) << "seed " << seed;
  }
}

TEST(Placement, MinimumZonesIsCappedAtTheWriteQuorum) {
  // Asking for 3 zones with Qw = 2: a write set can only span 2, and that is enough.
  const std::vector<BookieInfo> bookies = bookies_in_zones({2, 2, 2});
  const Quorums q{3, 2, 2};
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    Placement placement(bookies, splitmix64(seed));
    const auto ensemble = placement.choose(q, zone_aware(3, true), {});
    ASSERT_TRUE(ensemble.has_value()) << "seed " << seed;
    EXPECT_EQ(placement.min_zones_per_write_set(*ensemble, q), 2u);
  }
}

TEST(Placement, BestEffortTakesTheMostSpreadEnsembleWhenShortOfZones) {
  // Four bookies in z0, one in z1; three zones wanted for E=Qw=3. No ensemble meets it;
  // the best spans two zones, which needs z1-b0.
  const std::vector<BookieInfo> bookies = bookies_in_zones({4, 1});
  const Quorums q{3, 3, 2};
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    Placement placement(bookies, splitmix64(seed));
    const auto ensemble = placement.choose(q, zone_aware(3, false), {});
    ASSERT_TRUE(ensemble.has_value()) << "seed " << seed;
    EXPECT_EQ(placement.min_zones_per_write_set(*ensemble, q), 2u) << "seed " << seed;
    EXPECT_TRUE(distinct(*ensemble));
  }
}

TEST(Placement, BestEffortPlacesInOneZoneWhenThatIsAllThereIs) {
  Placement placement(bookies_in_zones({5}), splitmix64(11));
  const auto ensemble = placement.choose(Quorums{3, 3, 2}, zone_aware(2, false), {});
  ASSERT_TRUE(ensemble.has_value());
  EXPECT_TRUE(distinct(*ensemble));
}

// Topologies (bookies per zone) the property loops run over.
const std::vector<std::vector<int>>& topologies() {
  static const std::vector<std::vector<int>> all = {
      {1, 1, 1}, {2, 2, 2}, {3, 3, 3}, {4, 1}, {2, 2}, {5}, {3, 2, 1}, {1, 1, 1, 1, 1, 1},
  };
  return all;
}

TEST(Placement, PropertyChooseNeverRepeatsOrUsesExcludedBookies) {
  const std::vector<Quorums> quorums = {{3, 3, 2}, {3, 2, 1}, {4, 3, 2}, {5, 3, 2}};
  const std::vector<PlacementConfig> configs = {random_policy(), zone_aware(2, true),
                                                zone_aware(2, false), zone_aware(3, false)};
  for (const std::vector<int>& topology : topologies()) {
    const std::vector<BookieInfo> bookies = bookies_in_zones(topology);
    const std::vector<std::string> exclude = {bookies.front().name};
    for (const Quorums& q : quorums) {
      for (const PlacementConfig& config : configs) {
        for (std::uint64_t seed = 0; seed < 5; ++seed) {
          Placement placement(bookies, splitmix64(seed));
          const auto ensemble = placement.choose(q, config, exclude);
          const bool enough = bookies.size() - exclude.size() >= q.ensemble;
          if (!enough) {
            EXPECT_FALSE(ensemble.has_value());
            continue;
          }
          if (config.policy == PlacementPolicy::random || !config.enforce) {
            // Best effort (and random) return something whenever enough bookies exist.
            ASSERT_TRUE(ensemble.has_value()) << "seed " << seed;
          }
          if (!ensemble) continue;
          ASSERT_EQ(ensemble->size(), q.ensemble);
          EXPECT_TRUE(distinct(*ensemble)) << "seed " << seed;
          EXPECT_FALSE(any_of_in(*ensemble, exclude)) << "seed " << seed;
          for (const std::string& b : *ensemble) EXPECT_TRUE(known(bookies, b)) << b;
        }
      }
    }
  }
}

TEST(Placement, PropertyEnforcedZoneAwareMeetsTheMinimumWhenItReturns) {
  const std::vector<Quorums> quorums = {{2, 2, 2}, {3, 3, 2}, {3, 2, 1}, {4, 3, 2}, {4, 2, 2}};
  constexpr int kSeedsPerCase = 6;
  for (const std::vector<int>& topology : topologies()) {
    const std::vector<BookieInfo> bookies = bookies_in_zones(topology);
    for (const Quorums& q : quorums) {
      for (std::uint32_t min_zones : {2u, 3u}) {
        const std::uint32_t wanted = std::min(min_zones, q.write_quorum);
        int returned = 0;
        for (std::uint64_t seed = 0; seed < kSeedsPerCase; ++seed) {
          Placement placement(bookies, splitmix64(seed));
          const auto ensemble = placement.choose(q, zone_aware(min_zones, true), {});
          if (!ensemble) continue;
          ++returned;
          EXPECT_GE(placement.min_zones_per_write_set(*ensemble, q), wanted) << "seed " << seed;
          // Liveness: every entry's whole write set acking always adheres.
          for (std::int64_t e = 0; e < q.ensemble; ++e) {
            EXPECT_TRUE(placement.acks_adhere(*ensemble, write_set_mask(e, q), q,
                                              zone_aware(min_zones, true)))
                << "seed " << seed << " entry " << e;
          }
        }
        // Where a zone per write-set member exists, enforced placement must find one.
        const bool zones_plenty =
            topology.size() >= q.ensemble &&
            bookies.size() >= q.ensemble;  // One bookie per zone is then always possible.
        if (zones_plenty) {
          EXPECT_EQ(returned, kSeedsPerCase) << "min_zones " << min_zones;
        }
      }
    }
  }
}

TEST(Placement, ZonesRoundRobinIsAValidEnforcedEnsemble) {
  // The witness for the disabled test below: E=6, Qw=3 over three zones of three bookies
  // has an ensemble whose every write set spans all three zones.
  Placement placement(bookies_in_zones({3, 3, 3}), splitmix64(0));
  EXPECT_EQ(placement.min_zones_per_write_set(
                {"z0-b0", "z1-b0", "z2-b0", "z0-b1", "z1-b1", "z2-b1"}, Quorums{6, 3, 2}),
            3u);
}

// BUG (placement.cc, fill): enforced zone-aware placement tries kAttempts = 64 random
// ensembles and gives up, so it reports NotEnoughBookies although a valid ensemble exists
// (the witness above). Here about one seed in four fails; with E=8, Qw=2 over two zones
// of eight, about half. BookKeeper's rack-aware policy builds the ensemble bookie by
// bookie, each avoiding the zones of the previous Qw - 1, and finds one whenever it
// exists. Disabled until fill() is fixed; run with --gtest_also_run_disabled_tests.
TEST(Placement, EnforcedFindsAValidEnsembleWheneverOneExists) {
  const std::vector<BookieInfo> bookies = bookies_in_zones({3, 3, 3});
  const Quorums q{6, 3, 2};
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    Placement placement(bookies, splitmix64(seed));
    const auto ensemble = placement.choose(q, zone_aware(3, true), {});
    ASSERT_TRUE(ensemble.has_value()) << "seed " << seed << ": a valid ensemble exists";
    EXPECT_EQ(placement.min_zones_per_write_set(*ensemble, q), 3u);
  }
}

// [SECTION] replace

TEST(Placement, ReplaceSwapsOnlyTheFailedPositions) {
  const std::vector<BookieInfo> bookies = bookies_in_zones({3, 3, 3});
  const std::vector<std::string> ensemble = {"z0-b0", "z1-b0", "z2-b0", "z0-b1"};
  const Quorums q{4, 3, 2};
  for (std::uint64_t seed = 0; seed < kSeeds; ++seed) {
    Placement placement(bookies, splitmix64(seed));
    const auto replaced = placement.replace(ensemble, {1, 3}, q, random_policy(), {"z2-b2"});
    ASSERT_TRUE(replaced.has_value()) << "seed " << seed;
    ASSERT_EQ(replaced->size(), 4u);
    EXPECT_EQ((*replaced)[0], "z0-b0");
    EXPECT_EQ((*replaced)[2], "z2-b0");
    for (std::uint32_t i : {1u, 3u}) {
      EXPECT_FALSE(any_of_in({(*replaced)[i]}, ensemble)) << "a failed or kept bookie reused";
      EXPECT_NE((*replaced)[i], "z2-b2");
    }
    EXPECT_TRUE(distinct(*replaced)) << "seed " << seed;
  }
}

TEST(Placement, ReplaceWithoutSparesGivesNoEnsemble) {
  const std::vector<BookieInfo> bookies = bookies_in_zones({2, 2});
  const std::vector<std::string> ensemble = {"z0-b0", "z1-b0", "z0-b1"};
  Placement placement(bookies, splitmix64(5));
  // One spare (z1-b1) for two failed positions.
  EXPECT_FALSE(
      placement.replace(ensemble, {0, 1}, Quorums{3, 3, 2}, random_policy(), {}).has_value());
  // The one spare is excluded.
  EXPECT_FALSE(
      placement.replace(ensemble, {0}, Quorums{3, 3, 2}, random_policy(), {"z1-b1"}).has_value());
  const auto one = placement.replace(ensemble, {2}, Quorums{3, 3, 2}, random_policy(), {});
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(*one, (std::vector<std::string>{"z0-b0", "z1-b0", "z1-b1"}));
}

TEST(Placement, EnforcedReplaceKeepsTheZoneMinimumOrRefuses) {
  // Ensemble z0 z1 z2 with E=Qw=3 and 3 zones required; z2-b0 fails.
  const std::vector<std::string> ensemble = {"z0-b0", "z1-b0", "z2-b0"};
  const Quorums q{3, 3, 2};
  {
    // A spare in z2 exists: the replacement must be it.
    for (std::uint64_t seed = 0; seed < 50; ++seed) {
      Placement p(bookies_in_zones({3, 3, 2}), splitmix64(seed));
      const auto replaced = p.replace(ensemble, {2}, q, zone_aware(3, true), {});
      ASSERT_TRUE(replaced.has_value()) << "seed " << seed;
      EXPECT_EQ((*replaced)[2], "z2-b1") << "seed " << seed;
    }
  }
  {
    // No spare in z2: enforced refuses, best effort takes a z0 or z1 bookie.
    Placement placement(bookies_in_zones({3, 3, 1}), splitmix64(9));
    EXPECT_FALSE(placement.replace(ensemble, {2}, q, zone_aware(3, true), {}).has_value());
    const auto best = placement.replace(ensemble, {2}, q, zone_aware(3, false), {});
    ASSERT_TRUE(best.has_value());
    EXPECT_EQ((*best)[0], "z0-b0");
    EXPECT_EQ((*best)[1], "z1-b0");
    EXPECT_NE(placement.zone_of((*best)[2]), "z2");
    EXPECT_EQ(placement.min_zones_per_write_set(*best, q), 2u);
  }
}

TEST(Placement, PropertyReplaceKeepsOthersAndNeverReusesOrUsesExcluded) {
  const std::vector<BookieInfo> bookies = bookies_in_zones({3, 3, 3});
  const Quorums q{4, 3, 2};
  const std::vector<std::string> exclude = {"z1-b2"};
  const std::vector<PlacementConfig> configs = {random_policy(), zone_aware(2, true),
                                                zone_aware(3, false)};
  for (const PlacementConfig& config : configs) {
    for (std::uint64_t seed = 0; seed < 40; ++seed) {
      Placement placement(bookies, splitmix64(seed));
      const auto ensemble = placement.choose(q, config, exclude);
      ASSERT_TRUE(ensemble.has_value()) << "seed " << seed;
      // Replace a seed-dependent set of one or two positions.
      std::vector<std::uint32_t> failed = {static_cast<std::uint32_t>(seed % 4)};
      if (seed % 3 == 0) failed.push_back(static_cast<std::uint32_t>((seed + 1) % 4));
      const auto replaced = placement.replace(*ensemble, failed, q, config, exclude);
      if (config.policy == PlacementPolicy::random || !config.enforce) {
        ASSERT_TRUE(replaced.has_value()) << "seed " << seed;
      }
      if (!replaced) continue;
      ASSERT_EQ(replaced->size(), q.ensemble);
      EXPECT_TRUE(distinct(*replaced)) << "seed " << seed;
      EXPECT_FALSE(any_of_in(*replaced, exclude)) << "seed " << seed;
      for (std::uint32_t i = 0; i < q.ensemble; ++i) {
        const bool was_failed = std::find(failed.begin(), failed.end(), i) != failed.end();
        if (was_failed) {
          EXPECT_FALSE(any_of_in({(*replaced)[i]}, *ensemble)) << "seed " << seed;
        } else {
          EXPECT_EQ((*replaced)[i], (*ensemble)[i]) << "seed " << seed;
        }
      }
      if (config.policy == PlacementPolicy::zone_aware && config.enforce) {
        EXPECT_GE(placement.min_zones_per_write_set(*replaced, q),
                  std::min(config.min_zones_per_write_quorum, q.write_quorum))
            << "seed " << seed;
      }
    }
  }
}

// [SECTION] Programmer errors

TEST(PlacementDeathTest, UnknownBookieCrashes) {
  Placement placement(bookies_in_zones({2}), splitmix64(0));
  EXPECT_DEATH(placement.zone_of("nobody"), "unknown bookie");
}

TEST(PlacementDeathTest, NoRandomnessCrashes) {
  EXPECT_DEATH(Placement(bookies_in_zones({2}), nullptr), "draw_");
}

}  // namespace
}  // namespace streamlab::storage
