#pragma once

// A bookie (DESIGN.md section 4, REFERENCE.md "BookKeeper"): a storage node for ledger
// entries. Adds go to the journal with group commit (a batch is written when
// journal_max_group_wait has passed since its first entry or it holds
// journal_buffered_writes_threshold bytes) and, with journal_sync_data on, are fsynced
// before they are acknowledged. Ledger storage (BookKeeper's write cache and entry log):
// acknowledged entries gather in a write cache, which is written to the entry log in
// large writes (at entry_log_flush_bytes, or entry_log_flush_interval after its first
// entry) and fsynced; then the index points at the entry log instead of the journal. The
// journal on its own device and the entry log on the main disk is the deployment the
// disk model's journal disk stands for. An in-memory index maps (ledger, entry) to its
// place, and reads go to disk. The journal stays the truth: a restart rebuilds the index
// from it alone and overwrites the entry log from its start. Fencing: a
// fencing read marks the ledger fenced, durably (a journal record), before it answers;
// a fenced ledger refuses normal adds with FENCED and accepts recovery adds. On start the
// bookie replays its journal, cuts a torn tail and rebuilds index, LACs and fences.
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
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "broker/storage/storage.pb.h"
#include "runtime/runtime.h"

namespace streamlab::storage {

inline constexpr const char* kJournalFile = "journal";
inline constexpr const char* kEntryLogFile = "entrylog";

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
};

// What a journal holds, as recovery and the checkers read it.
struct StoredEntry {
  std::int64_t lac = -1;
  std::string payload;
};
struct JournalContents {
  std::map<std::pair<std::uint64_t, std::int64_t>, StoredEntry> entries;  // (ledger, entry).
  std::map<std::uint64_t, std::int64_t> lac;  // Highest LAC stored per ledger.
  std::set<std::uint64_t> fenced;
  std::uint64_t valid_bytes = 0;
};
// payload_prefix: keep only that many bytes of each payload (a checker that needs only a
// header saves copying every entry).
JournalContents parse_journal(std::span<const std::uint8_t> bytes,
                              std::size_t payload_prefix = SIZE_MAX);

class Bookie final : public Node {
 public:
  Bookie(Runtime& runtime, BookieConfig config);
  ~Bookie() override;

  void on_start() override;
  void on_message(NodeId from, std::span<const std::uint8_t> bytes) override;
  void on_connection_broken(NodeId peer) override {}

  bool serving() const;

 private:
  enum class State : std::uint8_t { recovering, serving };
  // Where a ledger's fence record is: refusing normal adds starts at `open_batch`;
  // fencing reads are answered only at `durable`.
  enum class Fence : std::uint8_t { none, open_batch, in_flight, durable };

  struct Location {
    std::uint64_t offset = 0;  // Of the framed record in its file.
    std::uint64_t length = 0;  // Header and body.
    bool entry_log = false;    // In the entry log; else in the journal.
    bool operator==(const Location&) const = default;
  };
  // An acknowledged entry in the write cache: where the journal has it, and where it is in
  // the cache's bytes.
  struct CachedEntry {
    std::uint64_t ledger = 0;
    std::int64_t entry = 0;
    Location journal;
    std::uint64_t cache_offset = 0;
  };
  struct WriteCache {
    std::vector<std::uint8_t> bytes;
    std::vector<CachedEntry> entries;
  };
  struct LedgerInfo {
    std::int64_t lac = -1;
    Fence fence = Fence::none;
  };
  // An add waiting for its batch; `offset` is the record's place within the batch.
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
    std::vector<JournalAdd> adds;
    std::vector<std::uint64_t> fences;       // Ledgers whose fence record is in `bytes`.
    std::vector<ReadRequest> fence_reads;    // Answered once the batch is durable.

    void clear();
  };

  void recover();
  void recovered(IoStatus status, std::span<const std::uint8_t> bytes);
  void tail_cut(IoStatus status);
  void recovery_synced(IoStatus status);
  void retry_recovery();
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
  void cache_entries();
  void schedule_cache_flush();
  void flush_cache();
  void cache_written(IoStatus status);
  void cache_synced(IoStatus status);
  void serve_read(const ReadRequest& read);
  void entry_read(std::uint32_t slot, IoStatus status, std::span<const std::uint8_t> bytes);
  std::size_t pending_reads() const;
  std::int64_t lac_of(std::uint64_t ledger) const;
  void reply_add(NodeId to, std::uint64_t ledger, std::int64_t entry, BookieStatus status);
  // `payload`, when given, is swapped into the reply rather than copied.
  void reply_read(const ReadRequest& read, BookieStatus status, std::string* payload);

  Runtime& rt_;
  BookieConfig config_;
  State state_ = State::recovering;
  std::map<std::pair<std::uint64_t, std::int64_t>, Location> index_;
  std::map<std::uint64_t, LedgerInfo> ledgers_;
  std::uint64_t journal_end_ = 0;
  int damaged_reads_ = 0;  // Start-up reads in a row that found damage mid-journal.

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
  TimerId cache_timer_ = 0;
  std::uint64_t entry_log_end_ = 0;

  // Entry reads waiting for the disk, by slot; a slot's index rides in the callback.
  std::vector<ReadRequest> reads_;
  std::vector<std::uint32_t> free_reads_;

  StorageMessage in_;
  StorageMessage add_out_;
  StorageMessage read_out_;
  JournalRecord record_;
  std::vector<std::uint8_t> record_bytes_;
  std::vector<std::uint8_t> send_buffer_;
};

}  // namespace streamlab::storage
