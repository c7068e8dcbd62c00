// The trace sink (sim/trace.h): every model reports what it did, with the fields the
// event log and the timeline rely on, and a run is the same with or without a sink.

#include "sim/trace.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/faults.h"
#include "sim/world.h"
#include "test_world.h"

namespace streamlab::sim {
namespace {

using namespace test_util;  // NOLINT(google-build-using-namespace): test helpers.

struct Seen {
  std::int64_t time_ns;
  std::uint32_t node;
  TraceKind kind;
  std::uint32_t peer;
  std::int64_t start_ns;
  std::uint64_t bytes;
  std::string detail;
};

class Collect final : public TraceSink {
 public:
  void record(const TraceEvent& e) override {
    seen.push_back({e.time_ns, e.node, e.kind, e.peer, e.start_ns, e.bytes, std::string(e.detail)});
  }
  std::vector<Seen> of(TraceKind kind) const {
    std::vector<Seen> out;
    for (const Seen& s : seen) {
      if (s.kind == kind) out.push_back(s);
    }
    return out;
  }
  std::vector<Seen> seen;
};

// n0 sends to n1, n1 writes and syncs its disk and notes it, a partition drops a message
// and breaks the connection, then n1 crashes with unsynced bytes and restarts.
std::uint64_t scripted_run(TraceSink* sink) {
  World world(make_topology({0, 0}, {0}), 3);
  world.set_trace_sink(sink);
  Log log;
  install_recorders(world, log, [](RecordingNode& node) {
    Runtime& rt = node.runtime();
    if (rt.self() != 1) return;
    const std::vector<std::uint8_t> bytes(100, 7);
    rt.disk_write("f", 0, bytes, [&rt](IoStatus) {
      rt.disk_fsync("f", [&rt](IoStatus) {
        rt.note("synced f");
        rt.disk_write("f", 100, std::vector<std::uint8_t>(50, 1), [](IoStatus) {});
      });
    });
  });
  FaultInjector injector(world);
  Fault cut;
  cut.at_ns = 20 * kMs;
  cut.duration_ns = 10 * kMs;
  cut.kind = FaultKind::partition;
  cut.nodes = {0};
  cut.peers = {1};
  injector.schedule({cut});
  world.start();
  world.runtime(0).send(1, bytes_of("hello"));
  world.run_until(25 * kMs);
  world.runtime(0).send(1, bytes_of("lost"));
  world.run_until(100 * kMs);
  world.crash(1);
  world.restart(1);
  world.run_until(200 * kMs);
  return world.kernel().trace_hash();
}

TEST(Trace, ModelsReportWhatTheyDid) {
  Collect c;
  scripted_run(&c);
  const auto sends = c.of(TraceKind::send);
  ASSERT_GE(sends.size(), 2u);
  EXPECT_EQ(sends[0].node, 0u);
  EXPECT_EQ(sends[0].peer, 1u);
  EXPECT_EQ(sends[0].bytes, 5u);
  const auto delivered = c.of(TraceKind::deliver);
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(delivered[0].node, 1u);
  EXPECT_EQ(delivered[0].peer, 0u);
  EXPECT_EQ(delivered[0].start_ns, 0);
  EXPECT_GE(delivered[0].time_ns, 200 * kUs);  // The within-zone latency, at least.
  const auto dropped = c.of(TraceKind::drop);
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0].detail, "partitioned");
  const auto broken = c.of(TraceKind::broken);
  ASSERT_EQ(broken.size(), 1u);
  EXPECT_EQ(broken[0].time_ns, 25 * kMs + 50 * kMs);
  EXPECT_EQ(c.of(TraceKind::disk_write).size(), 2u + 2u);  // Before and after the restart.
  const auto fsyncs = c.of(TraceKind::disk_fsync);
  ASSERT_GE(fsyncs.size(), 1u);
  EXPECT_EQ(fsyncs[0].detail, "f");
  EXPECT_LT(fsyncs[0].start_ns, fsyncs[0].time_ns);
  const auto notes = c.of(TraceKind::note);
  ASSERT_GE(notes.size(), 1u);
  EXPECT_EQ(notes[0].detail, "synced f");
  const auto lost = c.of(TraceKind::disk_lost);
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].bytes, 50u);
  EXPECT_EQ(c.of(TraceKind::crash).size(), 1u);
  EXPECT_EQ(c.of(TraceKind::restart).size(), 1u);
  const auto faults = c.of(TraceKind::fault);
  ASSERT_EQ(faults.size(), 2u);
  EXPECT_EQ(faults[0].node, kNoPeer);
  EXPECT_EQ(faults[0].detail.rfind("inject partition", 0), 0u) << faults[0].detail;
  EXPECT_EQ(faults[1].detail.rfind("lift partition", 0), 0u) << faults[1].detail;
  for (std::size_t i = 1; i < c.seen.size(); ++i) {
    EXPECT_LE(c.seen[i - 1].time_ns, c.seen[i].time_ns) << "events in time order";
  }
}

TEST(Trace, ASinkChangesNothingInTheRun) {
  Collect c;
  EXPECT_EQ(scripted_run(&c), scripted_run(nullptr));
}

}  // namespace
}  // namespace streamlab::sim
