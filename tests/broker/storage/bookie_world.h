#pragma once

// The bookie tests' world (bookie_test.cc, bookie_checkpoint_test.cc): one bookie and one
// scripted client node that records every reply, with helpers to send adds and reads
// and to read what the bookie's files hold. Shared by several test files, so nothing
// here lives in an anonymous namespace.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "broker/storage/bookie.h"
#include "broker/storage/record_log.h"
#include "broker/storage/wire.h"
#include "sim/world.h"
#include "tests/broker/storage/stored_on_disk.h"
#include "tests/sim/test_world.h"

namespace streamlab::storage::bookie_test {

using sim::test_util::kMs;
using sim::test_util::kSec;
using sim::test_util::kUs;

inline constexpr NodeId kBookie = 0;
inline constexpr NodeId kClient = 1;
inline constexpr std::int64_t kNetNs = 200 * kUs;  // make_topology's within-zone latency.

struct Reply {
  std::int64_t time_ns;
  StorageMessage message;
};

// Records every StorageMessage it receives, with the kernel time, into a vector owned by
// the test.
class ClientNode final : public Node {
 public:
  ClientNode(const sim::Kernel& kernel, std::vector<Reply>& replies)
      : kernel_(kernel), replies_(replies) {}
  void on_start() override {}
  void on_message(NodeId, std::span<const std::uint8_t> bytes) override {
    Reply reply{kernel_.now(), {}};
    ASSERT_TRUE(parse_message(bytes, &reply.message));
    replies_.push_back(std::move(reply));
  }
  void on_connection_broken(NodeId) override {}

 private:
  const sim::Kernel& kernel_;
  std::vector<Reply>& replies_;
};

inline std::vector<std::uint8_t> journal_record(std::uint64_t ledger, std::int64_t entry,
                                         std::int64_t lac, const std::string& payload,
                                         bool fence = false) {
  JournalRecord record;
  record.set_ledger_id(ledger);
  record.set_entry_id(entry);
  record.set_lac(lac);
  record.set_payload(payload);
  record.set_fence(fence);
  const std::string body = record.SerializeAsString();
  std::vector<std::uint8_t> out;
  append_framed(std::span(reinterpret_cast<const std::uint8_t*>(body.data()), body.size()), out);
  return out;
}

inline void append(std::vector<std::uint8_t>& out, const std::vector<std::uint8_t>& more) {
  out.insert(out.end(), more.begin(), more.end());
}

class BookieTest : public ::testing::Test {
 protected:
  // `journal`: bytes on the bookie's disk before it first starts.
  void start(BookieConfig config, sim::DiskProfile disk = {},
             const std::vector<std::uint8_t>& journal = {}) {
    config_ = config;
    sim::Topology topology = sim::test_util::make_topology({0, 0}, {0});
    topology.nodes[kBookie].hardware.disk = disk;
    world_ = std::make_unique<sim::World>(std::move(topology), /*seed=*/7);
    if (!journal.empty()) {
      world_->disk(kBookie).write(journal_file(1), 0, journal, [](IoStatus s) {
        ASSERT_EQ(s, IoStatus::ok);
      });
      world_->disk(kBookie).fsync(journal_file(1), [](IoStatus) {});
      world_->run_until(10 * kMs);
    }
    world_->set_factory(kBookie, [this](Runtime& rt) {
      return std::make_unique<Bookie>(rt, config_);
    });
    world_->set_factory(kClient, [this](Runtime&) {
      return std::make_unique<ClientNode>(world_->kernel(), replies_);
    });
    world_->start();
    run_for(50 * kMs);
    ASSERT_TRUE(bookie().serving());
  }

  Bookie& bookie() { return static_cast<Bookie&>(*world_->actor(kBookie)); }
  std::int64_t now() const { return world_->kernel().now(); }
  void run_for(std::int64_t ns) { world_->run_until(now() + ns); }

  void send(const StorageMessage& message) {
    send_message(world_->runtime(kClient), kBookie, message, buffer_);
  }
  void add(std::uint64_t ledger, std::int64_t entry, std::int64_t lac, const std::string& payload,
           bool recovery = false) {
    StorageMessage m;
    AddEntry* a = m.mutable_add_entry();
    a->set_ledger_id(ledger);
    a->set_entry_id(entry);
    a->set_lac(lac);
    a->set_payload(payload);
    a->set_recovery(recovery);
    send(m);
  }
  void read(std::uint64_t ledger, std::int64_t entry, bool fence = false) {
    StorageMessage m;
    ReadEntry* r = m.mutable_read_entry();
    r->set_request_id(++request_id_);
    r->set_ledger_id(ledger);
    r->set_entry_id(entry);
    r->set_fence(fence);
    send(m);
  }

  // Replies received since the last take, of one kind.
  std::vector<Reply> take(StorageMessage::BodyCase kind) {
    std::vector<Reply> out;
    std::vector<Reply> rest;
    for (Reply& r : replies_) (r.message.body_case() == kind ? out : rest).push_back(std::move(r));
    replies_ = std::move(rest);
    return out;
  }
  std::vector<Reply> adds() { return take(StorageMessage::kAddResponse); }
  std::vector<Reply> reads() { return take(StorageMessage::kReadResponse); }

  // Sends one read and returns its response.
  ReadResponse read_now(std::uint64_t ledger, std::int64_t entry, bool fence = false) {
    read(ledger, entry, fence);
    run_for(20 * kMs);
    const std::vector<Reply> r = reads();
    EXPECT_EQ(r.size(), 1u);
    return r.empty() ? ReadResponse{} : r[0].message.read_response();
  }
  BookieStatus add_now(std::uint64_t ledger, std::int64_t entry, const std::string& payload,
                       bool recovery = false) {
    add(ledger, entry, entry - 1, payload, recovery);
    run_for(20 * kMs);
    const std::vector<Reply> r = adds();
    EXPECT_EQ(r.size(), 1u);
    return r.empty() ? BK_ERROR : r[0].message.add_response().status();
  }

  // What the bookie holds, read from its files as its restart would.
  JournalContents journal(bool durable = false) {
    return stored_on_disk(world_->disk(kBookie), durable);
  }
  std::vector<std::uint8_t> file(const std::string& name) {
    return world_->disk(kBookie).contents(name);
  }

  BookieConfig config_;
  std::unique_ptr<sim::World> world_;
  std::vector<Reply> replies_;
  std::vector<std::uint8_t> buffer_;
  std::uint64_t request_id_ = 0;
};

}  // namespace streamlab::storage::bookie_test
