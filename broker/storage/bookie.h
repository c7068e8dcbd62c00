#pragma once

// A bookie (DESIGN.md section 4, REFERENCE.md "BookKeeper"): a storage node for ledger
// entries. Adds go to the journal with group commit (a batch is written when
// journal_max_group_wait has passed since its first entry or it holds
// journal_buffered_writes_threshold bytes) and, with journal_sync_data on, are fsynced
// before they are acknowledged. Ledger storage (BookKeeper's write cache and entry log):
// acknowledged records gather in a write cache, which is written to the entry log in
// large writes (at entry_log_flush_bytes, or entry_log_flush_interval after its first
// entry) and fsynced; then the index points at the entry log instead of the journal. The
// journal on its own device and the entry log on the main disk is the deployment the
// disk model's journal disk stands for. An in-memory index maps (ledger, entry) to its
// place, and reads go to disk.
//
// Files and checkpoints (bookie_files.h): journals and entry logs rotate at a size
// limit. Once a flush of the write cache is durable, a checkpoint (lastMark) records the
// journal position it covers; then the journals before it are deleted. A restart reads
// every entry log, then replays the journals from the mark, puts what it replayed back
// in the write cache (so a later checkpoint covers it), and starts a new journal and a
// new entry log. Unsafe knob: checkpoint_after_flush off takes the checkpoint when the
// flush starts, before the entry log is durable (apache/bookkeeper PR #2983).
//
// Garbage collection and compaction (BookKeeper's GarbageCollectorThread with
// ScanAndCompareGarbageCollector): a bookie given a metadata store opens a session with it
// after gc_interval and from then on lists the ledgers there every gc_interval. A ledger it holds that the list lacks (its own ledgers are noted
// before the listing starts, so one created meanwhile is listed) is read once more by
// key, and only a NO_KEY answer drops it from the index (verifyMetadataOnGc, the guard of
// apache/bookkeeper PR #4607). An entry log left holding no live ledger is deleted. Then
// every entry log whose live share is under compaction_threshold is compacted, one after
// another, the least live first: its records the index still points to (and the fences of live ledgers) go through the write
// cache into the current entry log, and the old log is deleted only once that flush is
// durable and the index points at the copies (apache/bookkeeper #1534 deleted first).
//
// Fencing: a fencing read marks the ledger fenced, durably (a journal record, which
// reaches the entry logs like any other), before it answers; a fenced ledger refuses
// normal adds with FENCED and accepts recovery adds.
//
// What a client sees (every request gets exactly one reply unless the bookie crashes):
// - AddEntry: BK_OK once its batch is durable; FENCED at once if the ledger was fenced
//   before the add arrived (adds accepted earlier complete normally); BK_ERROR while
//   recovering, when 10000 adds are pending, or when the journal write or fsync of its
//   batch failed (the bookie then rebuilds its state from disk before serving again).
// - ReadEntry: BK_OK with the payload, NO_ENTRY if the entry was never written, BK_ERROR
//   on a read error, a corrupt record, while recovering or when overloaded. entry_id -1
//   asks for the LAC only (BK_OK, -1 for an unknown ledger). Every reply carries the
//   ledger's highest stored LAC. With fence set, the reply waits until the fence is
//   durable. Messages that are malformed or not for a bookie get no reply.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "broker/storage/bookie_files.h"
#include "broker/storage/metadata_client.h"
#include "broker/storage/storage.pb.h"
#include "runtime/runtime.h"

namespace streamlab::storage {

struct BookieConfig {
  bool journal_sync_data = true;                         // Unsafe when false.
  std::int64_t journal_max_group_wait_ns = 1'000'000;     // journalMaxGroupWaitMSec = 1.
  std::uint64_t journal_buffered_writes_threshold = 512 * 1024;  // 512 KiB.
  // DbLedgerStorage flushes its write cache when it fills and every flushInterval
  // (60 s); a small cache flushed often spreads the same bytes evenly over time.
  std::uint64_t entry_log_flush_bytes = 4u << 20;
  std::int64_t entry_log_flush_interval_ns = 1'000'000'000;
  // A full write cache throttles adds, as BookKeeper's does: the journal writes no new
  // batch until the entry log's flush makes room.
  std::uint64_t write_cache_max_bytes = 16u << 20;
  // Rotation sizes. Upstream: journalMaxSizeMB = 2048 and logSizeLimit = 1 GiB; smaller
  // here so that simulated minutes see journals deleted and entry logs rotate, and a
  // simulated disk holds only what a checkpoint has not yet made deletable.
  std::uint64_t journal_max_bytes = 64u << 20;
  std::uint64_t entry_log_max_bytes = 64u << 20;
  // Unsafe when false: the checkpoint is taken when a flush starts, not once it is durable.
  bool checkpoint_after_flush = true;
  // Garbage collection: off while gc_metadata.store is empty. Upstream gcWaitTime is 15
  // min and compaction thresholds 0.2 (minor) and 0.8 (major); one pass per minute with
  // one threshold between them lets simulated minutes see both.
  MetadataClientConfig gc_metadata;
  std::int64_t gc_interval_ns = 60'000'000'000;
  double compaction_threshold = 0.5;
};

class Bookie final : public Node {
 public:
  Bookie(Runtime& runtime, BookieConfig config);
  ~Bookie() override;

  void on_start() override;
  void on_message(NodeId from, std::span<const std::uint8_t> bytes) override;
  void on_connection_broken(NodeId peer) override;

  bool serving() const;

 private:
  enum class State : std::uint8_t { recovering, serving };
  // Where a ledger's fence record is: refusing normal adds starts at `open_batch`;
  // fencing reads are answered only at `durable`.
  enum class Fence : std::uint8_t { none, open_batch, in_flight, durable };

  struct Location {
    std::uint64_t offset = 0;  // Of the framed record in its file.
    std::uint64_t length = 0;  // Header and body.
    std::uint32_t file = 0;    // The journal's or the entry log's id.
    bool entry_log = false;    // In an entry log; else in a journal.
    bool operator==(const Location&) const = default;
  };
  // A durable record in the write cache: where the journal has it, and where it is in
  // the cache's bytes. entry -1: a fence record, which the index does not point to.
  struct CachedEntry {
    std::uint64_t ledger = 0;
    std::int64_t entry = 0;
    Location journal;
    std::uint64_t cache_offset = 0;
  };
  // `entries` in cache order; a compacted record's `journal` is where its entry log had
  // it. `compacted`: entry logs whose live records are all in this cache, deleted once it
  // is durable.
  struct WriteCache {
    std::vector<std::uint8_t> bytes;
    std::vector<CachedEntry> entries;
    std::vector<std::uint32_t> compacted;

    void clear();
  };
  // What an entry log holds, for garbage collection: its bytes, and how many of them each
  // ledger the bookie held when they were written has there.
  struct EntryLogUsage {
    std::uint64_t bytes = 0;
    std::map<std::uint64_t, std::uint64_t> by_ledger;
    bool compacting = false;  // Its live records wait in a write cache.
  };
  struct LedgerInfo {
    std::int64_t lac = -1;
    Fence fence = Fence::none;
  };
  // A record waiting for its batch; `at` is its place within the batch. entry -1 with
  // from kNoNode: a fence record.
  struct JournalAdd {
    NodeId from = kNoNode;
    std::uint64_t ledger = 0;
    std::int64_t entry = 0;
    std::int64_t lac = -1;
    Location at;
  };
  struct ReadRequest {
    NodeId from = kNoNode;
    std::uint64_t request_id = 0;
    std::uint64_t ledger = 0;
    std::int64_t entry = 0;
  };
  // One group-commit batch: the framed records and who waits for them.
  struct Batch {
    std::vector<std::uint8_t> bytes;
    std::vector<JournalAdd> adds;            // Every record, fences included.
    std::vector<std::uint64_t> fences;       // Ledgers whose fence record is in `bytes`.
    std::vector<ReadRequest> fence_reads;    // Answered once the batch is durable.

    void clear();
  };
  // A restart's reading of the disk: the files to read, in order, and where it is.
  struct Recovery {
    std::vector<std::string> entry_logs;
    std::vector<std::string> journals;
    std::size_t next = 0;  // Into entry_logs, then journals.
    std::uint32_t last_journal = 0;    // The highest ids found: a restart starts new files.
    std::uint32_t last_entry_log = 0;
  };

  // bookie_recovery.cc
  void recover();
  void listed(IoStatus status, std::span<const std::string> names);
  void mark_read(IoStatus status, std::span<const std::uint8_t> bytes);
  void read_next_file();
  void file_read(IoStatus status, std::span<const std::uint8_t> bytes);
  void file_synced(IoStatus status);
  void recovery_done();
  void retry_recovery();

  // bookie.cc
  void handle_add(NodeId from, const AddEntry& add);
  void handle_read(NodeId from, const ReadEntry& read);
  Location append_record(std::uint64_t ledger, std::int64_t entry, std::int64_t lac,
                         const std::string& payload, bool fence);
  void appended();
  void group_wait_elapsed();
  void flush();
  void written(IoStatus status);
  void durable(IoStatus status);
  void fail_journal();
  void serve_read(const ReadRequest& read);
  void entry_read(std::uint32_t slot, IoStatus status, std::span<const std::uint8_t> bytes);
  std::size_t pending_reads() const;
  std::int64_t lac_of(std::uint64_t ledger) const;
  void reply_add(NodeId to, std::uint64_t ledger, std::int64_t entry, BookieStatus status);
  // `payload`, when given, is swapped into the reply rather than copied.
  void reply_read(const ReadRequest& read, BookieStatus status, std::string* payload);

  // bookie_storage.cc
  void cache_record(std::uint64_t ledger, std::int64_t entry, const Location& from,
                    std::span<const std::uint8_t> framed);
  void cache_batch();
  void schedule_cache_flush();
  void flush_cache();
  void cache_written(IoStatus status);
  void cache_synced(IoStatus status);
  std::optional<JournalMark> mark_of(const WriteCache& cache) const;
  void checkpoint(JournalMark mark);
  void mark_written(IoStatus status);
  void next_checkpoint();
  void delete_journals_before(std::uint32_t journal);
  void count_usage(std::uint32_t entry_log, std::uint64_t ledger, std::uint64_t bytes);

  // bookie_gc.cc
  void schedule_gc();
  void collect_garbage();
  void ledgers_listed(std::vector<std::uint64_t> held, const MetaResult& listed);
  void verified(std::uint64_t ledger, const MetaResult& result);
  void drop_ledger(std::uint64_t ledger);
  void drop_dead_entry_logs();
  void compact_one();
  void compaction_read(std::uint32_t entry_log, IoStatus status,
                       std::span<const std::uint8_t> bytes);
  void gc_done();
  void remove_entry_log(std::uint32_t entry_log);

  Runtime& rt_;
  BookieConfig config_;
  State state_ = State::recovering;
  std::map<std::pair<std::uint64_t, std::int64_t>, Location> index_;
  std::map<std::uint64_t, LedgerInfo> ledgers_;
  Recovery recovery_;
  std::uint64_t epoch_ = 0;  // Restarts of the storage state; stale completions are dropped.
  int damaged_reads_ = 0;    // Restarts in a row that found damage in a file.

  std::uint32_t journal_id_ = 0;  // The journal new batches go to.
  std::uint64_t journal_end_ = 0;
  std::string journal_name_;
  Batch open_;       // Filling; written when due.
  Batch in_flight_;  // Being written and synced; at most one (group commit).
  bool writing_ = false;
  bool batch_due_ = false;
  bool timer_armed_ = false;
  TimerId group_timer_ = 0;

  WriteCache cache_;          // Filling.
  WriteCache cache_flushing_;  // Being written to the entry log; at most one.
  bool cache_writing_ = false;
  bool cache_timer_armed_ = false;
  bool cache_backing_off_ = false;  // A flush failed: the next waits for the timer.
  TimerId cache_timer_ = 0;
  std::uint32_t entry_log_id_ = 0;
  std::uint64_t entry_log_end_ = 0;
  std::string entry_log_name_;

  JournalMark mark_;                 // The newest durable checkpoint.
  std::optional<JournalMark> next_mark_;  // Waiting for the one being written.
  bool marking_ = false;
  JournalMark writing_mark_;  // The mark being written, and where the file then ends.
  std::uint64_t writing_mark_end_ = 0;
  std::uint64_t mark_file_end_ = 0;
  std::uint32_t oldest_journal_ = 0;  // No journal before it is left on disk.

  // Entry reads waiting for the disk, by slot; a slot's index rides in the callback.
  std::vector<ReadRequest> reads_;
  std::vector<std::uint32_t> free_reads_;

  StorageMessage in_;
  StorageMessage add_out_;
  StorageMessage read_out_;
  JournalRecord record_;
  std::vector<std::uint8_t> record_bytes_;
  std::vector<std::uint8_t> mark_bytes_;
  std::vector<std::uint8_t> send_buffer_;

  std::optional<MetadataClient> metadata_;  // Only for garbage collection.
  std::map<std::uint32_t, EntryLogUsage> entry_logs_;
  bool collecting_ = false;        // A pass is under way (one at a time).
  std::uint32_t verifying_ = 0;    // Its key reads not yet answered.
  std::set<std::uint32_t> compaction_tried_;  // Entry logs this pass compacted or put off.
};

}  // namespace streamlab::storage
