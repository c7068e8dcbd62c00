#pragma once

// The simulated network. Fault model, stated as TigerBeetle states its devices':
// - Each ordered pair of nodes has one connection. Messages on it arrive in send order,
//   each after: egress serialization on the sender's NIC (a FIFO, bytes / bandwidth), the
//   base latency of the zone pair plus jitter plus any clog or spike, ingress contention on
//   the receiver's NIC (cut-through: an idle receiver adds no extra serialization), and the
//   receiver's CPU service time on the earliest free core.
// - A message that meets a partition (at send or at arrival) is dropped and breaks its
//   connection: every later message already in flight on it is dropped too, and the
//   sender learns of the break `break_detection_ns` later. Sends before then are dropped
//   as well (TCP's rule: nothing after a loss arrives on the same connection); the first
//   send after the sender was told reconnects.
// - A connection reset breaks both directions and tells both ends. A crash breaks every
//   connection of the crashed node; its peers learn of it.
// - Partitions may be symmetric or one-way, between any sets of nodes. Clogs add delay to
//   pairs; a latency spike adds delay to all of one node's traffic; a bandwidth cut scales
//   one node's NIC. heal_all() lifts every network fault at once.
// Nothing is ever duplicated or reordered within a connection; duplication and reordering
// appear only across reconnects, where a protocol would see them.

#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "sim/cpu.h"
#include "sim/kernel.h"
#include "sim/rng.h"
#include "sim/topology.h"
#include "sim/trace.h"

namespace streamlab::sim {

// Where the network hands its deliveries; the World implements it.
class NetworkHost {
 public:
  virtual ~NetworkHost() = default;
  virtual void deliver(std::uint32_t from, std::uint32_t to,
                       std::span<const std::uint8_t> bytes) = 0;
  virtual void connection_broken(std::uint32_t node, std::uint32_t peer) = 0;
};

struct NetworkStats {
  std::uint64_t messages_sent = 0;
  std::uint64_t messages_delivered = 0;
  std::uint64_t messages_dropped = 0;
  std::uint64_t bytes_sent = 0;
};

// Time each node's NIC spent serializing, since the start, including transfers booked to
// finish later: utilisation is its growth over a window divided by the window.
struct NicBusy {
  std::int64_t out_ns = 0;
  std::int64_t in_ns = 0;
};

using FaultHandle = std::uint32_t;

class Network {
 public:
  // Receiving charges the receiver's CPU in `cpus` (one per node) for Work::receive.
  Network(Kernel& kernel, const Topology& topology, Rng rng, NetworkHost& host,
          std::vector<SimCpu>& cpus);

  // The message leaves `from` once its NIC is free, but no sooner than `ready_ns` (>= now:
  // when the sender's CPU has finished preparing it).
  void send(std::uint32_t from, std::uint32_t to, std::span<const std::uint8_t> bytes,
            std::int64_t ready_ns);

  // Blocks traffic from every node of `from` to every node of `to`, and back unless
  // one_way.
  FaultHandle partition(const std::vector<std::uint32_t>& from,
                        const std::vector<std::uint32_t>& to, bool one_way);
  FaultHandle clog(const std::vector<std::uint32_t>& from, const std::vector<std::uint32_t>& to,
                   std::int64_t extra_ns);
  void remove(FaultHandle handle);
  void set_latency_spike(std::uint32_t node, std::int64_t extra_ns);
  void set_bandwidth_percent(std::uint32_t node, std::uint32_t percent);
  void reset_connection(std::uint32_t a, std::uint32_t b);
  // A crashed node refuses connections until it is up again: senders learn of it as of
  // any other broken connection.
  void node_crashed(std::uint32_t node);
  void node_up(std::uint32_t node) { down_[node] = false; }
  void heal_all();

  bool blocked(std::uint32_t from, std::uint32_t to) const { return blocked_[pair(from, to)] > 0; }
  // Base latency of the pair plus clogs and spikes, without jitter.
  std::int64_t base_latency_ns(std::uint32_t from, std::uint32_t to) const;
  const NetworkStats& stats() const { return stats_; }
  // Sends, deliveries, drops and break notices go to `sink` (null: nowhere).
  void set_trace_sink(TraceSink* sink) { sink_ = sink; }
  // Bytes sent by each node since the start, for the GUI's link intensities.
  std::uint64_t bytes_sent_by(std::uint32_t node) const { return bytes_sent_by_[node]; }
  const NicBusy& nic_busy(std::uint32_t node) const { return nic_busy_[node]; }

 private:
  struct Channel {
    std::int64_t last_delivery_ns = 0;
    std::uint32_t epoch = 0;
    bool connected = false;  // Only an open connection can break; idle pairs learn nothing.
    bool notify_pending = false;
  };
  struct PairFault {
    std::vector<std::uint32_t> from;
    std::vector<std::uint32_t> to;
    bool symmetric = false;
    bool is_clog = false;
    std::int64_t extra_ns = 0;
  };

  std::size_t pair(std::uint32_t from, std::uint32_t to) const { return from * node_count_ + to; }
  void apply(const PairFault& fault, int sign);
  void apply_to_pair(const PairFault& fault, std::size_t p, int sign);
  void break_channel(std::uint32_t from, std::uint32_t to, bool notify_sender);
  std::int64_t jitter_ns(std::int64_t base_ns);
  std::int64_t serialization_ns(std::uint32_t node, std::uint64_t bytes) const;
  void arrive(std::uint32_t from, std::uint32_t to, std::uint32_t epoch, std::uint32_t buffer,
              std::int64_t sent_ns);
  void trace_drop(std::uint32_t from, std::uint32_t to, std::span<const std::uint8_t> bytes,
                  std::string_view why);
  std::uint32_t acquire_buffer(std::span<const std::uint8_t> bytes);

  Kernel& kernel_;
  const Topology& topology_;
  Rng rng_;
  NetworkHost& host_;
  std::uint32_t node_count_;
  std::vector<Channel> channels_;
  std::vector<std::uint16_t> blocked_;
  std::vector<std::int64_t> clog_ns_;
  std::vector<std::int64_t> spike_ns_;
  std::vector<std::uint32_t> bandwidth_percent_;
  std::vector<std::int64_t> nic_out_free_ns_;
  std::vector<std::int64_t> nic_in_free_ns_;
  std::vector<SimCpu>& cpus_;
  std::vector<NicBusy> nic_busy_;
  std::vector<std::uint64_t> bytes_sent_by_;
  std::vector<bool> down_;
  std::map<FaultHandle, PairFault> faults_;
  TraceSink* sink_ = nullptr;
  FaultHandle next_handle_ = 1;
  std::vector<std::vector<std::uint8_t>> buffers_;
  std::vector<std::uint32_t> free_buffers_;
  NetworkStats stats_;
};

}  // namespace streamlab::sim
