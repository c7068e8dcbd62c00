#include "broker/demo/counter_server.h"

#include "base/assert.h"
#include "broker/demo/counter_log.h"

namespace streamlab::demo {

namespace {

// The whole log is read at start; the demo's logs stay far below this.
constexpr std::uint64_t kMaxLogBytes = 1ULL << 30;

}  // namespace

CounterServer::CounterServer(Runtime& runtime, CounterServerConfig config)
    : rt_(runtime), config_(config) {
  SL_ASSERT_GT(config.max_batch, 0);
  SL_ASSERT_GE(config.max_pending, config.max_batch);
}

void CounterServer::on_start() {
  rt_.disk_read(kCounterLogFile, 0, kMaxLogBytes,
                [this](IoStatus status, std::span<const std::uint8_t> bytes) {
                  recovered(status, bytes);
                });
}

void CounterServer::recovered(IoStatus status, std::span<const std::uint8_t> bytes) {
  SL_ASSERT_EQ(state_, State::recovering);
  if (status != IoStatus::ok) {
    // A latent read error: try again rather than serve from a log we could not read.
    rt_.after(10'000'000, [this] { on_start(); });
    return;
  }
  const ParsedLog log = parse_log(bytes);
  // Less than a record after the last intact one is a torn tail. Damage earlier is one
  // only if the next read finds it at the same place: a bit flipped on the way from the
  // device reads right the next time, and truncating there would throw away every
  // record after it (counter-swarm.safe seeds 7757 and 9359 lost thousands that way).
  const bool torn_tail = bytes.size() - log.valid_bytes < kCounterRecordBytes;
  if (!torn_tail && damage_seen_at_ != log.valid_bytes) {
    damage_seen_at_ = log.valid_bytes;
    rt_.after(10'000'000, [this] { on_start(); });
    return;
  }
  value_ = 0;
  for (const CounterRecord& r : log.records) value_ += r.amount;
  log_end_ = log.valid_bytes;
  auto serve = [this](IoStatus) {
    state_ = State::serving;
    flush();
  };
  if (log.valid_bytes < bytes.size()) {
    // Cut the torn tail so new records do not follow garbage.
    rt_.disk_truncate(kCounterLogFile, log.valid_bytes, serve);
  } else {
    serve(IoStatus::ok);
  }
}

void CounterServer::on_message(NodeId from, std::span<const std::uint8_t> bytes) {
  if (!message_.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
      !message_.has_add()) {
    return;  // Not for us: a malformed message must never crash the server.
  }
  const PendingAdd add{from, message_.add().request_id(), message_.add().amount()};
  if (pending_.size() >= config_.max_pending) {
    reply(add, false, "overloaded");
    return;
  }
  pending_.push_back(add);
  flush();
}

void CounterServer::flush() {
  if (state_ != State::serving || writing_ || pending_.empty()) return;
  const std::size_t count = std::min(pending_.size(), config_.max_batch);
  in_flight_.assign(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(count));
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(count));
  write_buffer_.clear();
  for (const PendingAdd& add : in_flight_) {
    append_record(CounterRecord{add.from, add.request_id, add.amount}, write_buffer_);
  }
  writing_ = true;
  rt_.disk_write(kCounterLogFile, log_end_, write_buffer_,
                 [this](IoStatus status) { written(status); });
}

void CounterServer::written(IoStatus status) {
  SL_ASSERT(writing_);
  if (status != IoStatus::ok) {
    durable(status);
    return;
  }
  log_end_ += write_buffer_.size();
  if (config_.fsync) {
    rt_.disk_fsync(kCounterLogFile, [this](IoStatus s) { durable(s); });
  } else {
    durable(IoStatus::ok);
  }
}

void CounterServer::durable(IoStatus status) {
  for (const PendingAdd& add : in_flight_) {
    if (status == IoStatus::ok) {
      value_ += add.amount;
      reply(add, true, "");
    } else {
      reply(add, false, to_string(status));
    }
  }
  in_flight_.clear();
  writing_ = false;
  flush();
}

void CounterServer::reply(const PendingAdd& add, bool ok, const char* error) {
  CounterMessage out;
  AddReply* r = out.mutable_reply();
  r->set_request_id(add.request_id);
  r->set_ok(ok);
  r->set_value(value_);
  if (!ok) r->set_error(error);
  send_buffer_.resize(out.ByteSizeLong());
  const bool serialized =
      out.SerializeToArray(send_buffer_.data(), static_cast<int>(send_buffer_.size()));
  SL_ASSERT(serialized);
  rt_.send(add.from, send_buffer_);
}

}  // namespace streamlab::demo
