// The claim of DESIGN.md section 7, tested: the demo service's code, unchanged, runs under
// the simulator and as real nodes over TCP on 127.0.0.1 with real files, and the client
// history and server log judged by the same checker give the same observable outcome.
// Then the real server restarts from its directory and recovers the value it acknowledged.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <chrono>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "broker/demo/counter_log.h"
#include "broker/demo/counter_server.h"
#include "runtime/asio_runtime.h"
#include "sim/topology.h"
#include "sim/world.h"
#include "tests/runtime/asio_test_process.h"
#include "workloads/checkers/counter_checker.h"
#include "workloads/clients/counter_client.h"
#include "workloads/history/history.h"

namespace streamlab {
namespace {

using test_util::open_listener;
using test_util::TempDir;
using test_util::TestProcess;
using workloads::History;
using workloads::Op;
using workloads::OpType;

constexpr std::uint64_t kAdds = 100;
// The client stops after kAdds adds: a count, not a time, so a real clock's late timer
// wake-ups change when the adds go out but never how many.
constexpr double kRatePerS = 200;
constexpr std::int64_t kTimeoutNs = 2'000'000'000;
constexpr auto kRealDeadline = std::chrono::seconds(10);

demo::CounterServerConfig server_config() {
  demo::CounterServerConfig c;
  c.fsync = true;
  return c;
}

workloads::CounterClientConfig client_config() {
  workloads::CounterClientConfig c;
  c.server = "server";
  c.rate_per_s = kRatePerS;
  c.poisson = false;
  c.amount = 1;
  c.timeout_ns = kTimeoutNs;
  c.start_ns = 0;
  c.max_adds = kAdds;
  return c;
}

// What an observer of the service can see: the checker's verdict and counts, the log's
// length, and the last value the server acknowledged.
struct Outcome {
  std::map<std::string, std::uint64_t> anomalies;
  std::uint64_t invoked = 0;
  std::uint64_t ok = 0;
  std::uint64_t log_records = 0;
  std::int64_t final_acknowledged_value = -1;

  bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  os << "{invoked " << o.invoked << ", ok " << o.ok << ", log_records " << o.log_records
     << ", final value " << o.final_acknowledged_value << ", anomalies [";
  for (const auto& [name, count] : o.anomalies) os << " " << name << "=" << count;
  return os << " ]}";
}

Outcome judge(const std::vector<Op>& history, std::span<const std::uint8_t> server_log,
              std::int64_t duration_ns) {
  workloads::CounterCheckInput input;
  input.history = &history;
  input.server_log = server_log;
  input.process_name = [](std::uint32_t id) { return id == 1 ? "client" : "node" + std::to_string(id); };
  input.duration_ns = duration_ns;
  const workloads::CheckResult check = workloads::check_counter(input);
  Outcome out;
  out.anomalies = check.anomalies;
  out.invoked = static_cast<std::uint64_t>(check.metrics.at("ops_invoked"));
  out.ok = static_cast<std::uint64_t>(check.metrics.at("ops_ok"));
  out.log_records = static_cast<std::uint64_t>(check.metrics.at("log_records"));
  for (const Op& op : history) {
    if (op.type == OpType::ok) {
      out.final_acknowledged_value = std::max(out.final_acknowledged_value, op.value);
    }
  }
  return out;
}

// Every add acknowledged ok and in the log exactly once, the counter equal to their
// number, no anomaly.
Outcome all_ok(std::uint64_t adds) {
  Outcome o;
  o.invoked = adds;
  o.ok = adds;
  o.log_records = adds;
  o.final_acknowledged_value = static_cast<std::int64_t>(adds);
  return o;
}

// [SECTION] Simulated

Outcome run_simulated() {
  sim::Topology topology;
  topology.regions.push_back(sim::RegionSpec{"region"});
  topology.zones.push_back(sim::ZoneSpec{"zone", 0});
  for (const char* name : {"server", "client"}) {
    sim::NodeSpec node;
    node.name = name;
    node.role = name;
    node.zone = 0;
    topology.nodes.push_back(node);
  }
  sim::World world(std::move(topology), /*seed=*/42);
  History history([&world] { return world.kernel().now(); });
  world.set_factory(0, [](Runtime& rt) {
    return std::make_unique<demo::CounterServer>(rt, server_config());
  });
  world.set_factory(1, [&history](Runtime& rt) {
    return std::make_unique<workloads::CounterClient>(rt, client_config(), history);
  });
  world.start();
  const std::int64_t duration_ns = 2'000'000'000;  // 100 adds at 200/s, with time to spare.
  world.run_until(duration_ns);
  const std::vector<std::uint8_t> log = world.disk(0).contents(demo::kCounterLogFile);
  return judge(history.ops(), log, duration_ns);
}

// [SECTION] Real

std::vector<std::uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct Progress {
  std::size_t invoked = 0;
  std::size_t completed = 0;
};

Progress progress_of(const History& history) {
  Progress p;
  for (const Op& op : history.ops()) ++(op.type == OpType::invoke ? p.invoked : p.completed);
  return p;
}

std::int64_t steady_ns_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                              t0)
      .count();
}

class RealVsSimTest : public ::testing::Test {
 protected:
  AsioRuntimeConfig node_config(NodeId self) {
    return AsioRuntimeConfig{peers_, self, dir_.path() + "/" + peers_[self].name, 7 + self};
  }

  TempDir dir_;
  std::vector<AsioPeer> peers_;
};

TEST_F(RealVsSimTest, CounterServiceGivesTheSameOutcomeSimulatedAndReal) {
  const Outcome simulated = run_simulated();
  EXPECT_EQ(simulated, all_ok(kAdds));

  LoopbackListener server_listener = open_listener();
  LoopbackListener client_listener = open_listener();
  peers_ = {{"server", server_listener.port()}, {"client", client_listener.port()}};

  // Only the client's thread records into the history while it runs; the test reads it on
  // that thread (call) until the thread has been joined.
  const auto t0 = std::chrono::steady_clock::now();
  History history([t0] { return steady_ns_since(t0); });
  auto server = std::make_unique<TestProcess>(node_config(0), std::move(server_listener),
                                              [](Runtime& rt) {
                                                return std::make_unique<demo::CounterServer>(
                                                    rt, server_config());
                                              });
  auto client = std::make_unique<TestProcess>(
      node_config(1), std::move(client_listener), [&history](Runtime& rt) {
        return std::make_unique<workloads::CounterClient>(rt, client_config(), history);
      });

  // Done when the client has sent all its adds and every one has completed.
  const bool finished = client->wait_until(
      [&history] {
        const Progress p = progress_of(history);
        return p.invoked == kAdds && p.completed == p.invoked;
      },
      kRealDeadline);
  client->stop();
  server->stop();
  const std::int64_t duration_ns = steady_ns_since(t0);
  // The threads are joined: the history is the main thread's to read now.
  const Progress progress = progress_of(history);
  EXPECT_TRUE(finished) << "the real run did not finish in time: " << progress.completed
                        << " of " << progress.invoked << " adds completed";
  client.reset();
  server.reset();

  const std::vector<std::uint8_t> log = read_file(node_config(0).data_dir + "/" +
                                                  demo::kCounterLogFile);
  const Outcome real = judge(history.ops(), log, duration_ns);
  EXPECT_EQ(real, simulated);

  // Restart the real server from its directory: it must recover what it acknowledged.
  TestProcess restarted(node_config(0), std::nullopt, [](Runtime& rt) {
    return std::make_unique<demo::CounterServer>(rt, server_config());
  });
  auto& counter = static_cast<demo::CounterServer&>(restarted.node());
  ASSERT_TRUE(restarted.wait_until([&counter] { return counter.serving(); }));
  EXPECT_EQ(restarted.call([&counter] { return counter.value(); }),
            real.final_acknowledged_value);
}

}  // namespace
}  // namespace streamlab
