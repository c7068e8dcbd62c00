#pragma once

// Producer deduplication (REFERENCE.md "Deduplication", the Pulsar dedup cookbook): the
// highest sequence id per producer name, twice. "Pushed" counts what was handed to
// storage, "persisted" what storage confirmed. A message at or below pushed is a
// duplicate: already stored if at or below persisted, else still in flight. On a storage
// write error the topic is fenced and pushed goes back to persisted, since in-flight
// messages may never be stored. The persisted map is snapshotted into the dedup cursor
// every snapshot_interval entries; the next owner starts from the snapshot and replays
// the entries after it.

#include <cstdint>
#include <map>
#include <string>

#include "base/assert.h"

namespace streamlab::pulsar {

class Deduplication {
 public:
  enum class Verdict : std::uint8_t { accept, stored, in_flight };

  Deduplication(bool enabled, std::uint32_t snapshot_interval)
      : enabled_(enabled), snapshot_interval_(snapshot_interval) {
    SL_ASSERT_GT(snapshot_interval_, 0);
  }

  bool enabled() const { return enabled_; }

  void restore(const std::map<std::string, std::int64_t>& snapshot) {
    persisted_ = snapshot;
    pushed_ = snapshot;
  }
  // An entry found after the snapshot while replaying.
  void replayed(const std::string& producer, std::uint64_t highest) {
    raise(persisted_, producer, highest);
    raise(pushed_, producer, highest);
  }

  Verdict check(const std::string& producer, std::uint64_t sequence_id, std::uint64_t highest) {
    if (!enabled_) return Verdict::accept;
    const auto pushed = pushed_.find(producer);
    if (pushed != pushed_.end() && static_cast<std::int64_t>(sequence_id) <= pushed->second) {
      const auto persisted = persisted_.find(producer);
      const bool stored =
          persisted != persisted_.end() && static_cast<std::int64_t>(highest) <= persisted->second;
      return stored ? Verdict::stored : Verdict::in_flight;
    }
    raise(pushed_, producer, highest);
    return Verdict::accept;
  }

  // Storage confirmed an entry; true when a snapshot is due.
  bool persisted(const std::string& producer, std::uint64_t highest) {
    if (!enabled_) return false;
    raise(persisted_, producer, highest);
    return ++since_snapshot_ >= snapshot_interval_;
  }
  void snapshot_taken() { since_snapshot_ = 0; }

  void reset_pushed_to_persisted() { pushed_ = persisted_; }

  // -1 when nothing from this producer is stored (or deduplication is off).
  std::int64_t last_sequence(const std::string& producer) const {
    const auto it = persisted_.find(producer);
    return it == persisted_.end() ? -1 : it->second;
  }
  const std::map<std::string, std::int64_t>& persisted_map() const { return persisted_; }

 private:
  static void raise(std::map<std::string, std::int64_t>& m, const std::string& producer,
                    std::uint64_t seq) {
    auto [it, inserted] = m.emplace(producer, static_cast<std::int64_t>(seq));
    if (!inserted && it->second < static_cast<std::int64_t>(seq)) {
      it->second = static_cast<std::int64_t>(seq);
    }
  }

  bool enabled_;
  std::uint32_t snapshot_interval_;
  std::map<std::string, std::int64_t> pushed_;
  std::map<std::string, std::int64_t> persisted_;
  std::uint32_t since_snapshot_ = 0;
};

}  // namespace streamlab::pulsar
