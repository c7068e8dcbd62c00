// The bookie's ledger storage (bookie.h): the write cache, the entry logs it is flushed
// to, and the checkpoints that let old journals go.

#include <algorithm>

#include "base/assert.h"
#include "broker/storage/bookie.h"

namespace streamlab::storage {

namespace {

// The lastmark file is rewritten from its start once it holds this many bytes of marks.
constexpr std::uint64_t kMarkFileRewriteBytes = 64 * 1024;

}  // namespace

void Bookie::WriteCache::clear() {
  bytes.clear();
  entries.clear();
  compacted.clear();
}

void Bookie::cache_record(std::uint64_t ledger, std::int64_t entry, const Location& from,
                          std::span<const std::uint8_t> framed) {
  SL_ASSERT_EQ(framed.size(), from.length);
  rt_.charge(Work::entry_write, from.length);
  cache_.entries.push_back(CachedEntry{ledger, entry, from, cache_.bytes.size()});
  cache_.bytes.insert(cache_.bytes.end(), framed.begin(), framed.end());
}

// Called once the in-flight batch is durable; written() has moved journal_end_ past it.
// Every record goes to the cache, fences too: a checkpoint past a record must find it
// in the entry logs.
void Bookie::cache_batch() {
  SL_ASSERT_GE(journal_end_, in_flight_.bytes.size());
  const std::uint64_t base = journal_end_ - in_flight_.bytes.size();
  const std::span<const std::uint8_t> bytes(in_flight_.bytes);
  for (const JournalAdd& add : in_flight_.adds) {
    const Location journal{base + add.at.offset, add.at.length, journal_id_};
    cache_record(add.ledger, add.entry, journal, bytes.subspan(add.at.offset, add.at.length));
  }
  schedule_cache_flush();
}

// Full enough: now. Otherwise once the oldest cached entry has waited the interval (or,
// after a failed flush, the interval since the failure).
void Bookie::schedule_cache_flush() {
  if (cache_.bytes.size() >= config_.entry_log_flush_bytes && !cache_backing_off_) {
    flush_cache();
  } else if (!cache_.bytes.empty() && !cache_timer_armed_) {
    cache_timer_armed_ = true;
    cache_timer_ = rt_.after(config_.entry_log_flush_interval_ns, [this] {
      cache_timer_armed_ = false;
      cache_backing_off_ = false;
      flush_cache();
      schedule_cache_flush();
    });
  }
}

void Bookie::flush_cache() {
  if (state_ != State::serving || cache_writing_ || cache_.bytes.empty()) return;
  // The next deadline counts from the next cache's first entry.
  if (cache_timer_armed_) {
    rt_.cancel(cache_timer_);
    cache_timer_armed_ = false;
  }
  std::swap(cache_, cache_flushing_);
  cache_writing_ = true;
  // The unsafe order: the mark moves before the entry log holds what it covers.
  if (!config_.checkpoint_after_flush) {
    if (const auto mark = mark_of(cache_flushing_)) checkpoint(*mark);
  }
  // A restart meanwhile (epoch_) starts afresh: completions of before it change nothing.
  rt_.disk_write(entry_log_name_, entry_log_end_, cache_flushing_.bytes,
                 [this, epoch = epoch_](IoStatus s) {
                   if (epoch == epoch_) cache_written(s);
                 });
}

void Bookie::cache_written(IoStatus status) {
  if (status != IoStatus::ok) {
    cache_synced(status);
    return;
  }
  rt_.disk_fsync(entry_log_name_, [this, epoch = epoch_](IoStatus s) {
    if (epoch == epoch_) cache_synced(s);
  });
}

// Entries move to the entry log only once it is durable, and only those the index still
// has where the cache found them (a recovery add may have rewritten one meanwhile). On an
// error they stay where the journal has them, and go back to the cache ahead of what
// came since: no checkpoint may pass them before an entry log holds them.
void Bookie::cache_synced(IoStatus status) {
  SL_ASSERT(cache_writing_);
  cache_writing_ = false;
  if (status != IoStatus::ok) {
    const std::uint64_t shift = cache_flushing_.bytes.size();
    for (CachedEntry e : cache_.entries) {
      e.cache_offset += shift;
      cache_flushing_.entries.push_back(e);
    }
    cache_flushing_.bytes.insert(cache_flushing_.bytes.end(), cache_.bytes.begin(),
                                 cache_.bytes.end());
    cache_flushing_.compacted.insert(cache_flushing_.compacted.end(), cache_.compacted.begin(),
                                     cache_.compacted.end());
    std::swap(cache_, cache_flushing_);
    cache_flushing_.clear();
    cache_backing_off_ = true;
    schedule_cache_flush();
    return;
  }
  for (const CachedEntry& e : cache_flushing_.entries) {
    count_usage(entry_log_id_, e.ledger, e.journal.length);
    if (e.entry < 0) continue;
    const auto it = index_.find({e.ledger, e.entry});
    if (it == index_.end() || it->second != e.journal) continue;
    it->second = Location{entry_log_end_ + e.cache_offset, e.journal.length, entry_log_id_, true};
  }
  entry_log_end_ += cache_flushing_.bytes.size();
  entry_logs_[entry_log_id_].bytes += cache_flushing_.bytes.size();
  const std::optional<JournalMark> covered = mark_of(cache_flushing_);
  // The copies are durable and indexed: the compacted logs hold nothing the index needs.
  for (const std::uint32_t compacted : cache_flushing_.compacted) {
    remove_entry_log(compacted);
    entry_logs_.erase(compacted);
  }
  cache_flushing_.clear();
  if (entry_log_end_ >= config_.entry_log_max_bytes) {
    ++entry_log_id_;
    entry_log_end_ = 0;
    entry_log_name_ = entry_log_file(entry_log_id_);
  }
  if (config_.checkpoint_after_flush && covered) checkpoint(*covered);
  schedule_cache_flush();
  flush();  // A journal batch held back by a full cache goes now.
}

// Where the journal stands once every record of `cache` is in an entry log: just past
// its newest journal record. The cache holds the journal's records in journal order, and
// every one of them, so nothing before that place is missing from the entry logs.
// Compacted records came from entry logs and move no mark; nullopt when only they are.
std::optional<JournalMark> Bookie::mark_of(const WriteCache& cache) const {
  SL_ASSERT(!cache.entries.empty());
  for (auto it = cache.entries.rbegin(); it != cache.entries.rend(); ++it) {
    if (!it->journal.entry_log) return JournalMark{it->journal.file, it->journal.offset + it->journal.length};
  }
  return std::nullopt;
}

// BookKeeper's checkpoint: the mark is written and synced, then the journals before it
// are deleted. One mark write at a time; a newer mark waits for it.
void Bookie::checkpoint(JournalMark mark) {
  if (mark <= mark_) return;
  if (marking_) {
    next_mark_ = std::max(next_mark_.value_or(mark), mark);
    return;
  }
  marking_ = true;
  mark_bytes_.clear();
  append_last_mark(mark, mark_bytes_);
  // Marks only grow, and the newest intact one counts: rewriting from the start is safe
  // even if a crash keeps older marks after the new one.
  const bool rewrite = mark_file_end_ >= kMarkFileRewriteBytes;
  const std::uint64_t at = rewrite ? 0 : mark_file_end_;
  writing_mark_ = mark;
  writing_mark_end_ = at + mark_bytes_.size();
  rt_.disk_write(kLastMarkFile, at, mark_bytes_, [this, rewrite, epoch = epoch_](IoStatus s) {
    if (epoch != epoch_) return;
    if (s != IoStatus::ok || !rewrite) {
      mark_written(s);
      return;
    }
    rt_.disk_truncate(kLastMarkFile, writing_mark_end_, [this, epoch](IoStatus t) {
      if (epoch == epoch_) mark_written(t);
    });
  });
}

void Bookie::mark_written(IoStatus status) {
  if (status != IoStatus::ok) {
    next_checkpoint();  // The journals stay; a later checkpoint tries again.
    return;
  }
  rt_.disk_fsync(kLastMarkFile, [this, epoch = epoch_](IoStatus s) {
    if (epoch != epoch_) return;
    if (s == IoStatus::ok) {
      mark_ = std::max(mark_, writing_mark_);
      mark_file_end_ = writing_mark_end_;
      delete_journals_before(mark_.journal);
    }
    next_checkpoint();
  });
}

void Bookie::next_checkpoint() {
  marking_ = false;
  if (!next_mark_) return;
  const JournalMark later = *next_mark_;
  next_mark_.reset();
  checkpoint(later);
}

// Only ledgers the bookie holds count: the records of one dropped meanwhile are garbage
// from the start.
void Bookie::count_usage(std::uint32_t entry_log, std::uint64_t ledger, std::uint64_t bytes) {
  if (ledgers_.contains(ledger)) entry_logs_[entry_log].by_ledger[ledger] += bytes;
}

// The journals wholly before the mark hold nothing the entry logs do not. A removal a
// crash interrupts is finished by the next restart.
void Bookie::delete_journals_before(std::uint32_t journal) {
  for (; oldest_journal_ < journal; ++oldest_journal_) {
    SL_ASSERT_NE(oldest_journal_, journal_id_);
    rt_.disk_remove(journal_file(oldest_journal_), [](IoStatus) {});
  }
}

}  // namespace streamlab::storage
