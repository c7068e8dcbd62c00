// Faults written back as scenario text load as the very faults they came from: every kind
// the loader accepts, times to the nanosecond, and a whole swarm's draw.

#include "workloads/scenario/fault_text.h"

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include "workloads/scenario/scenario_loader.h"
#include "workloads/run/scenario_runner.h"

namespace streamlab::workloads {
namespace {

using FK = sim::FaultKind;

const std::string kBase = R"pb(name: "t"
duration: "60s"
topology {
  zone { name: "a" nodes: ["server", "client", "spare"] }
  zone { name: "b" nodes: ["far"] }
}
system { counter { server: "server" } }
workload { counter_client { node: "client" rate: "100/s" } }
)pb";

ScenarioConfig load(const std::string& text) {
  const auto r = parse_scenario(text, "t.textproto");
  EXPECT_TRUE(r.ok()) << r.error() << "\n" << text;
  return r.ok() ? r.value() : ScenarioConfig{};
}

// A fault of `kind` as the loader makes one, with odd values in every field it reads.
sim::Fault example(FK kind) {
  sim::Fault f;
  f.kind = kind;
  f.at_ns = 1'000'000'007;
  f.duration_ns = 2'345'678'901;
  f.nodes = {0, 3};
  switch (kind) {
    case FK::partition:
    case FK::connection_reset:
      f.peers = {1};
      f.one_way = true;
      break;
    case FK::clog:
      f.peers = {2};
      f.amount_ns = 123'456'789;
      break;
    case FK::latency_spike:
      f.amount_ns = 7'000'003;
      break;
    case FK::bandwidth_cut:
      f.percent = 37;
      break;
    case FK::crash:
      f.torn = true;
      break;
    case FK::clock_jump:
      f.amount_ns = -1'234'567'891;
      break;
    case FK::disk_read_errors:
    case FK::disk_corruption:
    case FK::disk_misdirected_writes:
      f.probability = 0.0123456789012345;
      break;
    case FK::disk_slow:
      f.factor = 17;
      break;
    case FK::zone_kill:
      f.wipe = true;
      [[fallthrough]];
    case FK::zone_isolate:
    case FK::zone_restore:
      f.nodes.clear();
      f.zone = 1;
      break;
    case FK::heal_network:
      f.nodes.clear();
      break;
    case FK::restart:
    case FK::pause:
    case FK::disk_full:
    case FK::disk_lying_fsync:
      break;
  }
  return f;
}

void expect_same(const sim::Fault& a, const sim::Fault& b, const std::string& what) {
  EXPECT_EQ(a.at_ns, b.at_ns) << what;
  EXPECT_EQ(a.duration_ns, b.duration_ns) << what;
  EXPECT_EQ(a.kind, b.kind) << what;
  EXPECT_EQ(a.nodes, b.nodes) << what;
  EXPECT_EQ(a.peers, b.peers) << what;
  EXPECT_EQ(a.zone, b.zone) << what;
  EXPECT_EQ(a.one_way, b.one_way) << what;
  EXPECT_EQ(a.torn, b.torn) << what;
  EXPECT_EQ(a.wipe, b.wipe) << what;
  EXPECT_EQ(a.amount_ns, b.amount_ns) << what;
  EXPECT_EQ(a.probability, b.probability) << what;  // Exactly: the text must round-trip.
  EXPECT_EQ(a.factor, b.factor) << what;
  EXPECT_EQ(a.percent, b.percent) << what;
}

std::string with_faults(const std::vector<sim::Fault>& faults, const sim::Topology& topology) {
  std::string text = kBase;
  for (const sim::Fault& f : faults) {
    std::string fault;
    google::protobuf::TextFormat::PrintToString(fault_to_proto(f, topology), &fault);
    text += "fault {\n" + fault + "}\n";
  }
  return text;
}

TEST(FaultText, EveryKindRoundTrips) {
  const sim::Topology topology = load(kBase).topology;
  for (int k = 0; k < sim::kFaultKindCount; ++k) {
    const sim::Fault f = example(static_cast<FK>(k));
    const std::string text = with_faults({f}, topology);
    const ScenarioConfig back = load(text);
    ASSERT_EQ(back.faults.size(), 1u) << text;
    expect_same(back.faults[0], f, sim::to_string(f.kind));
  }
}

TEST(FaultText, InstantFaultsHaveNoFor) {
  sim::Fault f = example(FK::restart);
  f.duration_ns = 0;
  const scenario::Fault proto = fault_to_proto(f, load(kBase).topology);
  EXPECT_TRUE(proto.for_().empty());
  EXPECT_EQ(proto.at(), "1.000000007s");
  EXPECT_EQ(proto.restart().nodes_size(), 2);
}

// A swarm of every kind, drawn for one seed, written out and loaded again: the same
// schedule, in the same order.
TEST(FaultText, SwarmDrawRoundTrips) {
  std::string swarm = "swarm { duration_min: \"1ms\" duration_max: \"3s\"\n";
  for (int k = 0; k < sim::kFaultKindCount; ++k) {
    swarm += std::string("  rate { kind: \"") + sim::to_string(static_cast<FK>(k)) +
             "\" per_minute: 6 }\n";
  }
  const ScenarioConfig config = load(kBase + swarm + "}\n");
  const std::vector<sim::Fault> drawn = scheduled_faults(config, 42);
  ASSERT_GT(drawn.size(), 50u);
  const ScenarioConfig back = load(with_faults(drawn, config.topology));
  ASSERT_EQ(back.faults.size(), drawn.size());
  for (std::size_t i = 0; i < drawn.size(); ++i) {
    sim::Fault expected = drawn[i];
    // The swarm gives these kinds nodes they do not use; the text leaves them out.
    const bool nodeless = expected.kind == FK::heal_network || expected.kind == FK::zone_restore;
    if (nodeless) expected.nodes.clear();
    expect_same(back.faults[i], expected, "fault " + std::to_string(i));
  }
}

}  // namespace
}  // namespace streamlab::workloads
