#include "broker/storage/placement.h"

#include <algorithm>
#include <set>

#include "base/assert.h"
#include "base/draw.h"

namespace streamlab::storage {

namespace {

// Greedy ensembles tried before settling: a greedy pick can paint itself into a corner
// at the ring's wrap-around, and another draw nearly always avoids it.
constexpr int kAttempts = 16;

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

Placement::Placement(std::vector<BookieInfo> bookies, std::function<std::uint64_t()> draw)
    : bookies_(std::move(bookies)), draw_(std::move(draw)) {
  SL_ASSERT_NE(draw_, nullptr);
}

const std::string& Placement::zone_of(const std::string& bookie) const {
  for (const BookieInfo& b : bookies_) {
    if (b.name == bookie) return b.zone;
  }
  SL_ASSERT_MSG(false, "placement: unknown bookie");
  return bookies_.front().zone;
}

std::uint32_t Placement::min_zones_per_write_set(const std::vector<std::string>& ensemble,
                                                 const Quorums& q) const {
  SL_ASSERT_EQ(ensemble.size(), q.ensemble);
  std::uint32_t fewest = q.write_quorum;
  // A write set is determined by its first member; E of them cover every entry.
  for (std::uint32_t first = 0; first < q.ensemble; ++first) {
    std::set<std::string> zones;
    for (std::uint32_t i = 0; i < q.write_quorum; ++i) {
      zones.insert(zone_of(ensemble[write_set_member(first, i, q)]));
    }
    fewest = std::min(fewest, static_cast<std::uint32_t>(zones.size()));
  }
  return fewest;
}

bool Placement::acks_adhere(const std::vector<std::string>& ensemble, std::uint32_t acked_mask,
                            const Quorums& q, const PlacementConfig& config) const {
  if (config.policy != PlacementPolicy::zone_aware || !config.enforce) return true;
  // Runs for every acknowledged entry: count distinct zones without allocating.
  const std::string* seen[32];
  std::uint32_t zones = 0;
  for (std::uint32_t i = 0; i < ensemble.size() && i < 32; ++i) {
    if (((acked_mask >> i) & 1u) == 0) continue;
    const std::string& zone = zone_of(ensemble[i]);
    bool known = false;
    for (std::uint32_t z = 0; z < zones; ++z) known = known || *seen[z] == zone;
    if (!known) seen[zones++] = &zone;
  }
  return zones >= std::min(config.min_zones_per_write_quorum, q.ack_quorum);
}

std::optional<std::vector<std::string>> Placement::choose(const Quorums& q,
                                                          const PlacementConfig& config,
                                                          const std::vector<std::string>& exclude) {
  std::vector<std::uint32_t> open(q.ensemble);
  for (std::uint32_t i = 0; i < q.ensemble; ++i) open[i] = i;
  return fill(std::vector<std::string>(q.ensemble), open, q, config, exclude);
}

std::optional<std::vector<std::string>> Placement::replace(
    const std::vector<std::string>& ensemble, const std::vector<std::uint32_t>& replace,
    const Quorums& q, const PlacementConfig& config, const std::vector<std::string>& exclude) {
  std::vector<std::string> excluded = exclude;
  excluded.insert(excluded.end(), ensemble.begin(), ensemble.end());
  return fill(ensemble, replace, q, config, excluded);
}

std::optional<std::vector<std::string>> Placement::fill(std::vector<std::string> ensemble,
                                                        const std::vector<std::uint32_t>& open,
                                                        const Quorums& q,
                                                        const PlacementConfig& config,
                                                        const std::vector<std::string>& exclude) {
  std::vector<std::string> candidates;
  for (const BookieInfo& b : bookies_) {
    if (!contains(exclude, b.name)) candidates.push_back(b.name);
  }
  if (candidates.size() < open.size()) return std::nullopt;
  const bool zone_aware = config.policy == PlacementPolicy::zone_aware;
  const std::uint32_t wanted = std::min(config.min_zones_per_write_quorum, q.write_quorum);
  std::optional<std::vector<std::string>> best;
  std::uint32_t best_zones = 0;
  for (int attempt = 0; attempt < (zone_aware ? kAttempts : 1); ++attempt) {
    std::vector<std::string> pool = candidates;
    std::vector<bool> filled(q.ensemble, true);
    for (const std::uint32_t p : open) filled[p] = false;
    for (const std::uint32_t p : open) {
      // Like BookKeeper's rack-aware policy, each pick avoids the zones of the bookies it
      // will share a write set with (those within Qw - 1 positions on the ring); among the
      // best candidates the draw decides.
      std::vector<std::size_t> best_picks;
      std::uint32_t best_clashes = UINT32_MAX;
      for (std::size_t c = 0; c < pool.size(); ++c) {
        std::uint32_t clashes = 0;
        if (zone_aware) {
          for (std::uint32_t d = 1; d < q.write_quorum && d < q.ensemble; ++d) {
            for (const std::uint32_t n : {(p + d) % q.ensemble, (p + q.ensemble - d) % q.ensemble}) {
              if (filled[n] && zone_of(ensemble[n]) == zone_of(pool[c])) ++clashes;
            }
          }
        }
        if (clashes < best_clashes) {
          best_clashes = clashes;
          best_picks.clear();
        }
        if (clashes == best_clashes) best_picks.push_back(c);
      }
      const std::size_t pick = best_picks[bounded_from_bits(draw_(), best_picks.size())];
      ensemble[p] = pool[pick];
      filled[p] = true;
      pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(pick));
    }
    if (!zone_aware) return ensemble;
    const std::uint32_t zones = min_zones_per_write_set(ensemble, q);
    if (zones >= wanted) return ensemble;
    if (!best || zones > best_zones) {
      best = ensemble;
      best_zones = zones;
    }
  }
  // Short of zones: best effort takes the most spread ensemble found; enforced refuses.
  if (config.enforce) return std::nullopt;
  return best;
}

}  // namespace streamlab::storage
