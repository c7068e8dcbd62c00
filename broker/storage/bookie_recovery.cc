// The bookie's restart (bookie.h): every entry log, then the journals from the
// checkpoint on, rebuild the index, the LACs and the fences; what the journals add goes
// back to the write cache; new appends go to a new journal and a new entry log.

#include <algorithm>
#include <tuple>

#include "base/assert.h"
#include "broker/storage/bookie.h"

namespace streamlab::storage {

namespace {

constexpr std::int64_t kRecoveryRetryNs = 10'000'000;
// Restarts in a row that found damage in the middle of a file, before it is believed:
// a bit flipped on the way from the device reads right the next time.
constexpr int kDamagedReadsBeforeSkipping = 3;

}  // namespace

void Bookie::recover() {
  state_ = State::recovering;
  ++epoch_;
  index_.clear();
  ledgers_.clear();
  recovery_ = Recovery{};
  // What the caches held is in the journal, where the restart finds it again.
  cache_.clear();
  cache_flushing_.clear();
  entry_logs_.clear();
  collecting_ = false;  // A garbage collection pass under way is abandoned.
  verifying_ = 0;
  cache_writing_ = false;
  cache_backing_off_ = false;
  if (cache_timer_armed_) {
    rt_.cancel(cache_timer_);
    cache_timer_armed_ = false;
  }
  marking_ = false;
  next_mark_.reset();
  rt_.disk_list([this, epoch = epoch_](IoStatus status, std::span<const std::string> names) {
    if (epoch == epoch_) listed(status, names);
  });
}

void Bookie::retry_recovery() {
  // A latent read error: try again rather than serve from files we could not read.
  rt_.after(kRecoveryRetryNs, [this] { recover(); });
}

void Bookie::listed(IoStatus status, std::span<const std::string> names) {
  if (status != IoStatus::ok) {
    retry_recovery();
    return;
  }
  // Names come sorted, and the ids have a fixed width: file order is id order.
  for (const std::string& name : names) {
    if (const auto id = entry_log_id_of(name)) {
      recovery_.entry_logs.push_back(name);
      recovery_.last_entry_log = std::max(recovery_.last_entry_log, *id);
    } else if (const auto id = journal_id_of(name)) {
      recovery_.journals.push_back(name);
      recovery_.last_journal = std::max(recovery_.last_journal, *id);
    }
  }
  rt_.disk_read(kLastMarkFile, 0, kWholeFile,
                [this, epoch = epoch_](IoStatus s, std::span<const std::uint8_t> bytes) {
                  if (epoch == epoch_) mark_read(s, bytes);
                });
}

void Bookie::mark_read(IoStatus status, std::span<const std::uint8_t> bytes) {
  if (status != IoStatus::ok) {
    retry_recovery();
    return;
  }
  std::tie(mark_, mark_file_end_) = parse_last_mark(bytes);
  // Journals before the checkpoint are in the entry logs: a deletion a crash cut short
  // is finished now.
  const auto kept = std::find_if(recovery_.journals.begin(), recovery_.journals.end(),
                                 [this](const std::string& name) {
                                   return *journal_id_of(name) >= mark_.journal;
                                 });
  for (auto it = recovery_.journals.begin(); it != kept; ++it) rt_.disk_remove(*it, [](IoStatus) {});
  recovery_.journals.erase(recovery_.journals.begin(), kept);
  read_next_file();
}

void Bookie::read_next_file() {
  const std::size_t logs = recovery_.entry_logs.size();
  if (recovery_.next == logs + recovery_.journals.size()) {
    recovery_done();
    return;
  }
  const std::string& name = recovery_.next < logs ? recovery_.entry_logs[recovery_.next]
                                                  : recovery_.journals[recovery_.next - logs];
  rt_.disk_read(name, 0, kWholeFile,
                [this, epoch = epoch_](IoStatus s, std::span<const std::uint8_t> bytes) {
                  if (epoch == epoch_) file_read(s, bytes);
                });
}

void Bookie::file_read(IoStatus status, std::span<const std::uint8_t> bytes) {
  SL_ASSERT_EQ(state_, State::recovering);
  if (status != IoStatus::ok) {
    retry_recovery();
    return;
  }
  const bool entry_log = recovery_.next < recovery_.entry_logs.size();
  const std::string& name =
      entry_log ? recovery_.entry_logs[recovery_.next]
                : recovery_.journals[recovery_.next - recovery_.entry_logs.size()];
  const std::uint32_t id = entry_log ? *entry_log_id_of(name) : *journal_id_of(name);
  const std::uint64_t from = !entry_log && id == mark_.journal ? mark_.offset : 0;
  // Every entry log is known to garbage collection, even one without an intact record.
  if (entry_log) entry_logs_[id].bytes = bytes.size();
  const FramedLog log = replay_records(bytes, from, record_, [&](const FramedRecord& framed,
                                                                 const JournalRecord& r) {
    const Location at{framed.offset, kRecordHeaderBytes + framed.body.size(), id, entry_log};
    LedgerInfo& ledger = ledgers_[r.ledger_id()];
    if (r.fence()) {
      ledger.fence = Fence::durable;
    } else {
      index_[{r.ledger_id(), r.entry_id()}] = at;
      ledger.lac = std::max(ledger.lac, r.lac());
    }
    // BookKeeper replays the journal from the mark into ledger storage: the next
    // checkpoint then covers these records too.
    if (entry_log) {
      count_usage(id, r.ledger_id(), at.length);
    } else {
      cache_record(r.ledger_id(), r.fence() ? -1 : r.entry_id(), at,
                   bytes.subspan(framed.offset, at.length));
    }
  });
  if (log.damaged_bytes > 0 && ++damaged_reads_ < kDamagedReadsBeforeSkipping) {
    recover();  // Perhaps only this read was damaged: read again before skipping records.
    return;
  }
  // Every record found counts as durable from now on (a fence found is answered at
  // once). After a failed fsync, or a process kill that left the page cache behind, a
  // file may hold records that never reached the device: sync them first.
  if (entry_log || config_.journal_sync_data) {
    rt_.disk_fsync(name, [this, epoch = epoch_](IoStatus s) {
      if (epoch == epoch_) file_synced(s);
    });
  } else {
    file_synced(IoStatus::ok);
  }
}

void Bookie::file_synced(IoStatus status) {
  if (status != IoStatus::ok) {
    retry_recovery();
    return;
  }
  ++recovery_.next;
  read_next_file();
}

// New files after the newest found: a torn tail stays behind in its old file, where
// parsing stops at it, and no new record ever follows garbage.
void Bookie::recovery_done() {
  damaged_reads_ = 0;
  journal_id_ = std::max(recovery_.last_journal, mark_.journal) + 1;
  journal_end_ = 0;
  journal_name_ = journal_file(journal_id_);
  entry_log_id_ = recovery_.last_entry_log + 1;
  entry_log_end_ = 0;
  entry_log_name_ = entry_log_file(entry_log_id_);
  oldest_journal_ = recovery_.journals.empty() ? journal_id_
                                              : *journal_id_of(recovery_.journals.front());
  recovery_ = Recovery{};
  state_ = State::serving;
  schedule_cache_flush();
}

}  // namespace streamlab::storage
