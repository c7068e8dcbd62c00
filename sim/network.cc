#include "sim/network.h"

#include <algorithm>
#include <cmath>

#include "base/assert.h"

namespace streamlab::sim {

Network::Network(Kernel& kernel, const Topology& topology, Rng rng, NetworkHost& host,
                 std::vector<SimCpu>& cpus)
    : kernel_(kernel),
      topology_(topology),
      rng_(rng),
      host_(host),
      node_count_(static_cast<std::uint32_t>(topology.nodes.size())),
      cpus_(cpus) {
  SL_ASSERT_EQ(cpus.size(), node_count_);
  const std::size_t pairs = static_cast<std::size_t>(node_count_) * node_count_;
  channels_.resize(pairs);
  blocked_.assign(pairs, 0);
  clog_ns_.assign(pairs, 0);
  spike_ns_.assign(node_count_, 0);
  bandwidth_percent_.assign(node_count_, 100);
  nic_out_free_ns_.assign(node_count_, 0);
  nic_in_free_ns_.assign(node_count_, 0);
  bytes_sent_by_.assign(node_count_, 0);
  down_.assign(node_count_, false);
  nic_busy_.assign(node_count_, NicBusy{});
}

std::int64_t Network::base_latency_ns(std::uint32_t from, std::uint32_t to) const {
  const NodeSpec& a = topology_.nodes[from];
  const NodeSpec& b = topology_.nodes[to];
  std::int64_t base = 0;
  if (from != to) {
    const LatencyProfile& lat = topology_.latency;
    if (a.zone == b.zone) {
      base = lat.within_zone_ns;
    } else if (topology_.zones[a.zone].region == topology_.zones[b.zone].region) {
      base = lat.across_zones_ns;
    } else {
      base = lat.across_regions_ns;
    }
  }
  return base + clog_ns_[pair(from, to)] + spike_ns_[from] + spike_ns_[to];
}

std::int64_t Network::jitter_ns(std::int64_t base_ns) {
  const Jitter& j = topology_.latency.jitter;
  switch (j.kind) {
    case Jitter::Kind::none:
      return 0;
    case Jitter::Kind::lognormal:
      return std::llround(static_cast<double>(base_ns) * (rng_.lognormal(0, j.sigma) - 1.0));
    case Jitter::Kind::exponential:
      return std::llround(rng_.exponential(static_cast<double>(j.mean_ns)));
    case Jitter::Kind::uniform:
      return rng_.uniform_i64(j.low_ns, j.high_ns);
  }
  return 0;
}

std::int64_t Network::serialization_ns(std::uint32_t node, std::uint64_t bytes) const {
  const std::int64_t bandwidth =
      topology_.nodes[node].hardware.nic_bytes_per_s * bandwidth_percent_[node] / 100;
  SL_ASSERT_GT(bandwidth, 0);
  const auto ns = (static_cast<unsigned __int128>(bytes) * 1'000'000'000 + bandwidth - 1) /
                  static_cast<unsigned __int128>(bandwidth);
  return static_cast<std::int64_t>(ns);
}

std::uint32_t Network::acquire_buffer(std::span<const std::uint8_t> bytes) {
  std::uint32_t index;
  if (!free_buffers_.empty()) {
    index = free_buffers_.back();
    free_buffers_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(buffers_.size());
    buffers_.emplace_back();
  }
  buffers_[index].assign(bytes.begin(), bytes.end());
  return index;
}

void Network::send(std::uint32_t from, std::uint32_t to, std::span<const std::uint8_t> bytes,
                   std::int64_t ready_ns) {
  SL_ASSERT_LT(from, node_count_);
  SL_ASSERT_LT(to, node_count_);
  SL_ASSERT_GE(ready_ns, kernel_.now());
  ++stats_.messages_sent;
  stats_.bytes_sent += bytes.size();
  bytes_sent_by_[from] += bytes.size();
  Channel& channel = channels_[pair(from, to)];
  // As with TCP, a broken connection carries nothing more: a send before the sender has
  // heard of the break is lost too, so a message lost mid-stream is never followed by a
  // later one the receiver takes as the same ordered stream.
  if (sink_ != nullptr) {
    sink_->record(TraceEvent(kernel_.now(), from, TraceKind::send)
                      .with_peer(to)
                      .with_bytes(bytes.size())
                      .with_payload(bytes));
  }
  if (channel.notify_pending) {
    ++stats_.messages_dropped;
    trace_drop(from, to, bytes, "connection broken, sender not told yet");
    return;
  }
  channel.connected = true;
  if (blocked(from, to) || down_[to]) {
    ++stats_.messages_dropped;
    trace_drop(from, to, bytes, down_[to] ? "peer down" : "partitioned");
    break_channel(from, to, /*notify_sender=*/true);
    return;
  }
  const std::int64_t now = kernel_.now();
  const std::int64_t egress_start = std::max(ready_ns, nic_out_free_ns_[from]);
  const std::int64_t egress_ns = serialization_ns(from, bytes.size());
  const std::int64_t egress_done = egress_start + egress_ns;
  nic_out_free_ns_[from] = egress_done;
  nic_busy_[from].out_ns += egress_ns;
  const std::int64_t base = base_latency_ns(from, to);
  const std::int64_t flight = std::max<std::int64_t>(0, base + jitter_ns(base));
  const std::int64_t arrival = egress_done + flight;
  const std::int64_t ingress_ns = serialization_ns(to, bytes.size());
  const std::int64_t ingress_done = std::max(arrival, nic_in_free_ns_[to] + ingress_ns);
  nic_in_free_ns_[to] = ingress_done;
  nic_busy_[to].in_ns += ingress_ns;
  SimCpu& cpu = cpus_[to];
  const std::int64_t parsed = cpu.run(ingress_done, cpu.cost_ns(Work::receive, bytes.size()));
  const std::int64_t ready = std::max(parsed, channel.last_delivery_ns);
  channel.last_delivery_ns = ready;
  const std::uint32_t epoch = channel.epoch;
  const std::uint32_t buffer = acquire_buffer(bytes);
  kernel_.schedule_at(ready, to, EventKind::message, [this, from, to, epoch, buffer, now] {
    arrive(from, to, epoch, buffer, now);
  });
}

void Network::arrive(std::uint32_t from, std::uint32_t to, std::uint32_t epoch,
                     std::uint32_t buffer, std::int64_t sent_ns) {
  if (channels_[pair(from, to)].epoch != epoch) {
    ++stats_.messages_dropped;
    trace_drop(from, to, buffers_[buffer], "connection broke in flight");
  } else if (blocked(from, to)) {
    ++stats_.messages_dropped;
    trace_drop(from, to, buffers_[buffer], "partitioned in flight");
    break_channel(from, to, /*notify_sender=*/true);
  } else {
    ++stats_.messages_delivered;
    if (sink_ != nullptr) {
      sink_->record(TraceEvent(kernel_.now(), to, TraceKind::deliver)
                        .with_peer(from)
                        .since(sent_ns)
                        .with_bytes(buffers_[buffer].size())
                        .with_payload(buffers_[buffer]));
    }
    host_.deliver(from, to, buffers_[buffer]);
  }
  free_buffers_.push_back(buffer);
}

void Network::trace_drop(std::uint32_t from, std::uint32_t to,
                         std::span<const std::uint8_t> bytes, std::string_view why) {
  if (sink_ == nullptr) return;
  sink_->record(TraceEvent(kernel_.now(), from, TraceKind::drop)
                    .with_peer(to)
                    .with_bytes(bytes.size())
                    .with_detail(why)
                    .with_payload(bytes));
}

void Network::break_channel(std::uint32_t from, std::uint32_t to, bool notify_sender) {
  Channel& channel = channels_[pair(from, to)];
  ++channel.epoch;
  const bool was_connected = channel.connected;
  channel.connected = false;
  if (!notify_sender || !was_connected || channel.notify_pending) return;
  channel.notify_pending = true;
  kernel_.schedule_after(topology_.break_detection_ns, from, EventKind::connection_broken,
                         [this, from, to] {
                           channels_[pair(from, to)].notify_pending = false;
                           if (sink_ != nullptr) {
                             sink_->record(
                                 TraceEvent(kernel_.now(), from, TraceKind::broken).with_peer(to));
                           }
                           host_.connection_broken(from, to);
                         });
}

void Network::apply_to_pair(const PairFault& fault, std::size_t p, int sign) {
  if (fault.is_clog) {
    clog_ns_[p] += sign * fault.extra_ns;
  } else {
    SL_ASSERT(sign > 0 || blocked_[p] > 0);
    blocked_[p] = static_cast<std::uint16_t>(blocked_[p] + sign);
  }
}

void Network::apply(const PairFault& fault, int sign) {
  for (const std::uint32_t a : fault.from) {
    for (const std::uint32_t b : fault.to) {
      if (a == b) continue;
      apply_to_pair(fault, pair(a, b), sign);
      if (fault.symmetric) apply_to_pair(fault, pair(b, a), sign);
    }
  }
}

FaultHandle Network::partition(const std::vector<std::uint32_t>& from,
                               const std::vector<std::uint32_t>& to, bool one_way) {
  const FaultHandle handle = next_handle_++;
  PairFault& fault = faults_[handle];
  fault = PairFault{from, to, !one_way, false, 0};
  apply(fault, +1);
  return handle;
}

FaultHandle Network::clog(const std::vector<std::uint32_t>& from,
                          const std::vector<std::uint32_t>& to, std::int64_t extra_ns) {
  SL_ASSERT_GE(extra_ns, 0);
  const FaultHandle handle = next_handle_++;
  PairFault& fault = faults_[handle];
  fault = PairFault{from, to, true, true, extra_ns};
  apply(fault, +1);
  return handle;
}

void Network::remove(FaultHandle handle) {
  const auto it = faults_.find(handle);
  if (it == faults_.end()) return;  // Already lifted by heal_all().
  apply(it->second, -1);
  faults_.erase(it);
}

void Network::set_latency_spike(std::uint32_t node, std::int64_t extra_ns) {
  SL_ASSERT_GE(extra_ns, 0);
  spike_ns_[node] = extra_ns;
}

void Network::set_bandwidth_percent(std::uint32_t node, std::uint32_t percent) {
  SL_ASSERT(percent > 0 && percent <= 100);
  bandwidth_percent_[node] = percent;
}

void Network::reset_connection(std::uint32_t a, std::uint32_t b) {
  break_channel(a, b, /*notify_sender=*/true);
  break_channel(b, a, /*notify_sender=*/true);
}

void Network::node_crashed(std::uint32_t node) {
  down_[node] = true;
  for (std::uint32_t peer = 0; peer < node_count_; ++peer) {
    if (peer == node) continue;
    Channel& out = channels_[pair(node, peer)];
    // Deliveries planned for dropped messages must not hold back the next incarnation's.
    out.last_delivery_ns = 0;
    channels_[pair(peer, node)].last_delivery_ns = 0;
    ++out.epoch;
    out.connected = false;
    out.notify_pending = false;  // Its notification died with the crashed incarnation.
    break_channel(peer, node, /*notify_sender=*/true);
  }
  nic_out_free_ns_[node] = kernel_.now();
  nic_in_free_ns_[node] = kernel_.now();
  cpus_[node].reset(kernel_.now());
}

void Network::heal_all() {
  while (!faults_.empty()) remove(faults_.begin()->first);
  std::fill(spike_ns_.begin(), spike_ns_.end(), 0);
  std::fill(bandwidth_percent_.begin(), bandwidth_percent_.end(), 100);
}

}  // namespace streamlab::sim
