#pragma once

// Test fixtures for the real runtime: a node "process" (its own io_context, thread,
// AsioRuntime and actor, all in this test process), a temporary directory, and a Node
// that records what happens to it. Everything a node owns is touched only on its own
// thread; the test reaches it through call(), which runs a function there and waits.

#include <stdlib.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "base/assert.h"
#include "runtime/asio_runtime.h"

namespace streamlab::test_util {

using NodeFactory = std::function<std::unique_ptr<Node>(Runtime&)>;

class TempDir {
 public:
  TempDir() {
    std::string pattern = "/tmp/streamlab-test-XXXXXX";
    SL_ASSERT_MSG(::mkdtemp(pattern.data()) != nullptr, "mkdtemp failed");
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class TestProcess {
 public:
  // With a listener the node listens on it; without, start() binds the port of its entry
  // in the peer table.
  TestProcess(AsioRuntimeConfig config, std::optional<LoopbackListener> listener,
              const NodeFactory& factory) {
    runtime_ = listener ? std::make_unique<AsioRuntime>(io_, std::move(config),
                                                        std::move(*listener))
                        : std::make_unique<AsioRuntime>(io_, std::move(config));
    node_ = factory(*runtime_);
    runtime_->attach(*node_);
    Result<std::uint16_t> port = runtime_->start();
    SL_ASSERT_MSG(port.ok(), "the test node could not listen");
    port_ = port.value();
    // Pending accepts keep run() busy, and stop() ends it.
    thread_ = std::thread([this] { io_.run(); });
  }
  TestProcess(const TestProcess&) = delete;
  TestProcess& operator=(const TestProcess&) = delete;

  // Like a process exit: the thread stops, then the actor and its runtime (closing its
  // sockets) go; the io_context goes last and drops what never ran.
  ~TestProcess() {
    stop();
    node_.reset();
    runtime_.reset();
  }

  void stop() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  // Runs f on the node's thread; nullopt if the thread did not get to it in time.
  template <typename F>
  auto call(F f, std::chrono::milliseconds timeout = std::chrono::seconds(5))
      -> std::optional<std::invoke_result_t<F&>> {
    using R = std::invoke_result_t<F&>;
    auto promise = std::make_shared<std::promise<R>>();
    std::future<R> future = promise->get_future();
    boost::asio::post(io_, [promise, f = std::move(f)]() mutable { promise->set_value(f()); });
    if (future.wait_for(timeout) != std::future_status::ready) return std::nullopt;
    return future.get();
  }

  // Polls `done` on the node's thread every few milliseconds until it holds or the
  // timeout passes; returns whether it held.
  bool wait_until(const std::function<bool()>& done,
                  std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const std::optional<bool> held = call([done] { return done(); });
      if (held.value_or(false)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

  AsioRuntime& runtime() { return *runtime_; }
  Node& node() { return *node_; }
  std::uint16_t port() const { return port_; }

 private:
  boost::asio::io_context io_;
  std::unique_ptr<AsioRuntime> runtime_;
  std::unique_ptr<Node> node_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

// Records messages and breaks; read it only through TestProcess::call.
class RecorderNode final : public Node {
 public:
  struct Message {
    NodeId from;
    std::string text;
  };

  explicit RecorderNode(Runtime& runtime) : rt_(runtime) {}
  void on_start() override { started = true; }
  void on_message(NodeId from, std::span<const std::uint8_t> bytes) override {
    messages.push_back(Message{from, std::string(bytes.begin(), bytes.end())});
  }
  void on_connection_broken(NodeId peer) override { broken.push_back(peer); }

  void send(NodeId to, std::string_view text) {
    rt_.send(to, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
  }

  Runtime& rt_;
  bool started = false;
  std::vector<Message> messages;
  std::vector<NodeId> broken;
};

inline NodeFactory recorder_factory() {
  return [](Runtime& rt) { return std::make_unique<RecorderNode>(rt); };
}

inline LoopbackListener open_listener() {
  Result<LoopbackListener> listener = LoopbackListener::open(0);
  SL_ASSERT_MSG(listener.ok(), "cannot listen on 127.0.0.1");
  return std::move(listener.value());
}

}  // namespace streamlab::test_util
