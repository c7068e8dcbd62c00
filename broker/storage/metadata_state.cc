#include "broker/storage/metadata_state.h"

#include <algorithm>

#include "broker/storage/record_log.h"

namespace streamlab::storage {

void MetadataState::apply(const MetaLogRecord& record) {
  switch (record.kind_case()) {
    case MetaLogRecord::kSessionOpened: {
      const SessionOpened& opened = record.session_opened();
      sessions[opened.session_id()] = SessionState{opened.owner(), opened.timeout_ns()};
      max_session_id = std::max(max_session_id, opened.session_id());
      return;
    }
    case MetaLogRecord::kSessionClosed:
      // The store logs the removal of the session's ephemeral keys before this record.
      sessions.erase(record.session_closed());
      return;
    case MetaLogRecord::kPut: {
      const KeyPut& put = record.put();
      keys[put.key()] = KeyState{put.value(), put.version(), put.ephemeral_owner()};
      return;
    }
    case MetaLogRecord::kRemoved: {
      const auto it = keys.find(record.removed());
      if (it != keys.end()) keys.erase(it);
      return;
    }
    case MetaLogRecord::KIND_NOT_SET:
      return;
  }
}

ReplayedLog replay_metadata_log(std::span<const std::uint8_t> bytes) {
  const FramedLog framed = parse_framed(bytes);
  ReplayedLog out;
  out.valid_bytes = framed.valid_bytes;
  out.damaged_bytes = framed.damaged_bytes;
  MetaLogRecord record;
  for (const FramedRecord& r : framed.records) {
    if (!record.ParseFromArray(r.body.data(), static_cast<int>(r.body.size()))) {
      out.damaged_bytes += kRecordHeaderBytes + r.body.size();
      continue;
    }
    out.state.apply(record);
  }
  return out;
}

}  // namespace streamlab::storage
