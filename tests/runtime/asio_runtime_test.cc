// The real runtime against the contract of runtime/runtime.h: framing and its bounds,
// ordered delivery, break reporting, timers and files. Every test uses 127.0.0.1 only
// and bounds each wait by a few seconds.

#include "runtime/asio_runtime.h"

#include <gtest/gtest.h>

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tests/runtime/asio_test_process.h"

namespace streamlab {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using test_util::open_listener;
using test_util::recorder_factory;
using test_util::RecorderNode;
using test_util::TempDir;
using test_util::TestProcess;

void append_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

std::vector<std::uint8_t> hello(std::uint32_t magic, std::uint32_t from) {
  std::vector<std::uint8_t> out;
  append_u32(out, magic);
  append_u32(out, from);
  return out;
}

tcp::endpoint loopback(std::uint16_t port) {
  return tcp::endpoint(asio::ip::address_v4::loopback(), port);
}

// Connects a raw socket to the node, writes `bytes`, and reports whether the node closes
// the connection within a few seconds (it never writes on an incoming connection).
bool node_closes_after(std::uint16_t port, const std::vector<std::uint8_t>& bytes) {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(loopback(port));
  asio::write(socket, asio::buffer(bytes));
  bool closed = false;
  std::array<std::uint8_t, 1> byte{};
  socket.async_read_some(asio::buffer(byte), [&](boost::system::error_code ec, std::size_t) {
    closed = ec == asio::error::eof || ec == asio::error::connection_reset;
  });
  io.run_for(std::chrono::seconds(5));
  return closed;
}

AsioRuntimeConfig config(std::vector<AsioPeer> peers, NodeId self, const TempDir& dir) {
  return AsioRuntimeConfig{std::move(peers), self, dir.path() + "/node" + std::to_string(self),
                           self + 1};
}

RecorderNode& recorder(TestProcess& p) { return static_cast<RecorderNode&>(p.node()); }

TEST(AsioRuntimeTest, FramesArriveInOrderWithTheirSender) {
  TempDir dir;
  LoopbackListener la = open_listener();
  LoopbackListener lb = open_listener();
  const std::vector<AsioPeer> peers{{"a", la.port()}, {"b", lb.port()}};
  TestProcess a(config(peers, 0, dir), std::move(la), recorder_factory());
  TestProcess b(config(peers, 1, dir), std::move(lb), recorder_factory());

  // Sizes from empty to a few KiB, so frames straddle TCP segments and gathered writes.
  std::vector<std::string> sent;
  for (int i = 0; i < 1'000; ++i) {
    sent.push_back(i == 0 ? std::string() : std::string(i * 7 % 5'000, 'a' + i % 26) +
                                                std::to_string(i));
  }
  const auto identity = a.call([&] {
    Runtime& rt = a.runtime();
    for (const std::string& m : sent) recorder(a).send(1, m);
    return std::tuple(rt.self(), rt.node_count(), rt.node_id("b"), rt.node_id("zz"),
                      std::string(rt.node_name(1)));
  });
  ASSERT_TRUE(identity.has_value());
  EXPECT_EQ(*identity, std::tuple(NodeId{0}, std::size_t{2}, NodeId{1}, kNoNode,
                                  std::string("b")));

  ASSERT_TRUE(b.wait_until([&] { return recorder(b).messages.size() >= sent.size(); }));
  const auto got = b.call([&] { return recorder(b).messages; });
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(got->size(), sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ((*got)[i].from, 0u);
    EXPECT_EQ((*got)[i].text, sent[i]) << "message " << i;
  }
  EXPECT_EQ(a.call([&] { return recorder(a).broken.size(); }), 0u);
}

TEST(AsioRuntimeTest, FrameAtTheBoundArrives) {
  TempDir dir;
  LoopbackListener la = open_listener();
  LoopbackListener lb = open_listener();
  const std::vector<AsioPeer> peers{{"a", la.port()}, {"b", lb.port()}};
  TestProcess a(config(peers, 0, dir), std::move(la), recorder_factory());
  TestProcess b(config(peers, 1, dir), std::move(lb), recorder_factory());

  a.call([&] {
    recorder(a).send(1, std::string(kAsioMaxFrameBytes, 'x'));
    return 0;
  });
  ASSERT_TRUE(b.wait_until([&] { return !recorder(b).messages.empty(); }));
  EXPECT_EQ(b.call([&] { return recorder(b).messages[0].text.size(); }), kAsioMaxFrameBytes);
}

TEST(AsioRuntimeTest, MalformedPeerIsDisconnectedAndTheNodeLivesOn) {
  TempDir dir;
  LoopbackListener la = open_listener();
  const std::vector<AsioPeer> peers{{"a", la.port()}, {"raw", 0}};
  TestProcess a(config(peers, 0, dir), std::move(la), recorder_factory());

  std::vector<std::uint8_t> oversized = hello(kAsioHelloMagic, 1);
  append_u32(oversized, kAsioMaxFrameBytes + 1);
  EXPECT_TRUE(node_closes_after(a.port(), oversized));
  std::vector<std::uint8_t> huge = hello(kAsioHelloMagic, 1);
  append_u32(huge, 0xffffffffu);
  EXPECT_TRUE(node_closes_after(a.port(), huge));
  EXPECT_TRUE(node_closes_after(a.port(), hello(0xdeadbeefu, 1)));  // Not our protocol.
  EXPECT_TRUE(node_closes_after(a.port(), hello(kAsioHelloMagic, 7)));  // Unknown sender.

  // The node still serves a well-behaved peer, and never heard of the bad ones.
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(loopback(a.port()));
  std::vector<std::uint8_t> good = hello(kAsioHelloMagic, 1);
  append_u32(good, 4);
  for (char c : std::string("ping")) good.push_back(static_cast<std::uint8_t>(c));
  asio::write(socket, asio::buffer(good));
  ASSERT_TRUE(a.wait_until([&] { return !recorder(a).messages.empty(); }));
  const auto got = a.call([&] { return recorder(a).messages; });
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].from, 1u);
  EXPECT_EQ((*got)[0].text, "ping");
  EXPECT_EQ(a.call([&] { return recorder(a).broken.size(); }), 0u);
}

TEST(AsioRuntimeTest, FailedConnectBreaksOnceAndTheNextSendReconnects) {
  TempDir dir;
  LoopbackListener la = open_listener();
  // A port that was free a moment ago and that nobody listens on now.
  const std::uint16_t port_b = open_listener().port();
  const std::vector<AsioPeer> peers{{"a", la.port()}, {"b", port_b}};
  TestProcess a(config(peers, 0, dir), std::move(la), recorder_factory());

  a.call([&] {
    recorder(a).send(1, "lost-1");
    recorder(a).send(1, "lost-2");
    // Reported later, never inside send().
    return recorder(a).broken.size();
  });
  ASSERT_TRUE(a.wait_until([&] { return !recorder(a).broken.empty(); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(a.call([&] { return recorder(a).broken; }), std::vector<NodeId>{1});

  // b comes up on its port; the next send opens a new connection and gets through.
  TestProcess b(config(peers, 1, dir), std::nullopt, recorder_factory());
  a.call([&] {
    recorder(a).send(1, "after");
    return 0;
  });
  ASSERT_TRUE(b.wait_until([&] { return !recorder(b).messages.empty(); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto got = b.call([&] { return recorder(b).messages; });
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].text, "after");
  EXPECT_EQ(a.call([&] { return recorder(a).broken.size(); }), 1u);
}

TEST(AsioRuntimeTest, PeerExitBreaksTheConnectionWithoutAnotherSend) {
  TempDir dir;
  LoopbackListener la = open_listener();
  LoopbackListener lb = open_listener();
  const std::vector<AsioPeer> peers{{"a", la.port()}, {"b", lb.port()}};
  TestProcess a(config(peers, 0, dir), std::move(la), recorder_factory());
  auto b = std::make_unique<TestProcess>(config(peers, 1, dir), std::move(lb),
                                         recorder_factory());
  a.call([&] {
    recorder(a).send(1, "hi");
    return 0;
  });
  ASSERT_TRUE(b->wait_until([&] { return !recorder(*b).messages.empty(); }));

  b.reset();  // The peer process exits: its sockets close.
  ASSERT_TRUE(a.wait_until([&] { return !recorder(a).broken.empty(); }));
  EXPECT_EQ(a.call([&] { return recorder(a).broken; }), std::vector<NodeId>{1});

  // With the peer gone for good, the next send's connect fails: one more break.
  a.call([&] {
    recorder(a).send(1, "anyone?");
    return 0;
  });
  ASSERT_TRUE(a.wait_until([&] { return recorder(a).broken.size() >= 2; }));
  EXPECT_EQ(a.call([&] { return recorder(a).broken; }), (std::vector<NodeId>{1, 1}));
}

TEST(AsioRuntimeTest, DisconnectBreaksBothDirectionsAndBothEndsHear) {
  TempDir dir;
  LoopbackListener la = open_listener();
  LoopbackListener lb = open_listener();
  const std::vector<AsioPeer> peers{{"a", la.port()}, {"b", lb.port()}};
  TestProcess a(config(peers, 0, dir), std::move(la), recorder_factory());
  TestProcess b(config(peers, 1, dir), std::move(lb), recorder_factory());
  b.call([&] {
    recorder(b).send(0, "garbage");
    return 0;
  });
  ASSERT_TRUE(a.wait_until([&] { return !recorder(a).messages.empty(); }));
  a.call([&] {
    a.runtime().disconnect(1);
    return 0;
  });
  // The node that closed hears of it at once; the peer notices its connection closed.
  ASSERT_TRUE(a.wait_until([&] { return !recorder(a).broken.empty(); }));
  ASSERT_TRUE(b.wait_until([&] { return !recorder(b).broken.empty(); }));
  EXPECT_EQ(b.call([&] { return recorder(b).broken; }), std::vector<NodeId>{0});
  // The peer's next send reconnects.
  b.call([&] {
    recorder(b).send(0, "again");
    return 0;
  });
  ASSERT_TRUE(a.wait_until([&] { return recorder(a).messages.size() == 2; }));
}

TEST(AsioRuntimeTest, TimersFireInDeadlineOrderAndCancelledOnesNever) {
  TempDir dir;
  const std::vector<AsioPeer> peers{{"a", 0}};
  TestProcess a(config(peers, 0, dir), open_listener(), recorder_factory());

  std::vector<std::string> fired;  // Touched on a's thread only.
  TimerId due_together = 0;
  bool in_call = false;
  const auto before = a.call([&] {
    Runtime& rt = a.runtime();
    in_call = true;
    const Nanos start = rt.now();
    rt.after(30'000'000, [&] { fired.push_back("30ms"); });
    rt.after(10'000'000, [&] { fired.push_back("10ms"); });
    rt.cancel(rt.after(20'000'000, [&] { fired.push_back("cancelled early"); }));
    // Both expire before this handler returns, so the reactor completes both waits in one
    // pass: the first must still stop the second, whose wait has already succeeded.
    rt.after(0, [&] {
      fired.push_back(in_call ? "ran inline" : "0ms");
      a.runtime().cancel(due_together);
    });
    due_together = rt.after(1'000'000, [&] { fired.push_back("cancelled late"); });
    while (rt.now() - start < 3'000'000) {
    }
    rt.cancel(987'654);  // Unknown: a no-op.
    in_call = false;
    return rt.now();
  });
  ASSERT_TRUE(before.has_value());
  ASSERT_TRUE(a.wait_until([&] { return fired.size() >= 3; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(a.call([&] { return fired; }),
            (std::vector<std::string>{"0ms", "10ms", "30ms"}));
  const auto after = a.call([&] { return a.runtime().now(); });
  EXPECT_GE(*after - *before, 30'000'000);
}

// Runs disk operations on a node's thread and waits for each completion.
class DiskDriver {
 public:
  explicit DiskDriver(TestProcess& p) : p_(p) {}

  IoStatus write(std::string file, std::uint64_t offset, std::string text) {
    return run([=, this](Runtime& rt) {
      rt.disk_write(file, offset,
                    std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()),
                    [this](IoStatus s) { done(s); });
    });
  }
  IoStatus fsync(std::string file) {
    return run([=, this](Runtime& rt) { rt.disk_fsync(file, [this](IoStatus s) { done(s); }); });
  }
  IoStatus truncate(std::string file, std::uint64_t size) {
    return run([=, this](Runtime& rt) {
      rt.disk_truncate(file, size, [this](IoStatus s) { done(s); });
    });
  }
  std::pair<IoStatus, std::string> read(std::string file, std::uint64_t offset,
                                        std::uint64_t length) {
    const IoStatus status = run([=, this](Runtime& rt) {
      rt.disk_read(file, offset, length, [this](IoStatus s, std::span<const std::uint8_t> b) {
        bytes_.assign(b.begin(), b.end());
        done(s);
      });
    });
    return {status, *p_.call([this] { return bytes_; })};
  }
  IoStatus remove(std::string file) {
    return run([=, this](Runtime& rt) { rt.disk_remove(file, [this](IoStatus s) { done(s); }); });
  }
  std::vector<std::string> list() {
    run([this](Runtime& rt) {
      rt.disk_list([this](IoStatus s, std::span<const std::string> names) {
        names_.assign(names.begin(), names.end());
        done(s);
      });
    });
    return *p_.call([this] { return names_; });
  }
  bool ran_inline() { return *p_.call([this] { return ran_inline_; }); }

 private:
  IoStatus run(const std::function<void(Runtime&)>& op) {
    const int before = *p_.call([this] { return completed_; });
    p_.call([&] {
      in_call_ = true;
      op(p_.runtime());
      in_call_ = false;
      return 0;
    });
    EXPECT_TRUE(p_.wait_until([&] { return completed_ == before + 1; }));
    return *p_.call([this] { return status_; });
  }
  void done(IoStatus s) {
    ran_inline_ = ran_inline_ || in_call_;
    status_ = s;
    ++completed_;
  }

  TestProcess& p_;
  // Touched on the node's thread only.
  bool in_call_ = false;
  bool ran_inline_ = false;
  int completed_ = 0;
  IoStatus status_ = IoStatus::ok;
  std::string bytes_;
  std::vector<std::string> names_;
};

TEST(AsioRuntimeTest, FilesBehaveLikeTheSimulatedDisk) {
  TempDir dir;
  TestProcess a(config({{"a", 0}}, 0, dir), open_listener(), recorder_factory());
  DiskDriver disk(a);
  using Read = std::pair<IoStatus, std::string>;

  EXPECT_EQ(disk.read("missing", 0, 100), (Read{IoStatus::ok, ""}));
  EXPECT_EQ(disk.fsync("missing"), IoStatus::ok);
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/node0/missing"));

  EXPECT_EQ(disk.write("f", 0, "hello"), IoStatus::ok);
  EXPECT_EQ(disk.write("f", 8, "XY"), IoStatus::ok);  // Leaves a hole of zeros.
  EXPECT_EQ(disk.read("f", 0, 1ull << 30), (Read{IoStatus::ok, std::string("hello\0\0\0XY", 10)}));
  EXPECT_EQ(disk.read("f", 3, 4), (Read{IoStatus::ok, std::string("lo\0\0", 4)}));
  EXPECT_EQ(disk.read("f", 100, 10), (Read{IoStatus::ok, ""}));
  EXPECT_EQ(disk.fsync("f"), IoStatus::ok);
  EXPECT_EQ(disk.truncate("f", 3), IoStatus::ok);
  EXPECT_EQ(disk.read("f", 0, 100), (Read{IoStatus::ok, "hel"}));
  EXPECT_EQ(disk.truncate("g", 4), IoStatus::ok);  // Truncate creates, like a write.
  EXPECT_EQ(disk.read("g", 0, 100), (Read{IoStatus::ok, std::string(4, '\0')}));
  EXPECT_EQ(std::filesystem::file_size(dir.path() + "/node0/f"), 3u);
  EXPECT_EQ(disk.list(), (std::vector<std::string>{"f", "g"}));
  EXPECT_EQ(disk.remove("g"), IoStatus::ok);
  EXPECT_EQ(disk.remove("g"), IoStatus::ok);  // Already gone: no error.
  EXPECT_EQ(disk.list(), std::vector<std::string>{"f"});
  EXPECT_EQ(disk.read("g", 0, 100), (Read{IoStatus::ok, ""}));
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/node0/g"));
  EXPECT_FALSE(disk.ran_inline());
}

// /dev/full fails every write with ENOSPC: the one errno that must read as disk_full.
TEST(AsioRuntimeTest, NoSpaceIsDiskFull) {
  AsioRuntimeConfig c{{{"a", 0}}, 0, "/dev", 1};
  TestProcess a(std::move(c), open_listener(), recorder_factory());
  DiskDriver disk(a);
  EXPECT_EQ(disk.write("full", 0, "x"), IoStatus::disk_full);
}

}  // namespace
}  // namespace streamlab
