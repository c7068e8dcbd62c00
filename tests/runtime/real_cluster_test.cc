// Real mode end to end (DESIGN.md section 7): a local cluster of the zombie-broker
// scenario's nodes, a consumer and a producer as `streamlab consume` / `streamlab produce`
// processes, the broker that owns the topic killed with SIGKILL mid-run, and the run
// judged by `streamlab cluster check` with the simulator's checker. Also the client
// commands' answers to bad input.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>
#include <chrono>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "runtime/asio_runtime.h"
#include "tests/runtime/asio_test_process.h"
#include "tests/runtime/cluster_commands.h"
#include "workloads/cluster/cluster.h"
#include "workloads/cluster/processes.h"
#include "workloads/history/queue_history_io.h"

namespace streamlab {
namespace {

using cluster::Cluster;
using cluster::ClusterNode;
using cluster::NodeRole;
using test_util::ClusterGuard;
using test_util::contains;
using test_util::Outcome;
using test_util::scenario;
using test_util::streamlab;
using test_util::TempDir;
using workloads::OpType;
using workloads::QueueOp;
using workloads::QueueOpKind;

// 1 metadata store, 3 bookies, brokers broker-a and broker-b; topic "orders", not
// partitioned; sessions expire after 5 s.
constexpr char kScenario[] = "zombie-broker-gc-pause.safe.textproto";
constexpr std::size_t kMessages = 10'000;
constexpr std::size_t kAckedBeforeKill = 1'000;

// A child process of the test (a client command); killed (SIGKILL) and reaped when the
// guard goes, unless it was reaped before, so a failing test leaves nothing behind.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::string& log) : log_(log) {
    const Result<pid_t> pid = cluster::spawn_logged(argv, log);
    EXPECT_TRUE(pid.ok()) << pid.error();
    if (pid.ok()) pid_ = pid.value();
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0) cluster::kill_children({pid_});
  }

  // Its exit code once it exits within `timeout`; -1 if it did not (it is still running
  // then) or was killed by a signal.
  int wait(std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      const pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        pid_ = 0;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return -1;
  }

  // What it printed so far.
  std::string output() const {
    std::ifstream in(log_);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

 private:
  std::string log_;
  pid_t pid_ = 0;
};

// The complete lines of a history file that may still be growing.
std::vector<QueueOp> read_history(const std::string& path) {
  std::ifstream in(path);
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  text.resize(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
  std::vector<QueueOp> ops;
  std::size_t begin = 0;
  while (begin < text.size()) {
    const std::size_t end = text.find('\n', begin);
    Result<QueueOp> op = workloads::queue_op_from_json(text.substr(begin, end - begin));
    EXPECT_TRUE(op.ok()) << path << ": " << op.error();
    if (op.ok()) ops.push_back(std::move(op.value()));
    begin = end + 1;
  }
  return ops;
}

// The acknowledged sends of a history file that may still be growing, read as it grows:
// each look parses only the lines added since the last one, so that waiting stays cheap
// however long the history gets (re-reading it all every 20 ms, in the sanitized build on
// a loaded machine, once let every send complete before the test got to the kill).
class AckedSends {
 public:
  explicit AckedSends(std::string path) : path_(std::move(path)) {}

  const std::vector<QueueOp>& now() {
    std::ifstream in(path_);
    in.seekg(static_cast<std::streamoff>(offset_));
    std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    const std::size_t last_newline = text.rfind('\n');
    if (last_newline == std::string::npos) return acked_;
    text.resize(last_newline + 1);
    offset_ += text.size();
    std::size_t begin = 0;
    while (begin < text.size()) {
      const std::size_t end = text.find('\n', begin);
      Result<QueueOp> op = workloads::queue_op_from_json(text.substr(begin, end - begin));
      EXPECT_TRUE(op.ok()) << path_ << ": " << op.error();
      if (op.ok() && op.value().kind == QueueOpKind::send && op.value().type == OpType::ok) {
        acked_.push_back(std::move(op.value()));
      }
      begin = end + 1;
    }
    return acked_;
  }

  // Waits until `count` sends are acknowledged; false after the timeout.
  bool wait_for(std::size_t count, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (now().size() >= count) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

 private:
  std::string path_;
  std::size_t offset_ = 0;
  std::vector<QueueOp> acked_;
};

const ClusterNode* find_node(const Cluster& c, const std::string& name) {
  const NodeId id = c.id_of(name);
  return id == kNoNode ? nullptr : &c.nodes[id];
}

TEST(RealCluster, ProducerAndConsumerSurviveTheOwningBrokerKilledAndTheCheckerAgrees) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/c";
  const std::string produced = tmp.path() + "/prod.jsonl";
  const std::string consumed = tmp.path() + "/cons.jsonl";
  ClusterGuard guard(dir);
  const Outcome up = streamlab("cluster up " + scenario(kScenario) + " --dir " + dir);
  ASSERT_EQ(up.exit_code, 0) << up.out;
  const Result<Cluster> c = cluster::read_cluster_file(cluster::cluster_file_path(dir));
  ASSERT_TRUE(c.ok()) << c.error();

  // The consumer's idle bound outlasts the takeover: the session expires after 5 s and
  // the client's reconnect backoff reaches 3 s by then.
  Child consumer({STREAMLAB_BIN, "consume", dir, "--topic", "orders", "--subscription", "audit",
                  "--type", "failover", "--count", std::to_string(kMessages), "--idle", "30s",
                  "--timeout", "90s", "--history", consumed},
                 tmp.path() + "/consume.log");
  // 500/s leaves the kill some 18 s of sends to come, however slowly the test gets to it.
  Child producer({STREAMLAB_BIN, "produce", dir, "--topic", "orders", "--count",
                  std::to_string(kMessages), "--rate", "500/s", "--timeout", "90s",
                  "--history", produced},
                 tmp.path() + "/produce.log");

  AckedSends acked_sends(produced);
  ASSERT_TRUE(acked_sends.wait_for(kAckedBeforeKill, std::chrono::seconds(20)))
      << "fewer than " << kAckedBeforeKill << " sends acknowledged in 20 s\n"
      << producer.output();
  const std::string owner = acked_sends.now().back().broker;
  const ClusterNode* broker = find_node(c.value(), owner);
  ASSERT_NE(broker, nullptr) << owner;
  ASSERT_EQ(broker->role, NodeRole::broker) << owner;
  ASSERT_EQ(::kill(broker->pid, SIGKILL), 0) << owner << ": " << std::strerror(errno);
  // Counted after the kill: a test starved of the CPU between a look and the kill must
  // not take a finished producer for one the kill interrupted.
  const std::size_t acked_at_kill = acked_sends.now().size();
  ASSERT_LT(acked_at_kill, kMessages)
      << "every send was acknowledged before the kill: there is no failover to test";

  EXPECT_EQ(producer.wait(std::chrono::seconds(80)), 0) << producer.output();
  EXPECT_EQ(consumer.wait(std::chrono::seconds(30)), 0) << consumer.output();

  const Outcome check = streamlab("cluster check " + dir + " " + produced + " " + consumed);
  EXPECT_EQ(check.exit_code, 0) << check.out;

  // Every acknowledged message was delivered, and the other broker took the topic over.
  const std::vector<QueueOp>& acked = acked_sends.now();
  EXPECT_EQ(acked.size(), kMessages);
  std::set<std::pair<std::string, std::uint64_t>> polled;
  for (const QueueOp& op : read_history(consumed)) {
    if (op.kind == QueueOpKind::poll) polled.emplace(op.producer, op.seq);
  }
  std::size_t missing = 0;
  std::size_t by_other = 0;
  for (const QueueOp& op : acked) {
    if (!polled.contains({op.producer, op.seq})) ++missing;
    if (op.broker != owner) ++by_other;
  }
  EXPECT_EQ(missing, 0u);
  EXPECT_GT(by_other, 0u) << "no send was acknowledged by a broker other than " << owner
                          << " (pid " << broker->pid << " killed after " << acked_at_kill
                          << " acknowledged sends)\n"
                          << producer.output();
}

// [SECTION] Bad input

// A cluster file of the scenario's servers (no processes) and two client slots on ports
// that were free a moment ago.
Cluster fake_cluster(const std::string& dir) {
  const Result<std::vector<std::uint16_t>> ports = cluster::pick_free_ports(3);
  EXPECT_TRUE(ports.ok());
  Cluster c;
  c.scenario = scenario(kScenario);
  c.dir = dir;
  c.nodes = {{"broker-a", NodeRole::broker, ports.value()[0], 0},
             {"client-1", NodeRole::client, ports.value()[1], 0},
             {"client-2", NodeRole::client, ports.value()[2], 0}};
  return c;
}

TEST(ClientCommands, BadInputExitsTwoNamingTheProblem) {
  TempDir dir;
  const Cluster c = fake_cluster(dir.path());
  ASSERT_TRUE(cluster::write_cluster_file(cluster::cluster_file_path(dir.path()), c).ok());
  const std::string d = dir.path();
  struct Case {
    std::string args;
    std::string message;
  };
  const Case cases[] = {
      {"produce " + d + " --topic orders --frob 1", "unknown option --frob"},
      {"produce " + d + " --count 10", "missing --topic"},
      {"produce " + d + " --topic orders --size 4", "--size must be in [8, 1MiB]"},
      {"produce " + d + " --topic orders --rate fast", "--rate: expected a rate"},
      {"produce " + d + " --topic orders --as broker-a", "broker-a is a broker, not a client slot"},
      {"produce " + d + " --topic orders --as nobody", "no node named \"nobody\""},
      {"produce " + d + " --topic nope", "has no topic \"nope\""},
      {"produce " + d + "/none --topic orders", d + "/none: no such directory"},
      {"consume " + d + " --topic orders", "missing --subscription"},
      {"consume " + d + " --topic orders --subscription s --type fifo", "--type must be"},
      {"consume " + d + " --topic orders --subscription s --idle 0", "--idle: must be > 0"},
      {"cluster check " + d, "at least one HISTORY"},
      {"cluster check " + d + " " + d + "/missing.jsonl", d + "/missing.jsonl"},
      {"cluster check " + d + " x.jsonl --allow bogus", "unknown anomaly \"bogus\""},
  };
  for (const Case& k : cases) {
    const Outcome o = streamlab(k.args);
    EXPECT_EQ(o.exit_code, 2) << k.args << "\n" << o.out;
    EXPECT_TRUE(contains(o.out, k.message)) << k.args << "\n" << o.out;
  }
  // A slot whose port another process holds.
  const Result<LoopbackListener> taken = LoopbackListener::open(c.nodes[1].port);
  ASSERT_TRUE(taken.ok()) << taken.error();
  const Outcome in_use = streamlab("produce " + d + " --topic orders --as client-1");
  EXPECT_EQ(in_use.exit_code, 2) << in_use.out;
  EXPECT_TRUE(contains(in_use.out, "client-1 is in use (port " +
                                       std::to_string(c.nodes[1].port) +
                                       " taken); pick another with --as client-2"))
      << in_use.out;

  for (const char* command : {"produce", "consume", "cluster check"}) {
    const Outcome help = streamlab(std::string(command) + " --help");
    EXPECT_EQ(help.exit_code, 0) << command;
    EXPECT_TRUE(contains(help.out, std::string("usage: streamlab ") + command)) << help.out;
  }
  const Outcome usage = streamlab("--help");
  for (const char* command : {"produce DIR", "consume DIR", "cluster check DIR"}) {
    EXPECT_TRUE(contains(usage.out, command)) << usage.out;
  }
}

}  // namespace
}  // namespace streamlab
