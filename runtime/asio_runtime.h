#pragma once

// The real Runtime (DESIGN.md section 7): TCP on 127.0.0.1 through Boost.Asio, real files
// with pwrite/fsync, std::chrono::steady_clock. Node code cannot tell it from SimRuntime;
// the contract both honour is written at the top of runtime/runtime.h.
//
// Connections, as in the simulator, are one per ordered pair of nodes: a node sends over
// the TCP connection it opened to the peer and receives on the connections peers opened to
// it. An outgoing connection is opened on the first send after start or after the node
// was told of a break (sends in between are dropped, runtime.h); it begins with a hello
// carrying the sender's NodeId, then carries frames (u32 little-endian length, then that
// many bytes; at most kAsioMaxFrameBytes).
// A connect error, write error, EOF or reset, or more than kAsioMaxQueuedBytes waiting to
// be written breaks the connection: its queue is dropped and the node gets
// on_connection_broken(peer) once; the next send after that reconnects. There is no connect retry:
// a peer that is not listening is a broken connection, which the node handles like any
// other. Incoming connections that misbehave (bad hello, oversized frame) are closed; the
// node never hears of an incoming close, because the sender learns of breaks, not the
// receiver.
//
// Threading: every callback into the Node runs on the io_context's thread, posted, never
// inside the Runtime call that scheduled it. The Runtime's methods are called from that
// thread only (by the node), except the constructor, attach() and start(). The io_context
// must outlive the runtime and must not run again once the runtime is destroyed: stop it
// and join its thread first.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "runtime/runtime.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace streamlab {

// Wire format, all little-endian. Hello: magic u32 | sender NodeId u32. Frame: length u32 |
// that many bytes.
inline constexpr std::uint32_t kAsioHelloMagic = 0x314b4c53;  // "SLK1"
inline constexpr std::uint32_t kAsioMaxFrameBytes = 16u << 20;
// Bytes queued on one outgoing connection beyond which it counts as broken.
inline constexpr std::uint64_t kAsioMaxQueuedBytes = 64ull << 20;

struct AsioPeer {
  std::string name;
  std::uint16_t port = 0;  // On 127.0.0.1.
};

// A socket bound to 127.0.0.1 and listening, opened before the runtimes so that every
// node's port is known when the peer table is built (port 0 lets the kernel pick a free
// one, with no window in which another process could take it).
class LoopbackListener {
 public:
  static Result<LoopbackListener> open(std::uint16_t port);

  LoopbackListener(LoopbackListener&& other) noexcept;
  LoopbackListener& operator=(LoopbackListener&& other) noexcept;
  LoopbackListener(const LoopbackListener&) = delete;
  LoopbackListener& operator=(const LoopbackListener&) = delete;
  ~LoopbackListener();

  std::uint16_t port() const { return port_; }
  // Hands the socket over; the listener no longer owns it.
  int release();

 private:
  LoopbackListener(int fd, std::uint16_t port) : fd_(fd), port_(port) {}
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

struct AsioRuntimeConfig {
  std::vector<AsioPeer> peers;  // NodeId = index.
  NodeId self = kNoNode;
  std::string data_dir;  // Created if missing; the node's files live directly inside it.
  std::uint64_t seed = 0;
};

class AsioRuntime final : public Runtime {
 public:
  // Without a listener, start() binds peers[self].port itself.
  AsioRuntime(boost::asio::io_context& io, AsioRuntimeConfig config);
  AsioRuntime(boost::asio::io_context& io, AsioRuntimeConfig config, LoopbackListener listener);
  AsioRuntime(const AsioRuntime&) = delete;
  AsioRuntime& operator=(const AsioRuntime&) = delete;
  ~AsioRuntime() override;

  // The node is built with this Runtime&, so it is attached afterwards; the runtime does
  // not own it and it must outlive the runtime's use of it (destroy it after stopping the
  // io_context).
  void attach(Node& node);
  // Listens (binding the port now unless a listener was given) and posts on_start().
  Result<std::uint16_t> start();

  NodeId self() const override;
  std::string_view node_name(NodeId id) const override;
  NodeId node_id(std::string_view name) const override;
  std::size_t node_count() const override;

  Nanos now() const override;
  TimerId after(Nanos delay_ns, TimerCallback fn) override;
  void cancel(TimerId id) override;
  void send(NodeId to, std::span<const std::uint8_t> bytes) override;
  void disconnect(NodeId peer) override;
  void disk_write(std::string_view file, std::uint64_t offset,
                  std::span<const std::uint8_t> bytes, IoCallback done) override;
  void disk_fsync(std::string_view file, IoCallback done) override;
  void disk_read(std::string_view file, std::uint64_t offset, std::uint64_t length,
                 ReadCallback done) override;
  void disk_truncate(std::string_view file, std::uint64_t size_bytes, IoCallback done) override;
  void disk_remove(std::string_view file, IoCallback done) override;
  void disk_list(ListCallback done) override;
  std::uint64_t random() override;
  // Printed to stdout (a cluster node's log file): "[12.345678 s] broker-a: took topic t".
  void note(std::string_view what) override;
  void charge(Work, std::uint64_t) override {}

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace streamlab
