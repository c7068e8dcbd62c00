#include "broker/storage/bookie.h"

#include <algorithm>

#include "base/assert.h"
#include "broker/storage/record_log.h"
#include "broker/storage/wire.h"

namespace streamlab::storage {

namespace {

// The whole journal is read at start; the runtimes return only the bytes that exist.
constexpr std::uint64_t kMaxJournalBytes = 1ULL << 40;
constexpr std::int64_t kRecoveryRetryNs = 10'000'000;
// BookKeeper's bookie defaults maxPendingAddRequestsPerThread and
// maxPendingReadRequestsPerThread = 10000: beyond them requests are refused, not queued.
constexpr std::size_t kMaxPendingAdds = 10'000;
constexpr std::size_t kMaxPendingReads = 10'000;

// Calls visit(framed, record) for every intact record in journal order. A record whose
// checksum holds but whose body is not a JournalRecord is skipped like a damaged one.
// Returns the framing: where the last intact record ends, and how much was skipped.
template <typename Visit>
FramedLog replay(std::span<const std::uint8_t> bytes, JournalRecord& record, Visit&& visit) {
  FramedLog log = parse_framed(bytes);
  for (const FramedRecord& framed : log.records) {
    if (!record.ParseFromArray(framed.body.data(), static_cast<int>(framed.body.size()))) {
      log.damaged_bytes += kRecordHeaderBytes + framed.body.size();
      continue;
    }
    visit(framed, record);
  }
  log.records.clear();
  return log;
}

// Reads of the journal at start that found damage in the middle, before it is believed:
// a bit flipped on the way from the device reads right the next time.
constexpr int kDamagedReadsBeforeSkipping = 3;

}  // namespace

JournalContents parse_journal(std::span<const std::uint8_t> bytes, std::size_t payload_prefix) {
  JournalContents contents;
  JournalRecord record;
  contents.valid_bytes =
      replay(bytes, record, [&contents, payload_prefix](const FramedRecord&, const JournalRecord& r) {
        if (r.fence()) {
          contents.fenced.insert(r.ledger_id());
          return;
        }
        // A recovery add rewrites an entry; the newest record is the one the index serves.
        StoredEntry& entry = contents.entries[{r.ledger_id(), r.entry_id()}];
        entry.lac = r.lac();
        entry.payload.assign(r.payload(), 0, payload_prefix);
        const auto [lac, inserted] = contents.lac.try_emplace(r.ledger_id(), r.lac());
        if (!inserted) lac->second = std::max(lac->second, r.lac());
      }).valid_bytes;
  return contents;
}

void Bookie::Batch::clear() {
  bytes.clear();
  adds.clear();
  fences.clear();
  fence_reads.clear();
}

Bookie::Bookie(Runtime& runtime, BookieConfig config) : rt_(runtime), config_(config) {
  SL_ASSERT_GE(config.journal_max_group_wait_ns, 0);
  SL_ASSERT_GT(config.journal_buffered_writes_threshold, 0);
  SL_ASSERT_GT(config.entry_log_flush_bytes, 0);
  SL_ASSERT_GT(config.entry_log_flush_interval_ns, 0);
  SL_ASSERT_GE(config.write_cache_max_bytes, config.entry_log_flush_bytes);
}

Bookie::~Bookie() = default;

bool Bookie::serving() const { return state_ == State::serving; }

void Bookie::on_start() { recover(); }

// [SECTION] Recovery

void Bookie::recover() {
  state_ = State::recovering;
  index_.clear();
  ledgers_.clear();
  journal_end_ = 0;
  // What the cache held is in the journal, where the rebuilt index finds it.
  cache_.bytes.clear();
  cache_.entries.clear();
  rt_.disk_read(kJournalFile, 0, kMaxJournalBytes,
                [this](IoStatus status, std::span<const std::uint8_t> bytes) {
                  recovered(status, bytes);
                });
}

void Bookie::retry_recovery() {
  // A latent read error: try again rather than serve from a journal we could not read.
  rt_.after(kRecoveryRetryNs, [this] { recover(); });
}

void Bookie::recovered(IoStatus status, std::span<const std::uint8_t> bytes) {
  SL_ASSERT_EQ(state_, State::recovering);
  SL_ASSERT(!writing_);
  if (status != IoStatus::ok) {
    retry_recovery();
    return;
  }
  const FramedLog log = replay(bytes, record_, [this](const FramedRecord& framed, const JournalRecord& r) {
    LedgerInfo& ledger = ledgers_[r.ledger_id()];
    if (r.fence()) {
      ledger.fence = Fence::durable;
      return;
    }
    index_[{r.ledger_id(), r.entry_id()}] =
        Location{framed.offset, kRecordHeaderBytes + framed.body.size()};
    ledger.lac = std::max(ledger.lac, r.lac());
  });
  if (log.damaged_bytes > 0 && ++damaged_reads_ < kDamagedReadsBeforeSkipping) {
    recover();  // Perhaps only this read was damaged: read again before skipping records.
    return;
  }
  damaged_reads_ = 0;
  journal_end_ = log.valid_bytes;
  if (journal_end_ < bytes.size()) {
    // Cut the torn tail so new records do not follow garbage.
    rt_.disk_truncate(kJournalFile, journal_end_, [this](IoStatus s) { tail_cut(s); });
  } else {
    tail_cut(IoStatus::ok);
  }
}

void Bookie::tail_cut(IoStatus status) {
  if (status != IoStatus::ok) {
    retry_recovery();
    return;
  }
  // Every record found counts as durable from now on (a fence found is answered at
  // once). After a failed journal fsync, or a process kill that left the page cache
  // behind, the journal may hold records that never reached the device: sync them first.
  if (config_.journal_sync_data) {
    rt_.disk_fsync(kJournalFile, [this](IoStatus s) { recovery_synced(s); });
  } else {
    recovery_synced(IoStatus::ok);
  }
}

void Bookie::recovery_synced(IoStatus status) {
  if (status != IoStatus::ok) {
    retry_recovery();
    return;
  }
  state_ = State::serving;
}

// [SECTION] Requests

void Bookie::on_message(NodeId from, std::span<const std::uint8_t> bytes) {
  if (!parse_message(bytes, &in_)) return;  // A malformed message never crashes a node.
  switch (in_.body_case()) {
    case StorageMessage::kAddEntry:
      handle_add(from, in_.add_entry());
      break;
    case StorageMessage::kReadEntry:
      handle_read(from, in_.read_entry());
      break;
    default:
      break;  // Not addressed to a bookie.
  }
}

void Bookie::handle_add(NodeId from, const AddEntry& add) {
  if (add.entry_id() < 0) return;  // Malformed: entry ids start at 0.
  if (state_ != State::serving) {
    reply_add(from, add.ledger_id(), add.entry_id(), BK_ERROR);
    return;
  }
  // BookKeeper: fenced bookies reject normal adds, recovery adds still pass. The fence
  // is checked when the add arrives, as upstream does: an add accepted into the journal
  // before the fencing read arrived completes normally, and is durable and indexed no
  // later than the fence record, so the fencing reader's recovery reads will see it.
  const auto ledger = ledgers_.find(add.ledger_id());
  if (!add.recovery() && ledger != ledgers_.end() && ledger->second.fence != Fence::none) {
    reply_add(from, add.ledger_id(), add.entry_id(), FENCED);
    return;
  }
  if (open_.adds.size() + in_flight_.adds.size() >= kMaxPendingAdds) {
    reply_add(from, add.ledger_id(), add.entry_id(), BK_ERROR);
    return;
  }
  rt_.charge(Work::journal_append, add.payload().size());
  const Location at =
      append_record(add.ledger_id(), add.entry_id(), add.lac(), add.payload(), false);
  open_.adds.push_back(JournalAdd{from, add.ledger_id(), add.entry_id(), add.lac(), at});
  appended();
}

void Bookie::handle_read(NodeId from, const ReadEntry& read) {
  const ReadRequest request{from, read.request_id(), read.ledger_id(), read.entry_id()};
  if (request.entry < -1) return;  // Malformed: -1 asks for the LAC only.
  if (state_ != State::serving || pending_reads() >= kMaxPendingReads) {
    reply_read(request, BK_ERROR, nullptr);
    return;
  }
  if (!read.fence()) {
    serve_read(request);
    return;
  }
  // BookKeeper: a bookie marks a ledger fenced even if it never saw it, and answers the
  // fencing read only once the fence is durable (journal record, fsynced when
  // journalSyncData is on), so a restart cannot forget a fence it reported.
  LedgerInfo& ledger = ledgers_[request.ledger];
  switch (ledger.fence) {
    case Fence::none:
      rt_.note("fences ledger " + std::to_string(request.ledger));
      append_record(request.ledger, -1, -1, {}, true);
      ledger.fence = Fence::open_batch;
      open_.fences.push_back(request.ledger);
      open_.fence_reads.push_back(request);
      appended();
      break;
    case Fence::open_batch:
      open_.fence_reads.push_back(request);
      break;
    case Fence::in_flight:
      in_flight_.fence_reads.push_back(request);
      break;
    case Fence::durable:
      serve_read(request);
      break;
  }
}

// [SECTION] Journal (group commit)

Bookie::Location Bookie::append_record(std::uint64_t ledger, std::int64_t entry,
                                       std::int64_t lac, const std::string& payload,
                                       bool fence) {
  record_.set_ledger_id(ledger);
  record_.set_entry_id(entry);
  record_.set_lac(lac);
  record_.set_payload(payload);
  record_.set_fence(fence);
  record_bytes_.resize(record_.ByteSizeLong());
  const bool serialized =
      record_.SerializeToArray(record_bytes_.data(), static_cast<int>(record_bytes_.size()));
  SL_ASSERT(serialized);
  const Location at{open_.bytes.size(), kRecordHeaderBytes + record_bytes_.size()};
  append_framed(record_bytes_, open_.bytes);
  return at;
}

void Bookie::appended() {
  // BookKeeper group commit: a batch is written journalMaxGroupWaitMSec after its first
  // entry, or as soon as it holds journalBufferedWritesThreshold bytes.
  if (!timer_armed_) {
    timer_armed_ = true;
    group_timer_ =
        rt_.after(config_.journal_max_group_wait_ns, [this] { group_wait_elapsed(); });
  }
  if (open_.bytes.size() >= config_.journal_buffered_writes_threshold) {
    batch_due_ = true;
    flush();
  }
}

void Bookie::group_wait_elapsed() {
  timer_armed_ = false;
  batch_due_ = true;
  flush();
}

void Bookie::flush() {
  // One write (and its fsync) at a time: what arrives meanwhile waits for the next batch.
  if (state_ != State::serving || writing_ || !batch_due_) return;
  if (cache_.bytes.size() >= config_.write_cache_max_bytes) return;  // Throttled.
  SL_ASSERT(!open_.bytes.empty());
  SL_ASSERT(in_flight_.bytes.empty());
  if (timer_armed_) {
    rt_.cancel(group_timer_);
    timer_armed_ = false;
  }
  batch_due_ = false;
  std::swap(open_, in_flight_);
  for (const std::uint64_t ledger : in_flight_.fences) {
    LedgerInfo& info = ledgers_[ledger];
    SL_ASSERT_EQ(info.fence, Fence::open_batch);
    info.fence = Fence::in_flight;
  }
  writing_ = true;
  rt_.disk_write(kJournalFile, journal_end_, in_flight_.bytes,
                 [this](IoStatus status) { written(status); });
}

void Bookie::written(IoStatus status) {
  SL_ASSERT(writing_);
  if (status != IoStatus::ok) {
    fail_journal();
    return;
  }
  // The index follows the write, so reads find only data that reached the journal; an
  // entry may be read before it is acknowledged, as upstream's ledger storage allows.
  const std::uint64_t base = journal_end_;
  journal_end_ += in_flight_.bytes.size();
  for (const JournalAdd& add : in_flight_.adds) {
    index_[{add.ledger, add.entry}] = Location{base + add.at.offset, add.at.length};
    LedgerInfo& ledger = ledgers_[add.ledger];
    ledger.lac = std::max(ledger.lac, add.lac);
  }
  // BookKeeper: with journalSyncData an entry is fsynced before the ack; with sync off
  // the ack follows the write, and a power loss can lose acknowledged entries.
  if (config_.journal_sync_data) {
    rt_.disk_fsync(kJournalFile, [this](IoStatus s) { durable(s); });
  } else {
    durable(IoStatus::ok);
  }
}

void Bookie::durable(IoStatus status) {
  SL_ASSERT(writing_);
  if (status != IoStatus::ok) {
    fail_journal();
    return;
  }
  for (const JournalAdd& add : in_flight_.adds) reply_add(add.from, add.ledger, add.entry, BK_OK);
  cache_entries();
  for (const std::uint64_t ledger : in_flight_.fences) {
    LedgerInfo& info = ledgers_[ledger];
    SL_ASSERT_EQ(info.fence, Fence::in_flight);
    info.fence = Fence::durable;
  }
  for (const ReadRequest& read : in_flight_.fence_reads) serve_read(read);
  in_flight_.clear();
  writing_ = false;
  flush();
}

void Bookie::fail_journal() {
  // A failed journal write or fsync: no add of the batch may be acknowledged, and what
  // the disk now holds is unknown (a failed fsync may have dropped dirty pages). Refuse
  // everything waiting, in both batches, and rebuild the state from the disk before
  // serving again; the client treats BK_ERROR as a failed bookie.
  for (Batch* batch : {&in_flight_, &open_}) {
    for (const JournalAdd& add : batch->adds) {
      reply_add(add.from, add.ledger, add.entry, BK_ERROR);
    }
    for (const ReadRequest& read : batch->fence_reads) reply_read(read, BK_ERROR, nullptr);
    batch->clear();
  }
  if (timer_armed_) {
    rt_.cancel(group_timer_);
    timer_armed_ = false;
  }
  writing_ = false;
  batch_due_ = false;
  recover();
}

// [SECTION] Ledger storage (write cache, entry log)

// Called once the in-flight batch is durable; written() has moved journal_end_ past it.
void Bookie::cache_entries() {
  SL_ASSERT_GE(journal_end_, in_flight_.bytes.size());
  const std::uint64_t base = journal_end_ - in_flight_.bytes.size();
  for (const JournalAdd& add : in_flight_.adds) {
    rt_.charge(Work::entry_write, add.at.length);
    const auto from = in_flight_.bytes.begin() + static_cast<std::ptrdiff_t>(add.at.offset);
    const Location journal{base + add.at.offset, add.at.length};
    cache_.entries.push_back(CachedEntry{add.ledger, add.entry, journal, cache_.bytes.size()});
    cache_.bytes.insert(cache_.bytes.end(), from, from + static_cast<std::ptrdiff_t>(add.at.length));
  }
  schedule_cache_flush();
}

// Full enough: now. Otherwise once the oldest cached entry has waited the interval.
void Bookie::schedule_cache_flush() {
  if (cache_.bytes.size() >= config_.entry_log_flush_bytes) {
    flush_cache();
  } else if (!cache_.bytes.empty() && !cache_timer_armed_) {
    cache_timer_armed_ = true;
    cache_timer_ = rt_.after(config_.entry_log_flush_interval_ns, [this] {
      cache_timer_armed_ = false;
      flush_cache();
      schedule_cache_flush();
    });
  }
}

void Bookie::flush_cache() {
  if (cache_writing_ || cache_.bytes.empty()) return;
  // The next deadline counts from the next cache's first entry.
  if (cache_timer_armed_) {
    rt_.cancel(cache_timer_);
    cache_timer_armed_ = false;
  }
  std::swap(cache_, cache_flushing_);
  cache_writing_ = true;
  rt_.disk_write(kEntryLogFile, entry_log_end_, cache_flushing_.bytes,
                 [this](IoStatus s) { cache_written(s); });
}

void Bookie::cache_written(IoStatus status) {
  if (status != IoStatus::ok) {
    cache_synced(status);
    return;
  }
  rt_.disk_fsync(kEntryLogFile, [this](IoStatus s) { cache_synced(s); });
}

// Entries move to the entry log only once it is durable, and only those the index still
// has where the cache found them (a recovery add may have rewritten one meanwhile). On an
// error they stay where the journal has them.
void Bookie::cache_synced(IoStatus status) {
  SL_ASSERT(cache_writing_);
  if (status == IoStatus::ok) {
    for (const CachedEntry& e : cache_flushing_.entries) {
      const auto it = index_.find({e.ledger, e.entry});
      if (it == index_.end() || it->second != e.journal) continue;
      it->second = Location{entry_log_end_ + e.cache_offset, e.journal.length, true};
    }
    entry_log_end_ += cache_flushing_.bytes.size();
  }
  cache_flushing_.bytes.clear();
  cache_flushing_.entries.clear();
  cache_writing_ = false;
  schedule_cache_flush();
  flush();  // A journal batch held back by a full cache goes now.
}

// [SECTION] Reads

void Bookie::serve_read(const ReadRequest& read) {
  if (read.entry == -1) {
    reply_read(read, BK_OK, nullptr);
    return;
  }
  const auto it = index_.find({read.ledger, read.entry});
  if (it == index_.end()) {
    reply_read(read, NO_ENTRY, nullptr);
    return;
  }
  rt_.charge(Work::entry_read, it->second.length);
  std::uint32_t slot;
  if (!free_reads_.empty()) {
    slot = free_reads_.back();
    free_reads_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(reads_.size());
    reads_.emplace_back();
  }
  reads_[slot] = read;
  rt_.disk_read(it->second.entry_log ? kEntryLogFile : kJournalFile, it->second.offset,
                it->second.length,
                [this, slot](IoStatus status, std::span<const std::uint8_t> bytes) {
                  entry_read(slot, status, bytes);
                });
}

void Bookie::entry_read(std::uint32_t slot, IoStatus status,
                        std::span<const std::uint8_t> bytes) {
  SL_ASSERT_LT(slot, reads_.size());
  const ReadRequest read = reads_[slot];
  free_reads_.push_back(slot);
  const auto body = unframe_one(bytes);
  // A read error, bit rot or a misdirected write must never be served as the entry.
  const bool found = status == IoStatus::ok && body.has_value() &&
                     record_.ParseFromArray(body->data(), static_cast<int>(body->size())) &&
                     !record_.fence() && record_.ledger_id() == read.ledger &&
                     record_.entry_id() == read.entry;
  if (!found) {
    reply_read(read, BK_ERROR, nullptr);
    return;
  }
  reply_read(read, BK_OK, record_.mutable_payload());
}

std::size_t Bookie::pending_reads() const {
  return reads_.size() - free_reads_.size() + open_.fence_reads.size() +
         in_flight_.fence_reads.size();
}

std::int64_t Bookie::lac_of(std::uint64_t ledger) const {
  const auto it = ledgers_.find(ledger);
  return it == ledgers_.end() ? -1 : it->second.lac;
}

// [SECTION] Replies

void Bookie::reply_add(NodeId to, std::uint64_t ledger, std::int64_t entry,
                       BookieStatus status) {
  AddResponse* r = add_out_.mutable_add_response();
  r->set_ledger_id(ledger);
  r->set_entry_id(entry);
  r->set_status(status);
  send_message(rt_, to, add_out_, send_buffer_);
}

void Bookie::reply_read(const ReadRequest& read, BookieStatus status, std::string* payload) {
  ReadResponse* r = read_out_.mutable_read_response();
  r->set_request_id(read.request_id);
  r->set_ledger_id(read.ledger);
  r->set_entry_id(read.entry);
  r->set_status(status);
  if (payload != nullptr) {
    r->mutable_payload()->swap(*payload);
  } else {
    r->clear_payload();
  }
  r->set_lac(lac_of(read.ledger));
  send_message(rt_, read.from, read_out_, send_buffer_);
}

}  // namespace streamlab::storage
