#pragma once

// Shared fixtures of the sim/ tests: a topology builder with exact, jitter-free network
// timing, and a Node actor that records what happens to it as (kernel time, text) entries
// in a log owned by the test, so the log outlives crashed actors.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/runtime.h"
#include "sim/kernel.h"
#include "sim/topology.h"
#include "sim/world.h"

namespace streamlab::sim::test_util {

inline constexpr std::int64_t kUs = 1'000;
inline constexpr std::int64_t kMs = 1'000'000;
inline constexpr std::int64_t kSec = 1'000'000'000;

struct Entry {
  std::int64_t time_ns;  // Kernel time, not the node's clock.
  std::uint32_t node;
  std::string what;

  bool operator==(const Entry&) const = default;
};

struct Log {
  std::vector<Entry> entries;

  // Entries of one node whose text starts with `prefix`.
  std::vector<Entry> of(std::uint32_t node, std::string_view prefix = "") const {
    std::vector<Entry> out;
    for (const Entry& e : entries) {
      if (e.node == node && std::string_view(e.what).starts_with(prefix)) out.push_back(e);
    }
    return out;
  }
  std::vector<std::int64_t> times(std::uint32_t node, std::string_view prefix) const {
    std::vector<std::int64_t> out;
    for (const Entry& e : of(node, prefix)) out.push_back(e.time_ns);
    return out;
  }
};

inline std::vector<std::uint8_t> bytes_of(std::string_view text) {
  return {text.begin(), text.end()};
}

inline std::string text_of(std::span<const std::uint8_t> bytes) {
  return {bytes.begin(), bytes.end()};
}

// Records "start", "msg <from> <payload>" and "broken <peer>"; `on_start` lets a test add
// behaviour (timers, sends, disk operations) to each incarnation.
class RecordingNode final : public Node {
 public:
  using Hook = std::function<void(RecordingNode&)>;

  RecordingNode(Runtime& runtime, const Kernel& kernel, Log& log, Hook on_start, bool* destroyed)
      : runtime_(runtime),
        kernel_(kernel),
        log_(log),
        on_start_(std::move(on_start)),
        destroyed_(destroyed) {}
  ~RecordingNode() override {
    if (destroyed_ != nullptr) *destroyed_ = true;
  }

  void on_start() override {
    record("start");
    if (on_start_) on_start_(*this);
  }
  void on_message(NodeId from, std::span<const std::uint8_t> bytes) override {
    record("msg " + std::to_string(from) + " " + text_of(bytes));
  }
  void on_connection_broken(NodeId peer) override { record("broken " + std::to_string(peer)); }

  void record(std::string what) {
    log_.entries.push_back({kernel_.now(), runtime_.self(), std::move(what)});
  }
  Runtime& runtime() { return runtime_; }

 private:
  Runtime& runtime_;
  const Kernel& kernel_;
  Log& log_;
  Hook on_start_;
  bool* destroyed_;
};

inline void install_recorders(World& world, Log& log, RecordingNode::Hook hook = {},
                              bool* destroyed = nullptr) {
  for (std::uint32_t n = 0; n < world.node_count(); ++n) {
    world.set_factory(n, [&world, &log, hook, destroyed](Runtime& runtime) {
      return std::make_unique<RecordingNode>(runtime, world.kernel(), log, hook, destroyed);
    });
  }
}

// Nodes named n0, n1, ... in the given zones; zone z lies in region zone_regions[z].
// No jitter and no CPU cost, so every delivery time is an exact formula.
// What each recorded entry says, in order.
inline std::vector<std::string> texts(const std::vector<Entry>& entries) {
  std::vector<std::string> out;
  for (const Entry& e : entries) out.push_back(e.what);
  return out;
}

inline Topology make_topology(const std::vector<std::uint32_t>& node_zones,
                              const std::vector<std::uint32_t>& zone_regions) {
  Topology topology;
  std::uint32_t regions = 0;
  for (const std::uint32_t r : zone_regions) regions = std::max(regions, r + 1);
  for (std::uint32_t r = 0; r < regions; ++r) topology.regions.push_back({"r" + std::to_string(r)});
  for (std::uint32_t z = 0; z < zone_regions.size(); ++z) {
    topology.zones.push_back({"z" + std::to_string(z), zone_regions[z]});
  }
  for (std::uint32_t n = 0; n < node_zones.size(); ++n) {
    NodeSpec spec;
    spec.name = "n" + std::to_string(n);
    spec.zone = node_zones[n];
    spec.hardware.cpu.of(Work::receive) = {};
    topology.nodes.push_back(spec);
  }
  topology.latency.within_zone_ns = 200 * kUs;
  topology.latency.across_zones_ns = 1500 * kUs;
  topology.latency.across_regions_ns = 30 * kMs;
  topology.latency.jitter = Jitter{};
  topology.break_detection_ns = 50 * kMs;
  return topology;
}

}  // namespace streamlab::sim::test_util
