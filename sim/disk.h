#pragma once

// The simulated disk of one node. Fault model:
// - A completed write is visible to reads at once (the page cache) but durable only after
//   a later fsync of that file completes, or once it is older than the profile's
//   writeback delay (the OS flushes dirty pages by itself). A crash reverts every
//   unsynced write, newest first; with torn writes on, the newest may survive as a prefix.
// - Operations are served one at a time in issue order: a write costs 1/IOPS plus
//   bytes / write bandwidth, a read 1/IOPS plus bytes / read bandwidth, an fsync its
//   modeled latency; a slow-disk fault multiplies these. A node with a journal disk has
//   two such devices, each with its own queue: files named journal* use the journal's.
//   Capacity (disk full) counts every file against the main disk's.
// - With keep_recent_only(n) (long, fast, fault-free runs whose contents would not fit in
//   memory), a file forgets its whole chunks more than n behind its end: they still count in its
//   size and in every timing, but reading them fails with io_error and contents()
//   starts after them (kept_from()). Such a disk must not crash.
// - Files are held in place (FileBytes): truncating or removing a file gives its memory
//   back. A removal is durable once it completes (a journaled file system's unlink), and
//   takes the file's unsynced writes with it.
// - Reads can fail with io_error (latent sector errors) or return a copy with one flipped
//   bit (bit rot on the read path: the stored bytes stay intact), each with a probability.
// - A misdirected write lands, with a probability, at another 4 KiB-aligned offset of the
//   same file while reporting success.
// - A full disk fails writes that would grow the data beyond capacity with disk_full.
// - A lying fsync acknowledges without persisting anything (the "fsync off" teaching case).
// Operations still pending at a crash never complete.

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/runtime.h"
#include "sim/file_bytes.h"
#include "sim/kernel.h"
#include "sim/rng.h"
#include "sim/topology.h"
#include "sim/trace.h"

namespace streamlab::sim {

struct DiskFaults {
  double read_error_probability = 0;
  double corrupt_read_probability = 0;
  double misdirect_write_probability = 0;
  std::uint32_t slowdown_factor = 1;
  bool full = false;
  bool lying_fsync = false;
};

struct DiskStats {
  std::uint64_t writes = 0;
  std::uint64_t bytes_written = 0;
  std::uint64_t fsyncs = 0;
  std::uint64_t reads = 0;
  std::uint64_t bytes_lost_in_crashes = 0;
  std::int64_t busy_ns = 0;  // Over every device, including operations booked to end later.
  std::uint64_t forgotten_reads = 0;  // Reads that asked for bytes keep_recent_only dropped.
};

class SimDisk {
 public:
  SimDisk(Kernel& kernel, std::uint32_t node, const DiskProfile& profile, Rng rng,
          const std::optional<DiskProfile>& journal = std::nullopt);

  // An operation starts once its device is free, but no sooner than ready_ns (when the
  // node's CPU has finished preparing it; earlier values mean now).
  void write(std::string_view file, std::uint64_t offset, std::span<const std::uint8_t> bytes,
             IoCallback done, std::int64_t ready_ns = 0);
  void fsync(std::string_view file, IoCallback done, std::int64_t ready_ns = 0);
  void read(std::string_view file, std::uint64_t offset, std::uint64_t length,
            ReadCallback done, std::int64_t ready_ns = 0);
  void truncate(std::string_view file, std::uint64_t size_bytes, IoCallback done,
                std::int64_t ready_ns = 0);
  void remove(std::string_view file, IoCallback done, std::int64_t ready_ns = 0);
  // The names of the files that exist once the operations queued before it are done.
  void list(ListCallback done, std::int64_t ready_ns = 0);

  void keep_recent_only(std::uint64_t bytes_per_file);
  // The first offset of `file` still in memory (0 unless keep_recent_only dropped some).
  std::uint64_t kept_from(std::string_view file) const;
  // 0: the main disk; 1: the journal disk, when there is one.
  std::size_t device_count() const { return devices_.size(); }
  std::int64_t device_busy_ns(std::size_t device) const { return devices_[device].busy_ns; }

  // The power goes out: unsynced writes are reverted, pending operations forgotten. With
  // `torn`, the newest unsynced write may survive as a prefix.
  void crash(bool torn);
  // The disk is destroyed (a fire, a lost instance): every file is gone. Call after crash().
  void wipe();

  // Completed operations and crash losses go to `sink` (null: nowhere).
  void set_trace_sink(TraceSink* sink) { sink_ = sink; }
  DiskFaults& faults() { return faults_; }
  const DiskStats& stats() const { return stats_; }
  std::uint64_t used_bytes() const { return used_bytes_; }
  // What a reader sees now, and what would survive a crash now. For checkers and tests.
  std::vector<std::uint8_t> contents(std::string_view file) const;
  // The file's bytes in place (from kept_from() on; empty if there is no such file):
  // valid until the disk next changes.
  std::span<const std::uint8_t> view(std::string_view file) const;
  // Memory the files hold, in bytes.
  std::uint64_t held_bytes() const;
  std::vector<std::uint8_t> durable_contents(std::string_view file) const;
  std::vector<std::string> file_names() const;

 private:
  enum class OpKind : std::uint8_t { write, fsync, read, truncate, remove, list };
  struct PendingOp {
    OpKind kind = OpKind::write;
    std::string file;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
    IoStatus status = IoStatus::ok;
    std::int64_t issued_ns = 0;
    std::vector<std::uint8_t> bytes;
    IoCallback io_done;
    ReadCallback read_done;
    ListCallback list_done;
  };
  // The bytes a write or truncate replaced, so a crash can put them back.
  struct Undo {
    std::string file;
    std::uint64_t offset = 0;
    std::uint64_t new_length = 0;  // Bytes the operation wrote at offset (0 for truncate).
    std::uint64_t old_size = 0;
    std::vector<std::uint8_t> old_bytes;
    bool truncate = false;
    std::int64_t applied_ns = 0;
  };

  struct Device {
    DiskProfile profile;
    std::int64_t busy_until_ns = 0;
    std::int64_t busy_ns = 0;
  };
  using File = FileBytes;

  std::size_t device_of(std::string_view file) const;
  File& file_of(std::string_view name);
  void forget_old(File& file);
  // `bytes`: a write's, copied into the slot's own buffer.
  std::uint32_t enqueue(PendingOp op, std::int64_t service_ns, std::int64_t ready_ns,
                        std::span<const std::uint8_t> bytes = {});
  std::uint64_t& queued_size(std::string_view file);
  void complete(std::uint32_t op_index);
  void release(std::uint32_t op_index);
  // Forgets the undo of writes the OS would have flushed by now.
  void write_back();
  void apply_write(PendingOp& op);
  void apply_truncate(PendingOp& op);
  void apply_remove(PendingOp& op);
  void finish_read(PendingOp& op);
  void trace_completion(const PendingOp& op) const;
  static void revert(File& file, const Undo& undo, std::uint64_t keep_prefix);
  std::int64_t transfer_ns(const Device& device, std::uint64_t bytes,
                           std::int64_t bytes_per_s) const;

  Kernel& kernel_;
  std::uint32_t node_;
  DiskProfile profile_;
  std::vector<Device> devices_;
  std::uint64_t keep_bytes_ = 0;  // 0: keep everything.
  Rng rng_;
  DiskFaults faults_;
  DiskStats stats_;
  std::map<std::string, File, std::less<>> files_;
  std::vector<Undo> undo_;
  std::uint64_t used_bytes_ = 0;
  std::vector<PendingOp> ops_;
  std::vector<std::uint32_t> free_ops_;
  // Completions of operations issued before the last crash find a newer generation and
  // do nothing, even if the World did not drop their events first.
  std::uint32_t generation_ = 0;
  // Each file's size once every queued operation is done: a read queued behind a write
  // is charged for the bytes it will find.
  std::map<std::string, std::uint64_t, std::less<>> queued_size_;
  TraceSink* sink_ = nullptr;
};

}  // namespace streamlab::sim
