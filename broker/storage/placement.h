#pragma once

// Ensemble placement (REFERENCE.md "BookKeeper", Placement): random, or zone-aware with a
// minimum number of zones per write quorum. Zone-aware is best effort unless enforced;
// enforced and short of zones, there is no ensemble (NotEnoughBookies) and no write.
// BookKeeper's enforceMinNumFaultDomainsForWrite also holds acknowledgements back until
// the bookies that acked span the minimum; `acks_adhere` is that test.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "broker/storage/ledger_rules.h"

namespace streamlab::storage {

struct BookieInfo {
  std::string name;
  std::string zone;
};

enum class PlacementPolicy : std::uint8_t { random, zone_aware };

struct PlacementConfig {
  PlacementPolicy policy = PlacementPolicy::zone_aware;
  std::uint32_t min_zones_per_write_quorum = 2;  // minNumRacksPerWriteQuorum.
  bool enforce = true;
};

class Placement {
 public:
  // `draw` is the node's seeded randomness (Runtime::random).
  Placement(std::vector<BookieInfo> bookies, std::function<std::uint64_t()> draw);

  // A new ensemble of q.ensemble bookies, none of them in `exclude`; nullopt when there
  // are too few bookies, or (enforced zone-aware) too few zones.
  std::optional<std::vector<std::string>> choose(const Quorums& q, const PlacementConfig& config,
                                                 const std::vector<std::string>& exclude);

  // The ensemble with the members at `replace` swapped for bookies outside the ensemble
  // and `exclude`; nullopt as for choose().
  std::optional<std::vector<std::string>> replace(const std::vector<std::string>& ensemble,
                                                  const std::vector<std::uint32_t>& replace,
                                                  const Quorums& q,
                                                  const PlacementConfig& config,
                                                  const std::vector<std::string>& exclude);

  // The fewest distinct zones over the write sets of an ensemble.
  std::uint32_t min_zones_per_write_set(const std::vector<std::string>& ensemble,
                                        const Quorums& q) const;

  // Whether bookies that acked (ensemble indexes) span enough zones to count as an ack
  // quorum: always true unless enforced zone-aware.
  bool acks_adhere(const std::vector<std::string>& ensemble, std::uint32_t acked_mask,
                   const Quorums& q, const PlacementConfig& config) const;

  const std::string& zone_of(const std::string& bookie) const;

 private:
  std::optional<std::vector<std::string>> fill(std::vector<std::string> ensemble,
                                               const std::vector<std::uint32_t>& open,
                                               const Quorums& q, const PlacementConfig& config,
                                               const std::vector<std::string>& exclude);

  std::vector<BookieInfo> bookies_;
  std::function<std::uint64_t()> draw_;
};

}  // namespace streamlab::storage
