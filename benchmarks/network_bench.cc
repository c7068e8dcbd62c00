// Message delivery through the network model: 10 node pairs exchange 1 KB messages over
// simulated connections (zone latency, NIC serialization queues, CPU service time).
// items_per_second = delivered messages per second of wall time.

#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "runtime/runtime.h"
#include "sim/world.h"

namespace streamlab::sim {
namespace {

class PingPong final : public Node {
 public:
  PingPong(Runtime& rt, NodeId partner, bool serves) : rt_(rt), partner_(partner), serves_(serves) {}
  void on_start() override {
    if (serves_) rt_.send(partner_, payload_);
  }
  void on_message(NodeId from, std::span<const std::uint8_t> bytes) override {
    rt_.send(from, bytes);
  }
  void on_connection_broken(NodeId) override {}

 private:
  Runtime& rt_;
  NodeId partner_;
  bool serves_;
  std::vector<std::uint8_t> payload_ = std::vector<std::uint8_t>(1024, 7);
};

Topology pairs_topology(std::uint32_t pairs) {
  Topology t;
  t.regions.push_back({"r"});
  t.zones.push_back({"a", 0});
  t.zones.push_back({"b", 0});
  for (std::uint32_t n = 0; n < 2 * pairs; ++n) {
    NodeSpec spec;
    spec.name = "n" + std::to_string(n);
    spec.zone = n % 2;
    t.nodes.push_back(spec);
  }
  return t;
}

void BM_network_ping_pong(benchmark::State& state) {
  constexpr std::uint32_t kPairs = 10;
  World world(pairs_topology(kPairs), 1);
  for (std::uint32_t n = 0; n < 2 * kPairs; ++n) {
    const NodeId partner = n ^ 1u;
    const bool serves = n % 2 == 0;
    world.set_factory(n, [partner, serves](Runtime& rt) {
      return std::make_unique<PingPong>(rt, partner, serves);
    });
  }
  world.start();
  for (auto _ : state) {
    world.kernel().step();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(world.network().stats().messages_delivered));
}
BENCHMARK(BM_network_ping_pong);

}  // namespace
}  // namespace streamlab::sim
