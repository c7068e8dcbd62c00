#include "sim/disk.h"

#include <algorithm>

#include "base/assert.h"

namespace streamlab::sim {

namespace {

constexpr std::uint64_t kBlockBytes = 4096;

void check_profile(const DiskProfile& profile) {
  SL_ASSERT_GT(profile.write_bytes_per_s, 0);
  SL_ASSERT_GT(profile.read_bytes_per_s, 0);
  SL_ASSERT_GT(profile.iops, 0);
  SL_ASSERT_GE(profile.fsync_latency_ns, 0);
}

}  // namespace

SimDisk::SimDisk(Kernel& kernel, std::uint32_t node, const DiskProfile& profile, Rng rng,
                 const std::optional<DiskProfile>& journal)
    : kernel_(kernel), node_(node), profile_(profile), rng_(rng) {
  check_profile(profile);
  devices_.push_back(Device{profile});
  if (journal.has_value()) {
    check_profile(*journal);
    devices_.push_back(Device{*journal});
  }
}

std::size_t SimDisk::device_of(std::string_view file) const {
  return devices_.size() > 1 && file.starts_with(kJournalFilePrefix) ? 1 : 0;
}

SimDisk::File& SimDisk::file_of(std::string_view name) {
  auto it = files_.find(name);
  if (it == files_.end()) it = files_.try_emplace(std::string(name)).first;
  return it->second;
}

void SimDisk::keep_recent_only(std::uint64_t bytes_per_file) {
  SL_ASSERT_MSG(bytes_per_file > 0, "keep_recent_only needs a positive size");
  keep_bytes_ = bytes_per_file;
}

std::uint64_t SimDisk::kept_from(std::string_view file) const {
  const auto it = files_.find(file);
  return it == files_.end() ? 0 : it->second.base();
}

// Drops the chunks more than keep_bytes_ behind the end. Synced or not: the mode is for
// fault-free runs, which never crash (crash() refuses), so no undo will need them.
void SimDisk::forget_old(File& file) {
  if (keep_bytes_ == 0 || file.size() <= keep_bytes_) return;
  file.drop_before(file.size() - keep_bytes_);
}

std::int64_t SimDisk::transfer_ns(const Device& device, std::uint64_t bytes,
                                  std::int64_t bytes_per_s) const {
  const auto ns = (static_cast<unsigned __int128>(bytes) * 1'000'000'000 + bytes_per_s - 1) /
                  static_cast<unsigned __int128>(bytes_per_s);
  return 1'000'000'000 / device.profile.iops + static_cast<std::int64_t>(ns);
}

std::uint64_t& SimDisk::queued_size(std::string_view file) {
  auto it = queued_size_.find(file);
  if (it == queued_size_.end()) {
    const auto f = files_.find(file);
    it = queued_size_.emplace(std::string(file), f == files_.end() ? 0 : f->second.size()).first;
  }
  return it->second;
}

std::uint32_t SimDisk::enqueue(PendingOp op, std::int64_t service_ns, std::int64_t ready_ns,
                               std::span<const std::uint8_t> bytes) {
  std::uint32_t index;
  if (!free_ops_.empty()) {
    index = free_ops_.back();
    free_ops_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(ops_.size());
    ops_.emplace_back();
  }
  // The slot keeps its buffer from op to op: a fresh one per write was an allocation, and
  // for a large write fresh pages from the kernel, each time (a tenth of a broker run).
  std::vector<std::uint8_t> buffer = std::move(ops_[index].bytes);
  ops_[index] = std::move(op);
  buffer.assign(bytes.begin(), bytes.end());
  ops_[index].bytes = std::move(buffer);
  ops_[index].issued_ns = kernel_.now();
  service_ns *= faults_.slowdown_factor;
  Device& device = devices_[device_of(ops_[index].file)];
  const std::int64_t start = std::max({kernel_.now(), ready_ns, device.busy_until_ns});
  device.busy_until_ns = start + service_ns;
  device.busy_ns += service_ns;
  stats_.busy_ns += service_ns;
  const std::uint32_t generation = generation_;
  kernel_.schedule_at(device.busy_until_ns, node_, EventKind::disk, [this, index, generation] {
    if (generation == generation_) complete(index);
  });
  return index;
}

void SimDisk::release(std::uint32_t op_index) {
  PendingOp& op = ops_[op_index];
  op.io_done.reset();
  op.read_done.reset();
  op.list_done.reset();
  op.bytes.clear();
  free_ops_.push_back(op_index);
}

void SimDisk::write(std::string_view file, std::uint64_t offset,
                    std::span<const std::uint8_t> bytes, IoCallback done,
                    std::int64_t ready_ns) {
  PendingOp op;
  op.kind = OpKind::write;
  op.file = file;
  op.offset = offset;
  op.io_done = std::move(done);
  std::uint64_t& size = queued_size(file);
  size = std::max<std::uint64_t>(size, offset + bytes.size());
  const Device& device = devices_[device_of(file)];
  enqueue(std::move(op), transfer_ns(device, bytes.size(), device.profile.write_bytes_per_s),
          ready_ns, bytes);
}

void SimDisk::fsync(std::string_view file, IoCallback done, std::int64_t ready_ns) {
  PendingOp op;
  op.kind = OpKind::fsync;
  op.file = file;
  op.io_done = std::move(done);
  enqueue(std::move(op), devices_[device_of(file)].profile.fsync_latency_ns, ready_ns);
}

void SimDisk::read(std::string_view file, std::uint64_t offset, std::uint64_t length,
                   ReadCallback done, std::int64_t ready_ns) {
  PendingOp op;
  op.kind = OpKind::read;
  op.file = file;
  op.offset = offset;
  op.length = length;
  op.read_done = std::move(done);
  const std::uint64_t size = queued_size(file);
  const std::uint64_t readable = offset >= size ? 0 : std::min(length, size - offset);
  const Device& device = devices_[device_of(file)];
  enqueue(std::move(op), transfer_ns(device, readable, device.profile.read_bytes_per_s),
          ready_ns);
}

void SimDisk::truncate(std::string_view file, std::uint64_t size_bytes, IoCallback done,
                       std::int64_t ready_ns) {
  PendingOp op;
  op.kind = OpKind::truncate;
  op.file = file;
  op.offset = size_bytes;
  op.io_done = std::move(done);
  queued_size(file) = size_bytes;
  enqueue(std::move(op), 1'000'000'000 / devices_[device_of(file)].profile.iops, ready_ns);
}

void SimDisk::remove(std::string_view file, IoCallback done, std::int64_t ready_ns) {
  PendingOp op;
  op.kind = OpKind::remove;
  op.file = file;
  op.io_done = std::move(done);
  queued_size(file) = 0;
  enqueue(std::move(op), 1'000'000'000 / devices_[device_of(file)].profile.iops, ready_ns);
}

void SimDisk::list(ListCallback done, std::int64_t ready_ns) {
  PendingOp op;
  op.kind = OpKind::list;
  op.list_done = std::move(done);
  enqueue(std::move(op), 1'000'000'000 / devices_[0].profile.iops, ready_ns);
}

void SimDisk::complete(std::uint32_t op_index) {
  SL_ASSERT_LT(op_index, ops_.size());
  PendingOp& op = ops_[op_index];
  switch (op.kind) {
    case OpKind::write:
      apply_write(op);
      break;
    case OpKind::truncate:
      apply_truncate(op);
      break;
    case OpKind::remove:
      apply_remove(op);
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
    case OpKind::list:
      op.status = IoStatus::ok;
      break;
  }
  if (sink_ != nullptr && op.kind != OpKind::list) trace_completion(op);
  // The slot is released before the callback runs: the callback may issue operations.
  const IoStatus status = op.status;
  if (op.kind == OpKind::list) {
    ListCallback done = std::move(op.list_done);
    release(op_index);
    done(status, file_names());
  } else if (op.kind == OpKind::read) {
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
    case OpKind::remove: kind = TraceKind::disk_remove; break;
    case OpKind::list: return;
  }
  sink_->record(TraceEvent(kernel_.now(), node_, kind)
                    .since(op.issued_ns)
                    .with_bytes(bytes)
                    .with_status(op.status)
                    .with_detail(op.file));
}

void SimDisk::apply_write(PendingOp& op) {
  File& file = file_of(op.file);
  std::uint64_t offset = op.offset;
  if (rng_.chance(faults_.misdirect_write_probability)) {
    const std::uint64_t shift = kBlockBytes * (1 + rng_.uniform_u64(8));
    offset = offset >= file.base() + shift && rng_.chance(0.5) ? offset - shift : offset + shift;
  }
  SL_ASSERT_MSG(offset >= file.base(), "a write into bytes keep_recent_only forgot");
  const std::uint64_t end = offset + op.bytes.size();
  const std::uint64_t growth = end > file.size() ? end - file.size() : 0;
  if (growth > 0 && (faults_.full || used_bytes_ + growth > static_cast<std::uint64_t>(
                                                                 profile_.capacity_bytes))) {
    op.status = IoStatus::disk_full;
    return;
  }
  Undo undo;
  undo.file = op.file;
  undo.offset = offset;
  undo.new_length = op.bytes.size();
  undo.old_size = file.size();
  if (offset < file.size()) file.read(offset, end - offset, undo.old_bytes);
  undo.applied_ns = kernel_.now();
  write_back();
  undo_.push_back(std::move(undo));
  file.write(offset, op.bytes);
  used_bytes_ += growth;
  forget_old(file);
  ++stats_.writes;
  stats_.bytes_written += op.bytes.size();
  op.status = IoStatus::ok;
}

void SimDisk::apply_truncate(PendingOp& op) {
  File& file = file_of(op.file);
  const std::uint64_t new_size = op.offset;
  SL_ASSERT_MSG(new_size >= file.base(), "a truncation into bytes keep_recent_only forgot");
  Undo undo;
  undo.file = op.file;
  undo.offset = new_size;
  undo.old_size = file.size();
  undo.truncate = true;
  if (new_size < file.size()) {
    file.read(new_size, file.size() - new_size, undo.old_bytes);
    used_bytes_ -= file.size() - new_size;
  } else {
    used_bytes_ += new_size - file.size();
  }
  undo.applied_ns = kernel_.now();
  write_back();
  undo_.push_back(std::move(undo));
  file.resize(new_size);
  op.status = IoStatus::ok;
}

void SimDisk::apply_remove(PendingOp& op) {
  const auto it = files_.find(op.file);
  if (it != files_.end()) {
    used_bytes_ -= it->second.size();
    files_.erase(it);
  }
  std::erase_if(undo_, [&](const Undo& u) { return u.file == op.file; });
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
    const File& file = it->second;
    if (op.offset < file.base()) {
      ++stats_.forgotten_reads;
      op.status = IoStatus::io_error;
      return;
    }
    file.read(op.offset, op.length, op.bytes);
  }
  if (!op.bytes.empty() && rng_.chance(faults_.corrupt_read_probability)) {
    const std::uint64_t at = rng_.uniform_u64(op.bytes.size());
    op.bytes[at] ^= static_cast<std::uint8_t>(1u << rng_.uniform_u64(8));
  }
  op.status = IoStatus::ok;
}

// forget_old keeps every byte an undo could restore: offsets here are at or past file.base.
void SimDisk::revert(File& file, const Undo& undo, std::uint64_t keep_prefix) {
  SL_ASSERT(undo.offset >= file.base() && undo.old_size >= file.base());
  if (undo.truncate) {
    file.resize(undo.old_size);
    file.write(undo.offset, undo.old_bytes);
    return;
  }
  SL_ASSERT_LE(keep_prefix, undo.new_length);
  if (keep_prefix < undo.old_bytes.size()) {
    file.write(undo.offset + keep_prefix,
               std::span<const std::uint8_t>(undo.old_bytes).subspan(keep_prefix));
  }
  const std::uint64_t kept_end = undo.offset + keep_prefix;
  file.resize(std::max(undo.old_size, keep_prefix > 0 ? kept_end : undo.old_size));
}

void SimDisk::write_back() {
  const std::int64_t cutoff = kernel_.now() - profile_.writeback_delay_ns;
  std::size_t flushed = 0;
  while (flushed < undo_.size() && undo_[flushed].applied_ns <= cutoff) ++flushed;
  undo_.erase(undo_.begin(), undo_.begin() + static_cast<std::ptrdiff_t>(flushed));
}

void SimDisk::crash(bool torn) {
  SL_ASSERT_MSG(keep_bytes_ == 0, "a crash of a disk in keep_recent_only mode (fault-free runs only)");
  write_back();
  const std::uint64_t lost_before = stats_.bytes_lost_in_crashes;
  for (std::size_t i = undo_.size(); i-- > 0;) {
    const Undo& undo = undo_[i];
    File& file = file_of(undo.file);
    const bool newest = i + 1 == undo_.size();
    std::uint64_t keep = 0;
    if (newest && torn && !undo.truncate && undo.new_length > 0) {
      keep = rng_.uniform_u64(undo.new_length);
    }
    const std::uint64_t before = file.size();
    revert(file, undo, keep);
    stats_.bytes_lost_in_crashes += undo.new_length - keep;
    used_bytes_ = used_bytes_ - before + file.size();
  }
  undo_.clear();
  ops_.clear();
  free_ops_.clear();
  queued_size_.clear();
  ++generation_;
  for (Device& device : devices_) device.busy_until_ns = kernel_.now();
  if (sink_ != nullptr && stats_.bytes_lost_in_crashes > lost_before) {
    sink_->record(TraceEvent(kernel_.now(), node_, TraceKind::disk_lost)
                      .with_bytes(stats_.bytes_lost_in_crashes - lost_before)
                      .with_detail("unsynced writes reverted"));
  }
}

void SimDisk::wipe() {
  SL_ASSERT_MSG(undo_.empty(), "wipe a disk only after its node crashed");
  SL_ASSERT_MSG(ops_.empty(), "wipe a disk only after its node crashed");
  std::uint64_t lost = 0;
  for (const auto& [name, file] : files_) lost += file.size();
  stats_.bytes_lost_in_crashes += lost;
  files_.clear();
  if (sink_ != nullptr && lost > 0) {
    sink_->record(TraceEvent(kernel_.now(), node_, TraceKind::disk_lost)
                      .with_bytes(lost)
                      .with_detail("disk destroyed"));
  }
  used_bytes_ = 0;
}

std::uint64_t SimDisk::held_bytes() const {
  std::uint64_t held = 0;
  for (const auto& [name, file] : files_) held += file.held_bytes();
  return held;
}

std::vector<std::uint8_t> SimDisk::contents(std::string_view file) const {
  const auto it = files_.find(file);
  return it == files_.end() ? std::vector<std::uint8_t>{} : it->second.contents();
}

std::span<const std::uint8_t> SimDisk::view(std::string_view file) const {
  const auto it = files_.find(file);
  return it == files_.end() ? std::span<const std::uint8_t>{} : it->second.view();
}

std::vector<std::uint8_t> SimDisk::durable_contents(std::string_view name) const {
  SL_ASSERT_MSG(keep_bytes_ == 0, "durable_contents of a disk in keep_recent_only mode");
  const auto it = files_.find(name);
  if (it == files_.end()) return {};
  File file;
  file.write(0, it->second.view());
  const std::int64_t cutoff = kernel_.now() - profile_.writeback_delay_ns;
  for (std::size_t i = undo_.size(); i-- > 0;) {
    if (undo_[i].file == name && undo_[i].applied_ns > cutoff) revert(file, undo_[i], 0);
  }
  return file.contents();
}

std::vector<std::string> SimDisk::file_names() const {
  std::vector<std::string> names;
  for (const auto& [name, file] : files_) names.push_back(name);
  return names;
}

}  // namespace streamlab::sim
