#include "workloads/clients/counter_client.h"

#include <cmath>

#include "base/assert.h"
#include "base/draw.h"

namespace streamlab::workloads {

CounterClient::CounterClient(Runtime& runtime, CounterClientConfig config, History& history)
    : rt_(runtime),
      config_(std::move(config)),
      history_(history),
      server_(runtime.node_id(config_.server)),
      next_request_id_(runtime.random() & 0xffffffff00000000ULL) {
  SL_ASSERT_MSG(server_ != kNoNode, "counter client: unknown server");
  SL_ASSERT_GT(config_.rate_per_s, 0);
  SL_ASSERT_GT(config_.max_in_flight, 0);
}

// In-flight adds of a crashed client stay as bare invokes in the history: their outcome
// is unknown, which is exactly what the checker must assume.
CounterClient::~CounterClient() = default;

void CounterClient::on_start() {
  started_at_ns_ = rt_.now();
  rt_.after(config_.start_ns, [this] { send_one(); });
}

std::int64_t CounterClient::gap_ns() {
  const double mean = 1e9 / config_.rate_per_s;
  if (!config_.poisson) return std::max<std::int64_t>(1, std::llround(mean));
  return std::max<std::int64_t>(1, std::llround(exponential_from_bits(rt_.random(), mean)));
}

void CounterClient::schedule_next() {
  rt_.after(gap_ns(), [this] { send_one(); });
}

void CounterClient::send_one() {
  if (rt_.now() - started_at_ns_ >= config_.stop_ns) return;
  if (config_.max_adds != 0 && sent_ >= config_.max_adds) return;
  schedule_next();
  if (in_flight_.size() >= config_.max_in_flight) return;  // Open loop: this add is skipped.
  const std::uint64_t id = next_request_id_++;
  ++sent_;
  history_.record(Op{0, rt_.self(), OpType::invoke, id, config_.amount, 0, {}});
  message_.Clear();
  demo::Add* add = message_.mutable_add();
  add->set_request_id(id);
  add->set_amount(config_.amount);
  send_buffer_.resize(message_.ByteSizeLong());
  const bool serialized =
      message_.SerializeToArray(send_buffer_.data(), static_cast<int>(send_buffer_.size()));
  SL_ASSERT(serialized);
  const TimerId timeout = rt_.after(config_.timeout_ns, [this, id] { timed_out(id); });
  in_flight_.emplace(id, InFlight{timeout});
  rt_.send(server_, send_buffer_);
}

void CounterClient::on_message(NodeId from, std::span<const std::uint8_t> bytes) {
  if (from != server_) return;
  if (!message_.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
      !message_.has_reply()) {
    return;
  }
  const demo::AddReply& reply = message_.reply();
  const auto it = in_flight_.find(reply.request_id());
  if (it == in_flight_.end()) return;  // Already timed out and recorded as info.
  rt_.cancel(it->second.timeout);
  in_flight_.erase(it);
  // A rejected add ("overloaded", a disk error) was never applied: a definite fail.
  history_.record(Op{0, rt_.self(), reply.ok() ? OpType::ok : OpType::fail,
                     reply.request_id(), config_.amount, reply.value(), reply.error()});
}

void CounterClient::timed_out(std::uint64_t request_id) {
  const auto it = in_flight_.find(request_id);
  SL_ASSERT_NE(it, in_flight_.end());
  in_flight_.erase(it);
  history_.record(Op{0, rt_.self(), OpType::info, request_id, config_.amount, 0, "timeout"});
}

void CounterClient::on_connection_broken(NodeId peer) {
  if (peer != server_) return;
  for (const auto& [id, flight] : in_flight_) {
    rt_.cancel(flight.timeout);
    history_.record(Op{0, rt_.self(), OpType::info, id, config_.amount, 0, "connection broken"});
  }
  in_flight_.clear();
}

}  // namespace streamlab::workloads
