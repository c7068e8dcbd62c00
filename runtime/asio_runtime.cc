#include "runtime/asio_runtime.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <system_error>

#include "base/assert.h"
#include "runtime/asio_files.h"

namespace streamlab {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// Wire format (asio_runtime.h); little-endian, so a capture reads the same on any host.
constexpr std::size_t kHelloBytes = 8;
constexpr std::size_t kFrameHeaderBytes = 4;

// Bounds (STYLE.md rule 6).
// Accepted connections open at once; each holds at most one frame's buffer.
constexpr std::size_t kMaxIncoming = 256;
constexpr std::size_t kMaxTimers = 1u << 20;  // Pending timers of one node.
constexpr std::size_t kMaxGather = 64;        // Frames handed to one write call.
// After an accept error (out of descriptors, say) wait before accepting again, rather
// than spin on the same error.
constexpr auto kAcceptRetry = std::chrono::milliseconds(10);

void put_u32(std::uint8_t* out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

std::uint32_t get_u32(const std::uint8_t* in) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(in[i]) << (8 * i);
  return v;
}

std::string errno_message(const char* what) {
  return std::string(what) + ": " + std::system_category().message(errno);
}

// One connection this node opened to a peer. Handlers hold it by shared_ptr so that the
// socket and the bytes being written stay alive until the operation has finished, even
// once the connection is broken and replaced.
struct Outgoing {
  explicit Outgoing(asio::io_context& io) : socket(io) {}
  tcp::socket socket;
  bool connected = false;
  std::deque<std::vector<std::uint8_t>> queue;  // Framed; the first in_write are being written.
  std::size_t in_write = 0;
  std::uint64_t queued_bytes = 0;
  std::uint8_t probe = 0;  // Target of the read that notices the peer going away.
};

// One connection a peer opened to this node.
struct Incoming {
  explicit Incoming(tcp::socket s) : socket(std::move(s)) {}
  tcp::socket socket;
  NodeId from = kNoNode;
  std::array<std::uint8_t, kHelloBytes> header{};
  std::vector<std::uint8_t> body;
};

struct Timer {
  Timer(asio::io_context& io, TimerCallback f) : timer(io), fn(std::move(f)) {}
  asio::steady_timer timer;
  TimerCallback fn;
};

// splitmix64 (Steele, Lea & Flood): tiny, and good enough for a real node's jitter and
// ids; determinism, the reason the simulator has its own generator, does not apply here.
std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

// [SECTION] LoopbackListener

Result<LoopbackListener> LoopbackListener::open(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error{errno_message("socket")};
  // A restarted node rebinds its port while connections of its previous life linger in
  // TIME_WAIT.
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd, SOMAXCONN) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    Error error{errno_message("listen on 127.0.0.1")};
    ::close(fd);
    return error;
  }
  return LoopbackListener(fd, ntohs(addr.sin_port));
}

LoopbackListener::LoopbackListener(LoopbackListener&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), port_(other.port_) {}

LoopbackListener& LoopbackListener::operator=(LoopbackListener&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    port_ = other.port_;
  }
  return *this;
}

LoopbackListener::~LoopbackListener() {
  if (fd_ >= 0) ::close(fd_);
}

int LoopbackListener::release() { return std::exchange(fd_, -1); }

// [SECTION] Impl

class AsioRuntime::Impl {
 public:
  Impl(asio::io_context& io, AsioRuntimeConfig config, int listen_fd);
  ~Impl();

  void attach(Node& node) { node_ = &node; }
  Result<std::uint16_t> start();

  NodeId self() const { return config_.self; }
  std::string_view node_name(NodeId id) const;
  NodeId node_id(std::string_view name) const;
  std::size_t node_count() const { return config_.peers.size(); }
  Nanos now() const;
  TimerId after(Nanos delay_ns, TimerCallback fn);
  void cancel(TimerId id) { timers_.erase(id); }
  void send(NodeId to, std::span<const std::uint8_t> bytes);
  void disconnect(NodeId peer);
  AsioFiles& files() { return files_; }
  std::uint64_t random() { return splitmix64(rng_state_); }

  template <typename F>
  void post(F&& f) {
    asio::post(io_, std::forward<F>(f));
  }

 private:
  void fire(TimerId id);

  void accept_next();
  void accepted(error_code ec, tcp::socket socket);
  void read_hello(std::uint64_t id, std::shared_ptr<Incoming> in);
  void read_header(std::uint64_t id, std::shared_ptr<Incoming> in);
  void read_body(std::uint64_t id, std::shared_ptr<Incoming> in);
  void close_incoming(std::uint64_t id);

  void open_outgoing(NodeId to);
  void connected(NodeId to, const std::shared_ptr<Outgoing>& out, error_code ec);
  void watch_for_close(NodeId to, const std::shared_ptr<Outgoing>& out);
  void enqueue(NodeId to, std::vector<std::uint8_t> frame);
  void write_next(NodeId to);
  void wrote(NodeId to, const std::shared_ptr<Outgoing>& out, error_code ec);
  void break_outgoing(NodeId to);

  asio::io_context& io_;
  AsioRuntimeConfig config_;
  const std::chrono::steady_clock::time_point epoch_;
  Node* node_ = nullptr;
  bool started_ = false;
  int listen_fd_;  // Until start() hands it to the acceptor.
  tcp::acceptor acceptor_;
  asio::steady_timer accept_retry_;
  AsioFiles files_;
  std::uint64_t rng_state_;

  TimerId next_timer_id_ = 1;
  std::map<TimerId, std::unique_ptr<Timer>> timers_;
  // Indexed by peer; null while there is no connection (never opened, or broken).
  std::vector<std::shared_ptr<Outgoing>> outgoing_;
  // Broken, and the node not told yet: sends are dropped (runtime.h), as TCP carries
  // nothing after a loss on the connection that lost it.
  std::vector<bool> break_untold_;
  std::uint64_t next_incoming_id_ = 0;
  std::map<std::uint64_t, std::shared_ptr<Incoming>> incoming_;
};

AsioRuntime::Impl::Impl(asio::io_context& io, AsioRuntimeConfig config, int listen_fd)
    : io_(io),
      config_(std::move(config)),
      epoch_(std::chrono::steady_clock::now()),
      listen_fd_(listen_fd),
      acceptor_(io),
      accept_retry_(io),
      files_(config_.data_dir),
      // Nodes given the same seed still draw different streams.
      rng_state_(config_.seed ^ (0xd1b54a32d192ed03ULL * (std::uint64_t{config_.self} + 1))),
      outgoing_(config_.peers.size()),
      break_untold_(config_.peers.size(), false) {
  SL_ASSERT_MSG(config_.self < config_.peers.size(), "self is not in the peer table");
  for (std::size_t a = 0; a < config_.peers.size(); ++a) {
    for (std::size_t b = a + 1; b < config_.peers.size(); ++b) {
      SL_ASSERT_MSG(config_.peers[a].name != config_.peers[b].name, "duplicate node name");
    }
  }
}

AsioRuntime::Impl::~Impl() {
  // Closing cancels every pending operation; by the class contract the io_context no
  // longer runs, so the cancelled handlers are destroyed with it, never invoked.
  error_code ignored;
  acceptor_.close(ignored);
  for (auto& out : outgoing_) {
    if (out) out->socket.close(ignored);
  }
  for (auto& [id, in] : incoming_) in->socket.close(ignored);
  timers_.clear();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

Result<std::uint16_t> AsioRuntime::Impl::start() {
  SL_ASSERT_MSG(node_ != nullptr, "start() before attach()");
  SL_ASSERT_MSG(!started_, "start() twice");
  started_ = true;
  if (listen_fd_ < 0) {
    Result<LoopbackListener> listener = LoopbackListener::open(config_.peers[self()].port);
    if (!listener) return Error{listener.error()};
    listen_fd_ = listener.value().release();
  }
  error_code ec;
  acceptor_.assign(tcp::v4(), listen_fd_, ec);
  if (ec) return Error{"adopt listening socket: " + ec.message()};
  listen_fd_ = -1;
  const tcp::endpoint local = acceptor_.local_endpoint(ec);
  if (ec) return Error{"listening socket: " + ec.message()};
  // on_start runs before any message: accepting begins in the same handler, after it.
  post([this] {
    node_->on_start();
    accept_next();
  });
  return local.port();
}

std::string_view AsioRuntime::Impl::node_name(NodeId id) const {
  SL_ASSERT_LT(id, config_.peers.size());
  return config_.peers[id].name;
}

NodeId AsioRuntime::Impl::node_id(std::string_view name) const {
  for (std::size_t i = 0; i < config_.peers.size(); ++i) {
    if (config_.peers[i].name == name) return static_cast<NodeId>(i);
  }
  return kNoNode;
}

// [SECTION] Time and timers

Nanos AsioRuntime::Impl::now() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now() - epoch_)
      .count();
}

TimerId AsioRuntime::Impl::after(Nanos delay_ns, TimerCallback fn) {
  SL_ASSERT_MSG(delay_ns >= 0, "timer with a negative delay");
  SL_ASSERT_MSG(timers_.size() < kMaxTimers, "too many pending timers");
  const TimerId id = next_timer_id_++;
  auto timer = std::make_unique<Timer>(io_, std::move(fn));
  timer->timer.expires_after(std::chrono::nanoseconds(delay_ns));
  timer->timer.async_wait([this, id](error_code) { fire(id); });
  timers_.emplace(id, std::move(timer));
  return id;
}

// The map, not the wait's error code, decides: a timer cancelled after its wait completed
// but before this handler ran is already gone from the map and must not run.
void AsioRuntime::Impl::fire(TimerId id) {
  const auto it = timers_.find(id);
  if (it == timers_.end()) return;
  TimerCallback fn = std::move(it->second->fn);
  timers_.erase(it);
  fn();
}

// [SECTION] Incoming connections

void AsioRuntime::Impl::accept_next() {
  acceptor_.async_accept(
      [this](error_code ec, tcp::socket socket) { accepted(ec, std::move(socket)); });
}

void AsioRuntime::Impl::accepted(error_code ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted) return;
  if (ec) {
    accept_retry_.expires_after(kAcceptRetry);
    accept_retry_.async_wait([this](error_code e) {
      if (!e) accept_next();
    });
    return;
  }
  // Beyond the bound the new socket is closed as it goes out of scope; its sender sees a
  // broken connection and may try again.
  if (incoming_.size() < kMaxIncoming) {
    const std::uint64_t id = next_incoming_id_++;
    auto in = std::make_shared<Incoming>(std::move(socket));
    incoming_.emplace(id, in);
    read_hello(id, std::move(in));
  }
  accept_next();
}

void AsioRuntime::Impl::read_hello(std::uint64_t id, std::shared_ptr<Incoming> in) {
  Incoming& c = *in;
  asio::async_read(c.socket, asio::buffer(c.header.data(), kHelloBytes),
                   [this, id, in = std::move(in)](error_code ec, std::size_t) mutable {
                     if (ec) return close_incoming(id);
                     const NodeId from = get_u32(in->header.data() + 4);
                     if (get_u32(in->header.data()) != kAsioHelloMagic || from >= node_count()) {
                       return close_incoming(id);
                     }
                     in->from = from;
                     read_header(id, std::move(in));
                   });
}

void AsioRuntime::Impl::read_header(std::uint64_t id, std::shared_ptr<Incoming> in) {
  Incoming& c = *in;
  asio::async_read(c.socket, asio::buffer(c.header.data(), kFrameHeaderBytes),
                   [this, id, in = std::move(in)](error_code ec, std::size_t) mutable {
                     if (ec) return close_incoming(id);
                     const std::uint32_t length = get_u32(in->header.data());
                     // A length beyond the bound means a corrupt or hostile stream, and a
                     // byte stream cannot be resynchronised: drop the connection.
                     if (length > kAsioMaxFrameBytes) return close_incoming(id);
                     in->body.resize(length);
                     read_body(id, std::move(in));
                   });
}

void AsioRuntime::Impl::read_body(std::uint64_t id, std::shared_ptr<Incoming> in) {
  Incoming& c = *in;
  asio::async_read(c.socket, asio::buffer(c.body),
                   [this, id, in = std::move(in)](error_code ec, std::size_t) mutable {
                     if (ec) return close_incoming(id);
                     node_->on_message(in->from, in->body);
                     read_header(id, std::move(in));
                   });
}

// The receiving node is not told: in the runtime contract the sender learns of breaks.
void AsioRuntime::Impl::close_incoming(std::uint64_t id) {
  const auto it = incoming_.find(id);
  if (it == incoming_.end()) return;
  error_code ignored;
  it->second->socket.close(ignored);
  incoming_.erase(it);
}

// [SECTION] Outgoing connections

void AsioRuntime::Impl::send(NodeId to, std::span<const std::uint8_t> bytes) {
  SL_ASSERT_MSG(to < node_count(), "send to an unknown node");
  SL_ASSERT_MSG(bytes.size() <= kAsioMaxFrameBytes, "message larger than a frame");
  if (break_untold_[to]) return;
  if (!outgoing_[to]) open_outgoing(to);
  std::vector<std::uint8_t> frame(kFrameHeaderBytes + bytes.size());
  put_u32(frame.data(), static_cast<std::uint32_t>(bytes.size()));
  if (!bytes.empty()) std::memcpy(frame.data() + kFrameHeaderBytes, bytes.data(), bytes.size());
  enqueue(to, std::move(frame));
}

// No retry on a failed connect: a peer that is not listening is a broken connection, and
// the node decides what to do about it, exactly as in the simulator.
void AsioRuntime::Impl::open_outgoing(NodeId to) {
  auto out = std::make_shared<Outgoing>(io_);
  outgoing_[to] = out;
  std::vector<std::uint8_t> hello(kHelloBytes);
  put_u32(hello.data(), kAsioHelloMagic);
  put_u32(hello.data() + 4, self());
  out->queued_bytes += hello.size();
  out->queue.push_back(std::move(hello));
  const tcp::endpoint peer(asio::ip::address_v4::loopback(), config_.peers[to].port);
  out->socket.async_connect(peer, [this, to, out](error_code ec) { connected(to, out, ec); });
}

void AsioRuntime::Impl::connected(NodeId to, const std::shared_ptr<Outgoing>& out,
                                  error_code ec) {
  if (outgoing_[to] != out) return;  // Broken (and maybe replaced) meanwhile.
  if (ec) return break_outgoing(to);
  out->connected = true;
  // Messages are small requests and replies; Nagle's algorithm would hold them back.
  error_code ignored;
  out->socket.set_option(tcp::no_delay(true), ignored);
  watch_for_close(to, out);
  write_next(to);
}

// The peer never writes on a connection we opened, so a read completes only when the
// peer closes or resets it (or misbehaves): all of them break the connection. Without this
// a node that only waits for replies would never learn that its peer died.
void AsioRuntime::Impl::watch_for_close(NodeId to, const std::shared_ptr<Outgoing>& out) {
  out->socket.async_read_some(asio::buffer(&out->probe, 1),
                              [this, to, out](error_code, std::size_t) {
                                if (outgoing_[to] == out) break_outgoing(to);
                              });
}

void AsioRuntime::Impl::enqueue(NodeId to, std::vector<std::uint8_t> frame) {
  Outgoing& out = *outgoing_[to];
  out.queued_bytes += frame.size();
  out.queue.push_back(std::move(frame));
  // A peer that stops reading must not make us buffer without bound: treat it as the
  // write timeout TCP would eventually report.
  if (out.queued_bytes > kAsioMaxQueuedBytes) return break_outgoing(to);
  if (out.connected && out.in_write == 0) write_next(to);
}

// One write at a time keeps frames in order; each write gathers what has queued up.
void AsioRuntime::Impl::write_next(NodeId to) {
  const std::shared_ptr<Outgoing>& out = outgoing_[to];
  SL_ASSERT(out->in_write == 0);
  if (out->queue.empty()) return;
  out->in_write = std::min(out->queue.size(), kMaxGather);
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(out->in_write);
  for (std::size_t i = 0; i < out->in_write; ++i) buffers.push_back(asio::buffer(out->queue[i]));
  asio::async_write(out->socket, buffers,
                    [this, to, out](error_code ec, std::size_t) { wrote(to, out, ec); });
}

void AsioRuntime::Impl::wrote(NodeId to, const std::shared_ptr<Outgoing>& out, error_code ec) {
  if (outgoing_[to] != out) return;
  if (ec) return break_outgoing(to);
  for (std::size_t i = 0; i < out->in_write; ++i) {
    out->queued_bytes -= out->queue.front().size();
    out->queue.pop_front();
  }
  out->in_write = 0;
  write_next(to);
}

// Drops the connection with everything still queued on it; the node hears of it once,
// posted, and its next send opens a new connection.
void AsioRuntime::Impl::break_outgoing(NodeId to) {
  const std::shared_ptr<Outgoing> out = std::move(outgoing_[to]);
  outgoing_[to] = nullptr;
  error_code ignored;
  out->socket.close(ignored);
  break_untold_[to] = true;
  post([this, to] {
    break_untold_[to] = false;
    node_->on_connection_broken(to);
  });
}

// Closing the peer's connections to us makes its sends fail (its probe read sees the
// close); closing ours tells this node.
void AsioRuntime::Impl::disconnect(NodeId peer) {
  SL_ASSERT_MSG(peer < node_count() && peer != self(), "disconnect from an unknown node");
  std::vector<std::uint64_t> from_peer;
  for (const auto& [id, in] : incoming_) {
    if (in->from == peer) from_peer.push_back(id);
  }
  for (const std::uint64_t id : from_peer) close_incoming(id);
  if (outgoing_[peer]) {
    break_outgoing(peer);
  } else {
    post([this, peer] { node_->on_connection_broken(peer); });
  }
}

// [SECTION] AsioRuntime

AsioRuntime::AsioRuntime(asio::io_context& io, AsioRuntimeConfig config)
    : impl_(std::make_unique<Impl>(io, std::move(config), -1)) {}

AsioRuntime::AsioRuntime(asio::io_context& io, AsioRuntimeConfig config,
                         LoopbackListener listener)
    : impl_(std::make_unique<Impl>(io, std::move(config), listener.release())) {}

AsioRuntime::~AsioRuntime() = default;

void AsioRuntime::attach(Node& node) { impl_->attach(node); }
Result<std::uint16_t> AsioRuntime::start() { return impl_->start(); }
NodeId AsioRuntime::self() const { return impl_->self(); }
std::string_view AsioRuntime::node_name(NodeId id) const { return impl_->node_name(id); }
NodeId AsioRuntime::node_id(std::string_view name) const { return impl_->node_id(name); }
std::size_t AsioRuntime::node_count() const { return impl_->node_count(); }
Nanos AsioRuntime::now() const { return impl_->now(); }
TimerId AsioRuntime::after(Nanos delay_ns, TimerCallback fn) {
  return impl_->after(delay_ns, std::move(fn));
}
void AsioRuntime::cancel(TimerId id) { impl_->cancel(id); }
void AsioRuntime::send(NodeId to, std::span<const std::uint8_t> bytes) { impl_->send(to, bytes); }
void AsioRuntime::disconnect(NodeId peer) { impl_->disconnect(peer); }
std::uint64_t AsioRuntime::random() { return impl_->random(); }

void AsioRuntime::note(std::string_view what) {
  std::printf("[%.6f s] %s: %.*s\n", static_cast<double>(now()) / 1e9,
              std::string(node_name(self())).c_str(), static_cast<int>(what.size()), what.data());
  std::fflush(stdout);
}

// Disk calls run synchronously on the node's thread (it is a single-threaded actor and
// would wait for them anyway); only the completion is deferred, as the contract requires.

void AsioRuntime::disk_write(std::string_view file, std::uint64_t offset,
                             std::span<const std::uint8_t> bytes, IoCallback done) {
  const IoStatus status = impl_->files().write(file, offset, bytes);
  impl_->post([done = std::move(done), status]() mutable { done(status); });
}

void AsioRuntime::disk_fsync(std::string_view file, IoCallback done) {
  const IoStatus status = impl_->files().fsync(file);
  impl_->post([done = std::move(done), status]() mutable { done(status); });
}

void AsioRuntime::disk_read(std::string_view file, std::uint64_t offset, std::uint64_t length,
                            ReadCallback done) {
  std::vector<std::uint8_t> bytes;
  const IoStatus status = impl_->files().read(file, offset, length, bytes);
  impl_->post([done = std::move(done), status, bytes = std::move(bytes)]() mutable {
    done(status, bytes);
  });
}

void AsioRuntime::disk_truncate(std::string_view file, std::uint64_t size_bytes,
                                IoCallback done) {
  const IoStatus status = impl_->files().truncate(file, size_bytes);
  impl_->post([done = std::move(done), status]() mutable { done(status); });
}

void AsioRuntime::disk_remove(std::string_view file, IoCallback done) {
  const IoStatus status = impl_->files().remove(file);
  impl_->post([done = std::move(done), status]() mutable { done(status); });
}

void AsioRuntime::disk_list(ListCallback done) {
  std::vector<std::string> names;
  const IoStatus status = impl_->files().list(names);
  impl_->post([done = std::move(done), status, names = std::move(names)]() mutable {
    done(status, names);
  });
}

}  // namespace streamlab
