// The storage layer for real (DESIGN.md section 7): the metadata store, three bookies and
// a ledger writer, the same code the simulator runs, as nodes over TCP on 127.0.0.1 with
// real files and fsyncs. The writer's history and the files left on disk are judged by
// the same checker as a simulated run; then a bookie restarts from its directory and
// serves every entry it acknowledged.

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "broker/storage/bookie.h"
#include "broker/storage/metadata_store.h"
#include "runtime/asio_runtime.h"
#include "tests/runtime/asio_test_process.h"
#include "workloads/checkers/ledger_checker.h"
#include "workloads/clients/ledger_writer.h"

namespace streamlab {
namespace {

using test_util::open_listener;
using test_util::TempDir;
using test_util::TestProcess;
using workloads::LedgerHistory;
using workloads::LedgerOp;
using workloads::OpType;

constexpr int kBookies = 3;
constexpr std::uint64_t kAppends = 100;
constexpr auto kRealDeadline = std::chrono::seconds(20);

std::vector<std::uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::uint64_t acknowledged(const std::vector<LedgerOp>& ops) {
  std::uint64_t n = 0;
  for (const LedgerOp& op : ops) n += op.kind == workloads::LedgerOpKind::add && op.type == OpType::ok;
  return n;
}

class RealStorageTest : public ::testing::Test {
 protected:
  AsioRuntimeConfig node_config(NodeId self) {
    return AsioRuntimeConfig{peers_, self, dir_.path() + "/" + peers_[self].name, 11 + self};
  }

  workloads::LedgerWriterConfig writer_config() {
    workloads::LedgerWriterConfig c;
    c.rate_per_s = 200;
    c.max_adds = kAppends;
    c.entry_bytes = 256;
    c.metadata.store = "meta";
    for (int b = 1; b <= kBookies; ++b) {
      c.ledger.bookies.push_back({"bookie-" + std::to_string(b), "zone-" + std::to_string(b)});
    }
    c.options.quorums = storage::Quorums{3, 3, 2};
    return c;
  }

  TempDir dir_;
  std::vector<AsioPeer> peers_;
};

TEST_F(RealStorageTest, LedgerWriterOverRealBookiesLosesNothing) {
  std::vector<LoopbackListener> listeners;
  peers_.push_back({"meta", 0});
  for (int b = 1; b <= kBookies; ++b) peers_.push_back({"bookie-" + std::to_string(b), 0});
  peers_.push_back({"writer", 0});
  for (auto& peer : peers_) {
    listeners.push_back(open_listener());
    peer.port = listeners.back().port();
  }

  const auto t0 = std::chrono::steady_clock::now();
  // Only the writer's thread records; the test reads the history through call() until
  // that thread has been joined.
  LedgerHistory history([t0] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                                t0)
        .count();
  });
  std::vector<std::unique_ptr<TestProcess>> nodes;
  nodes.push_back(std::make_unique<TestProcess>(node_config(0), std::move(listeners[0]),
                                                [](Runtime& rt) {
                                                  return std::make_unique<storage::MetadataStore>(
                                                      rt, storage::MetadataStoreConfig{});
                                                }));
  for (NodeId b = 1; b <= kBookies; ++b) {
    nodes.push_back(std::make_unique<TestProcess>(node_config(b), std::move(listeners[b]),
                                                  [](Runtime& rt) {
                                                    return std::make_unique<storage::Bookie>(
                                                        rt, storage::BookieConfig{});
                                                  }));
  }
  const NodeId writer_id = kBookies + 1;
  const workloads::LedgerWriterConfig config = writer_config();
  nodes.push_back(std::make_unique<TestProcess>(
      node_config(writer_id), std::move(listeners[writer_id]), [&](Runtime& rt) {
        return std::make_unique<workloads::LedgerWriter>(rt, config, history);
      }));

  const bool finished = nodes.back()->wait_until(
      [&history] { return acknowledged(history.ops()) == kAppends; }, kRealDeadline);
  for (auto& node : nodes) node->stop();
  const std::uint64_t acked = acknowledged(history.ops());
  EXPECT_TRUE(finished) << "only " << acked << " of " << kAppends << " appends acknowledged";
  nodes.clear();

  workloads::LedgerCheckInput input;
  input.history = &history.ops();
  const std::vector<std::uint8_t> metadata_log =
      read_file(node_config(0).data_dir + "/" + storage::kMetadataLogFile);
  input.metadata_log = metadata_log;
  std::map<std::string, std::vector<std::uint8_t>> files;  // The input holds views of them.
  for (NodeId b = 1; b <= kBookies; ++b) {
    const std::string& dir = node_config(b).data_dir;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      const std::string name = entry.path().filename().string();
      const std::vector<std::uint8_t>& bytes =
          files[peers_[b].name + "/" + name] = read_file(dir + "/" + name);
      input.bookie_files[peers_[b].name][name] = bytes;
    }
  }
  input.process_name = [this](std::uint32_t id) { return peers_[id].name; };
  const workloads::CheckResult result = workloads::check_ledgers(input);
  EXPECT_TRUE(result.anomalies.empty()) << result.anomalies.begin()->first << ": "
                                        << result.examples.begin()->second;
  EXPECT_EQ(result.metrics.at("ops_ok"), static_cast<double>(kAppends));
  EXPECT_EQ(result.metrics.at("ledgers"), 1);
  EXPECT_EQ(result.metrics.at("ledger_entries"), static_cast<double>(kAppends));

  // A bookie restarted from its directory recovers its journal and serves.
  TestProcess restarted(node_config(1), std::nullopt, [](Runtime& rt) {
    return std::make_unique<storage::Bookie>(rt, storage::BookieConfig{});
  });
  auto& bookie = static_cast<storage::Bookie&>(restarted.node());
  EXPECT_TRUE(restarted.wait_until([&bookie] { return bookie.serving(); }));
}

}  // namespace
}  // namespace streamlab
