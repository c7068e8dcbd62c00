// The bookie's garbage collection and compaction (bookie.h): ledgers gone from the
// metadata store leave the index, entry logs without a live ledger are deleted, and the
// mostly dead entry logs are rewritten into the current one.

#include <algorithm>
#include <iterator>
#include <limits>

#include "base/assert.h"
#include "broker/storage/bookie.h"
#include "broker/storage/ledger_keys.h"

namespace streamlab::storage {

// A pass every interval, unless the last one is still under way; a restart of the
// storage state abandons a pass (recover() clears collecting_).
void Bookie::schedule_gc() {
  rt_.after(config_.gc_interval_ns, [this] {
    schedule_gc();
    collect_garbage();
  });
}

// The first tick opens the metadata session, the passes start with the next: a bookie
// talks to the store only once it has garbage to look for.
void Bookie::collect_garbage() {
  if (!metadata_) {
    metadata_.emplace(rt_, config_.gc_metadata);
    metadata_->start([](SessionEvent) {}, [](const WatchEvent&) {});
    return;
  }
  if (state_ != State::serving || collecting_ || !metadata_->has_session()) return;
  collecting_ = true;
  compaction_tried_.clear();
  // The ledgers held before the listing starts: each was created in the store before its
  // first record reached this bookie, so a listing that lacks it saw it deleted.
  std::vector<std::uint64_t> held;
  held.reserve(ledgers_.size());
  for (const auto& [ledger, info] : ledgers_) held.push_back(ledger);
  metadata_->list(std::string(kLedgersPrefix),
                  [this, epoch = epoch_, held = std::move(held)](const MetaResult& r) mutable {
                    if (epoch != epoch_ || r.status != META_OK) {
                      gc_done();
                      return;
                    }
                    ledgers_listed(std::move(held), r);
                  });
}

void Bookie::ledgers_listed(std::vector<std::uint64_t> held, const MetaResult& listed) {
  std::vector<std::uint64_t> present;
  present.reserve(listed.keys.size());
  for (const std::string& key : listed.keys) {
    if (const auto id = ledger_of_key(key)) present.push_back(*id);
  }
  std::sort(present.begin(), present.end());
  std::vector<std::uint64_t> candidates;
  std::set_difference(held.begin(), held.end(), present.begin(), present.end(),
                      std::back_inserter(candidates));
  if (candidates.empty()) {
    compact_one();
    return;
  }
  verifying_ = static_cast<std::uint32_t>(candidates.size());
  for (const std::uint64_t ledger : candidates) {
    metadata_->get(ledger_key(ledger), false, [this, ledger, epoch = epoch_](const MetaResult& r) {
      if (epoch == epoch_) verified(ledger, r);
    });
  }
}

void Bookie::verified(std::uint64_t ledger, const MetaResult& result) {
  SL_ASSERT_GT(verifying_, 0u);
  // Only the store's word that the key is gone drops data; a lost reply keeps it.
  if (result.status == NO_KEY) drop_ledger(ledger);
  if (--verifying_ > 0) return;
  drop_dead_entry_logs();
  compact_one();
}

void Bookie::drop_ledger(std::uint64_t ledger) {
  rt_.note("gc drops ledger " + std::to_string(ledger));
  constexpr std::int64_t kFirst = std::numeric_limits<std::int64_t>::min();
  index_.erase(index_.lower_bound({ledger, kFirst}), index_.lower_bound({ledger + 1, kFirst}));
  ledgers_.erase(ledger);
  for (auto& [id, usage] : entry_logs_) usage.by_ledger.erase(ledger);
}

void Bookie::drop_dead_entry_logs() {
  for (auto it = entry_logs_.begin(); it != entry_logs_.end();) {
    const bool dead = it->first != entry_log_id_ && it->second.by_ledger.empty() &&
                      !it->second.compacting;
    if (!dead) {
      ++it;
      continue;
    }
    remove_entry_log(it->first);
    it = entry_logs_.erase(it);
  }
}

// The entry log with the smallest live share under the threshold not tried yet in this
// pass, if any: its records the index points to, and the fence records of ledgers still
// held, go to the write cache; cache_synced deletes the log once they are durable
// elsewhere. Then the next, until none is left (BookKeeper's doCompactEntryLogs): one
// log a pass would fall behind a bookie that fills logs faster than the passes come.
void Bookie::compact_one() {
  std::optional<std::uint32_t> chosen;
  double lowest = config_.compaction_threshold;
  for (const auto& [id, usage] : entry_logs_) {
    if (id == entry_log_id_ || usage.compacting || usage.bytes == 0 ||
        compaction_tried_.contains(id)) {
      continue;
    }
    std::uint64_t live = 0;
    for (const auto& [ledger, bytes] : usage.by_ledger) live += bytes;
    const double share = static_cast<double>(live) / static_cast<double>(usage.bytes);
    if (share < lowest) {
      lowest = share;
      chosen = id;
    }
  }
  if (!chosen) {
    gc_done();
    return;
  }
  entry_logs_[*chosen].compacting = true;
  compaction_tried_.insert(*chosen);
  rt_.disk_read(entry_log_file(*chosen), 0, kWholeFile,
                [this, id = *chosen, epoch = epoch_](IoStatus s, std::span<const std::uint8_t> bytes) {
                  if (epoch == epoch_) compaction_read(id, s, bytes);
                });
}

void Bookie::compaction_read(std::uint32_t entry_log, IoStatus status,
                             std::span<const std::uint8_t> bytes) {
  const auto usage = entry_logs_.find(entry_log);
  SL_ASSERT(usage != entry_logs_.end());
  if (status != IoStatus::ok || state_ != State::serving) {
    usage->second.compacting = false;  // The next pass tries again.
    gc_done();
    return;
  }
  // A bit flipped on the read, or a torn tail, hides records: if any the index points
  // into this log is missing from what was read, copying the rest and deleting the log
  // would lose it. The next pass reads the log again.
  std::size_t indexed = 0;
  for (const auto& [key, at] : index_) indexed += at.entry_log && at.file == entry_log ? 1 : 0;
  struct Live {
    std::uint64_t ledger;
    std::int64_t entry;  // -1: a fence record.
    Location at;
  };
  std::vector<Live> live;
  const FramedLog log =
      replay_records(bytes, 0, record_, [&](const FramedRecord& framed, const JournalRecord& r) {
        const Location at{framed.offset, kRecordHeaderBytes + framed.body.size(), entry_log, true};
        if (r.fence()) {
          const auto ledger = ledgers_.find(r.ledger_id());
          if (ledger != ledgers_.end() && ledger->second.fence == Fence::durable) {
            live.push_back({r.ledger_id(), -1, at});
          }
          return;
        }
        const auto it = index_.find({r.ledger_id(), r.entry_id()});
        if (it == index_.end() || it->second != at) return;
        live.push_back({r.ledger_id(), r.entry_id(), at});
      });
  const auto found =
      std::count_if(live.begin(), live.end(), [](const Live& l) { return l.entry >= 0; });
  if (log.damaged_bytes > 0 || static_cast<std::size_t>(found) != indexed) {
    rt_.note("compaction of " + entry_log_file(entry_log) + " put off: the read was damaged");
    usage->second.compacting = false;
    compact_one();
    return;
  }
  std::uint64_t copied = 0;
  for (const Live& l : live) {
    cache_record(l.ledger, l.entry, l.at, bytes.subspan(l.at.offset, l.at.length));
    copied += l.at.length;
  }
  rt_.note("compacts " + entry_log_file(entry_log) + ": " + std::to_string(copied) + " of " +
           std::to_string(usage->second.bytes) + " bytes live");
  if (copied == 0) {
    remove_entry_log(entry_log);
    entry_logs_.erase(usage);
  } else {
    cache_.compacted.push_back(entry_log);
    schedule_cache_flush();
  }
  compact_one();
}

void Bookie::gc_done() { collecting_ = false; }

// Nothing may still be read from the log: the index points elsewhere for every entry.
void Bookie::remove_entry_log(std::uint32_t entry_log) {
  SL_ASSERT_NE(entry_log, entry_log_id_);
  for (const auto& [key, at] : index_) {
    SL_ASSERT_MSG(!(at.entry_log && at.file == entry_log),
                  "an entry log with indexed entries is being deleted");
  }
  rt_.disk_remove(entry_log_file(entry_log), [](IoStatus) {});
}

}  // namespace streamlab::storage
