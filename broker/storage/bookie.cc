#include "broker/storage/bookie.h"

#include <algorithm>

#include "base/assert.h"
#include "broker/storage/record_log.h"
#include "broker/storage/wire.h"

namespace streamlab::storage {

namespace {

// BookKeeper's bookie defaults maxPendingAddRequestsPerThread and
// maxPendingReadRequestsPerThread = 10000: beyond them requests are refused, not queued.
constexpr std::size_t kMaxPendingAdds = 10'000;
constexpr std::size_t kMaxPendingReads = 10'000;

}  // namespace

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
  SL_ASSERT_GT(config.journal_max_bytes, 0);
  SL_ASSERT_GT(config.entry_log_max_bytes, 0);
  SL_ASSERT_GT(config.gc_interval_ns, 0);
  SL_ASSERT(config.compaction_threshold >= 0.0 && config.compaction_threshold <= 1.0);
}

Bookie::~Bookie() = default;

bool Bookie::serving() const { return state_ == State::serving; }

void Bookie::on_start() {
  recover();
  if (!config_.gc_metadata.store.empty()) schedule_gc();
}

void Bookie::on_connection_broken(NodeId peer) {
  if (metadata_) metadata_->on_connection_broken(peer);
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
      // The metadata store's replies; anything else is not addressed to a bookie.
      if (metadata_) metadata_->handle(from, in_);
      break;
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
      open_.adds.push_back(JournalAdd{kNoNode, request.ledger, -1, -1,
                                      append_record(request.ledger, -1, -1, {}, true)});
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
  if (journal_end_ >= config_.journal_max_bytes) {
    // BookKeeper rotates the journal at journalMaxSizeMB; the checkpoint deletes old ones.
    ++journal_id_;
    journal_end_ = 0;
    journal_name_ = journal_file(journal_id_);
  }
  std::swap(open_, in_flight_);
  for (const std::uint64_t ledger : in_flight_.fences) {
    LedgerInfo& info = ledgers_[ledger];
    SL_ASSERT_EQ(info.fence, Fence::open_batch);
    info.fence = Fence::in_flight;
  }
  writing_ = true;
  rt_.disk_write(journal_name_, journal_end_, in_flight_.bytes,
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
    if (add.entry < 0) continue;  // A fence record.
    index_[{add.ledger, add.entry}] = Location{base + add.at.offset, add.at.length, journal_id_};
    LedgerInfo& ledger = ledgers_[add.ledger];
    ledger.lac = std::max(ledger.lac, add.lac);
  }
  // BookKeeper: with journalSyncData an entry is fsynced before the ack; with sync off
  // the ack follows the write, and a power loss can lose acknowledged entries.
  if (config_.journal_sync_data) {
    rt_.disk_fsync(journal_name_, [this](IoStatus s) { durable(s); });
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
  for (const JournalAdd& add : in_flight_.adds) {
    if (add.from != kNoNode) reply_add(add.from, add.ledger, add.entry, BK_OK);
  }
  cache_batch();
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
      if (add.from != kNoNode) reply_add(add.from, add.ledger, add.entry, BK_ERROR);
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
  const Location& at = it->second;
  rt_.disk_read(at.entry_log ? entry_log_file(at.file) : journal_file(at.file), at.offset, at.length,
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
