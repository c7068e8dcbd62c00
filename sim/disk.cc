#include "sim/disk.h"

#include <algorithm>

#include "base/assert.h"

namespace streamlab::sim {

namespace {

constexpr std::uint64_t kBlockBytes = 4096;

std::vector<std::uint8_t>& file_of(
    std::map<std::string, std::vector<std::uint8_t>, std::less<>>& files, std::string_view name) {
  auto it = files.find(name);
  if (it == files.end()) it = files.emplace(std::string(name), std::vector<std::uint8_t>{}).first;
  return it->second;
}

}  // namespace

SimDisk::SimDisk(Kernel& kernel, std::uint32_t node, const DiskProfile& profile, Rng rng)
    : kernel_(kernel), node_(node), profile_(profile), rng_(rng) {
  SL_ASSERT(profile.write_bytes_per_s > 0);
  SL_ASSERT(profile.read_bytes_per_s > 0);
  SL_ASSERT(profile.iops > 0);
  SL_ASSERT(profile.fsync_latency_ns >= 0);
}

std::int64_t SimDisk::transfer_ns(std::uint64_t bytes, std::int64_t bytes_per_s) const {
  const auto ns = (static_cast<unsigned __int128>(bytes) * 1'000'000'000 + bytes_per_s - 1) /
                  static_cast<unsigned __int128>(bytes_per_s);
  return 1'000'000'000 / profile_.iops + static_cast<std::int64_t>(ns);
}

std::uint64_t& SimDisk::queued_size(std::string_view file) {
  auto it = queued_size_.find(file);
  if (it == queued_size_.end()) {
    const auto f = files_.find(file);
    it = queued_size_.emplace(std::string(file), f == files_.end() ? 0 : f->second.size()).first;
  }
  return it->second;
}

std::uint32_t SimDisk::enqueue(PendingOp op, std::int64_t service_ns) {
  std::uint32_t index;
  if (!free_ops_.empty()) {
    index = free_ops_.back();
    free_ops_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(ops_.size());
    ops_.emplace_back();
  }
  ops_[index] = std::move(op);
  ops_[index].issued_ns = kernel_.now();
  service_ns *= faults_.slowdown_factor;
  const std::int64_t start = std::max(kernel_.now(), busy_until_ns_);
  busy_until_ns_ = start + service_ns;
  stats_.busy_ns += service_ns;
  const std::uint32_t generation = generation_;
  kernel_.schedule_at(busy_until_ns_, node_, EventKind::disk, [this, index, generation] {
    if (generation == generation_) complete(index);
  });
  return index;
}

void SimDisk::release(std::uint32_t op_index) {
  PendingOp& op = ops_[op_index];
  op.io_done.reset();
  op.read_done.reset();
  op.bytes.clear();
  free_ops_.push_back(op_index);
}

void SimDisk::write(std::string_view file, std::uint64_t offset,
                    std::span<const std::uint8_t> bytes, IoCallback done) {
  PendingOp op;
  op.kind = OpKind::write;
  op.file = file;
  op.offset = offset;
  op.bytes.assign(bytes.begin(), bytes.end());
  op.io_done = std::move(done);
  std::uint64_t& size = queued_size(file);
  size = std::max<std::uint64_t>(size, offset + bytes.size());
  enqueue(std::move(op), transfer_ns(bytes.size(), profile_.write_bytes_per_s));
}

void SimDisk::fsync(std::string_view file, IoCallback done) {
  PendingOp op;
  op.kind = OpKind::fsync;
  op.file = file;
  op.io_done = std::move(done);
  enqueue(std::move(op), profile_.fsync_latency_ns);
}

void SimDisk::read(std::string_view file, std::uint64_t offset, std::uint64_t length,
                   ReadCallback done) {
  PendingOp op;
  op.kind = OpKind::read;
  op.file = file;
  op.offset = offset;
  op.length = length;
  op.read_done = std::move(done);
  const std::uint64_t size = queued_size(file);
  const std::uint64_t readable = offset >= size ? 0 : std::min(length, size - offset);
  enqueue(std::move(op), transfer_ns(readable, profile_.read_bytes_per_s));
}

void SimDisk::truncate(std::string_view file, std::uint64_t size_bytes, IoCallback done) {
  PendingOp op;
  op.kind = OpKind::truncate;
  op.file = file;
  op.offset = size_bytes;
  op.io_done = std::move(done);
  queued_size(file) = size_bytes;
  enqueue(std::move(op), 1'000'000'000 / profile_.iops);
}

void SimDisk::complete(std::uint32_t op_index) {
  SL_ASSERT(op_index < ops_.size());
  PendingOp& op = ops_[op_index];
  switch (op.kind) {
    case OpKind::write:
      apply_write(op);
      break;
    case OpKind::truncate:
      apply_truncate(op);
      break;
    case OpKind::fsync:
      ++stats_.fsyncs;
      if (!faults_.lying_fsync) {
        std::erase_if(undo_, [&](const Undo& u) { return u.file == op.file; });
      }
      op.status = IoStatus::ok;
      break;
    case OpKind::read:
      finish_read(op);
      break;
  }
  if (sink_ != nullptr) trace_completion(op);
  // The slot is released before the callback runs: the callback may issue operations.
  const IoStatus status = op.status;
  if (op.kind == OpKind::read) {
    ReadCallback done = std::move(op.read_done);
    std::vector<std::uint8_t> bytes = std::move(op.bytes);
    release(op_index);
    done(status, bytes);
  } else {
    IoCallback done = std::move(op.io_done);
    release(op_index);
    done(status);
  }
}

void SimDisk::trace_completion(const PendingOp& op) const {
  TraceKind kind = TraceKind::disk_write;
  std::uint64_t bytes = op.bytes.size();
  switch (op.kind) {
    case OpKind::write: break;
    case OpKind::fsync: kind = TraceKind::disk_fsync; break;
    case OpKind::read: kind = TraceKind::disk_read; break;
    case OpKind::truncate:
      kind = TraceKind::disk_truncate;
      bytes = op.offset;
      break;
  }
  sink_->record(TraceEvent(kernel_.now(), node_, kind)
                    .since(op.issued_ns)
                    .with_bytes(bytes)
                    .with_status(op.status)
                    .with_detail(op.file));
}

void SimDisk::apply_write(PendingOp& op) {
  auto& data = file_of(files_, op.file);
  std::uint64_t offset = op.offset;
  if (rng_.chance(faults_.misdirect_write_probability)) {
    const std::uint64_t shift = kBlockBytes * (1 + rng_.uniform_u64(8));
    offset = offset >= shift && rng_.chance(0.5) ? offset - shift : offset + shift;
  }
  const std::uint64_t end = offset + op.bytes.size();
  const std::uint64_t growth = end > data.size() ? end - data.size() : 0;
  if (growth > 0 && (faults_.full || used_bytes_ + growth > static_cast<std::uint64_t>(
                                                                 profile_.capacity_bytes))) {
    op.status = IoStatus::disk_full;
    return;
  }
  Undo undo;
  undo.file = op.file;
  undo.offset = offset;
  undo.new_length = op.bytes.size();
  undo.old_size = data.size();
  if (offset < data.size()) {
    const std::uint64_t overlap_end = std::min<std::uint64_t>(end, data.size());
    undo.old_bytes.assign(data.begin() + offset, data.begin() + overlap_end);
  }
  undo.applied_ns = kernel_.now();
  write_back();
  undo_.push_back(std::move(undo));
  if (offset == data.size()) {
    // Appending, the common case for logs: no zero-fill before the copy.
    data.insert(data.end(), op.bytes.begin(), op.bytes.end());
  } else {
    if (growth > 0) data.resize(end);
    std::copy(op.bytes.begin(), op.bytes.end(), data.begin() + offset);
  }
  used_bytes_ += growth;
  ++stats_.writes;
  stats_.bytes_written += op.bytes.size();
  op.status = IoStatus::ok;
}

void SimDisk::apply_truncate(PendingOp& op) {
  auto& data = file_of(files_, op.file);
  const std::uint64_t new_size = op.offset;
  Undo undo;
  undo.file = op.file;
  undo.offset = new_size;
  undo.old_size = data.size();
  undo.truncate = true;
  if (new_size < data.size()) {
    undo.old_bytes.assign(data.begin() + new_size, data.end());
    used_bytes_ -= data.size() - new_size;
  } else {
    used_bytes_ += new_size - data.size();
  }
  undo.applied_ns = kernel_.now();
  write_back();
  undo_.push_back(std::move(undo));
  data.resize(new_size);
  op.status = IoStatus::ok;
}

void SimDisk::finish_read(PendingOp& op) {
  ++stats_.reads;
  if (rng_.chance(faults_.read_error_probability)) {
    op.status = IoStatus::io_error;
    return;
  }
  const auto it = files_.find(op.file);
  if (it != files_.end() && op.offset < it->second.size()) {
    const auto& data = it->second;
    const std::uint64_t end = std::min<std::uint64_t>(data.size(), op.offset + op.length);
    op.bytes.assign(data.begin() + op.offset, data.begin() + end);
  }
  if (!op.bytes.empty() && rng_.chance(faults_.corrupt_read_probability)) {
    const std::uint64_t at = rng_.uniform_u64(op.bytes.size());
    op.bytes[at] ^= static_cast<std::uint8_t>(1u << rng_.uniform_u64(8));
  }
  op.status = IoStatus::ok;
}

void SimDisk::revert(std::vector<std::uint8_t>& data, const Undo& undo,
                     std::uint64_t keep_prefix) {
  if (undo.truncate) {
    data.resize(undo.old_size);
    std::copy(undo.old_bytes.begin(), undo.old_bytes.end(), data.begin() + undo.offset);
    return;
  }
  SL_ASSERT(keep_prefix <= undo.new_length);
  for (std::uint64_t i = keep_prefix; i < undo.old_bytes.size(); ++i) {
    data[undo.offset + i] = undo.old_bytes[i];
  }
  const std::uint64_t kept_end = undo.offset + keep_prefix;
  data.resize(std::max(undo.old_size, keep_prefix > 0 ? kept_end : undo.old_size));
}

void SimDisk::write_back() {
  const std::int64_t cutoff = kernel_.now() - profile_.writeback_delay_ns;
  std::size_t flushed = 0;
  while (flushed < undo_.size() && undo_[flushed].applied_ns <= cutoff) ++flushed;
  undo_.erase(undo_.begin(), undo_.begin() + static_cast<std::ptrdiff_t>(flushed));
}

void SimDisk::crash(bool torn) {
  write_back();
  const std::uint64_t lost_before = stats_.bytes_lost_in_crashes;
  for (std::size_t i = undo_.size(); i-- > 0;) {
    const Undo& undo = undo_[i];
    auto& data = file_of(files_, undo.file);
    const bool newest = i + 1 == undo_.size();
    std::uint64_t keep = 0;
    if (newest && torn && !undo.truncate && undo.new_length > 0) {
      keep = rng_.uniform_u64(undo.new_length);
    }
    const std::uint64_t before = data.size();
    revert(data, undo, keep);
    stats_.bytes_lost_in_crashes += undo.new_length - keep;
    used_bytes_ = used_bytes_ - before + data.size();
  }
  undo_.clear();
  ops_.clear();
  free_ops_.clear();
  queued_size_.clear();
  ++generation_;
  busy_until_ns_ = kernel_.now();
  if (sink_ != nullptr && stats_.bytes_lost_in_crashes > lost_before) {
    sink_->record(TraceEvent(kernel_.now(), node_, TraceKind::disk_lost)
                      .with_bytes(stats_.bytes_lost_in_crashes - lost_before)
                      .with_detail("unsynced writes reverted"));
  }
}

void SimDisk::wipe() {
  SL_ASSERT_MSG(undo_.empty() && ops_.empty(), "wipe a disk only after its node crashed");
  std::uint64_t lost = 0;
  for (const auto& [name, data] : files_) lost += data.size();
  stats_.bytes_lost_in_crashes += lost;
  files_.clear();
  if (sink_ != nullptr && lost > 0) {
    sink_->record(TraceEvent(kernel_.now(), node_, TraceKind::disk_lost)
                      .with_bytes(lost)
                      .with_detail("disk destroyed"));
  }
  used_bytes_ = 0;
}

std::span<const std::uint8_t> SimDisk::view(std::string_view file) const {
  const auto it = files_.find(file);
  if (it == files_.end()) return {};
  return it->second;
}

std::vector<std::uint8_t> SimDisk::contents(std::string_view file) const {
  const auto it = files_.find(file);
  return it == files_.end() ? std::vector<std::uint8_t>{} : it->second;
}

std::vector<std::uint8_t> SimDisk::durable_contents(std::string_view file) const {
  std::vector<std::uint8_t> data = contents(file);
  const std::int64_t cutoff = kernel_.now() - profile_.writeback_delay_ns;
  for (std::size_t i = undo_.size(); i-- > 0;) {
    if (undo_[i].file == file && undo_[i].applied_ns > cutoff) revert(data, undo_[i], 0);
  }
  return data;
}

std::vector<std::string> SimDisk::file_names() const {
  std::vector<std::string> names;
  for (const auto& [name, data] : files_) names.push_back(name);
  return names;
}

}  // namespace streamlab::sim
