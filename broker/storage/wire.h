#pragma once

// Sending a StorageMessage: serialize into a reused buffer and hand the bytes to the
// runtime (DESIGN.md: messages cross the runtime as serialized Protobuf in both modes).

#include <cstdint>
#include <span>
#include <vector>

#include "base/assert.h"
#include "broker/storage/storage.pb.h"
#include "runtime/runtime.h"

namespace streamlab::storage {

inline void send_message(Runtime& rt, NodeId to, const StorageMessage& message,
                         std::vector<std::uint8_t>& buffer) {
  buffer.resize(message.ByteSizeLong());
  const bool serialized =
      message.SerializeToArray(buffer.data(), static_cast<int>(buffer.size()));
  SL_ASSERT(serialized);
  rt.send(to, buffer);
}

// False when the bytes are not a StorageMessage; a malformed message never crashes a node.
inline bool parse_message(std::span<const std::uint8_t> bytes, StorageMessage* message) {
  return message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

}  // namespace streamlab::storage
