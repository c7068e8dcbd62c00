#pragma once

// The metadata store's state as its log describes it: keys with values, versions and
// ephemeral owners, and the open sessions. The store applies every record here before
// acknowledging, recovery replays the log into a fresh one, and checkers read the final
// state of a run from the log on disk the same way.

#include <cstdint>
#include <map>
#include <span>
#include <string>

#include "broker/storage/storage.pb.h"

namespace streamlab::storage {

struct KeyState {
  std::string value;
  std::int64_t version = 0;
  std::uint64_t ephemeral_owner = 0;  // Session id; 0: persistent.
};

struct SessionState {
  std::uint32_t owner = 0;  // The client's node id.
  std::int64_t timeout_ns = 0;
};

struct MetadataState {
  std::map<std::string, KeyState, std::less<>> keys;
  std::map<std::uint64_t, SessionState> sessions;
  std::uint64_t max_session_id = 0;

  // Total over every record: a record that does not fit the state (a removed key that
  // is absent, a closed session that is unknown) changes nothing, because a misdirected
  // write can put an intact but out-of-place record in the log, and a disk fault must
  // not stop the store.
  void apply(const MetaLogRecord& record);
};

struct ReplayedLog {
  MetadataState state;
  std::uint64_t valid_bytes = 0;    // Where the last intact record ends.
  std::uint64_t damaged_bytes = 0;  // Skipped before that: damaged records mid-log.
};

// Replays every intact record of a log (as written by the store); damaged ones in the
// middle (or whose body is not a MetaLogRecord) are skipped, and what follows the last
// intact record is a torn tail.
ReplayedLog replay_metadata_log(std::span<const std::uint8_t> bytes);

inline constexpr const char* kMetadataLogFile = "metadata.log";

}  // namespace streamlab::storage
