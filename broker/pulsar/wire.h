#pragma once

// Telling the broker layer's messages from the storage layer's on one connection, and
// sending them. PulsarMessage's fields are numbered from 64 and StorageMessage's below,
// and protobuf writes a oneof's one field first, so the first tag decides.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/assert.h"
#include "broker/pulsar/pulsar.pb.h"
#include "runtime/runtime.h"

namespace streamlab::pulsar {

inline constexpr std::uint32_t kFirstPulsarField = 64;
// A client or broker refuses a message larger than this (the real runtime's frames are
// bounded by kAsioMaxFrameBytes too): Pulsar's maxMessageSize is 5 MB.
inline constexpr std::size_t kMaxMessageBytes = 5u << 20;
// The transaction coordinator's name: owned, looked up and logged like a topic's.
inline constexpr const char* kTxnCoordinator = "__txn_coordinator";

// True when the bytes start with a PulsarMessage field tag.
inline bool is_pulsar_message(std::span<const std::uint8_t> bytes) {
  std::uint64_t tag = 0;
  for (std::size_t i = 0; i < bytes.size() && i < 5; ++i) {
    tag |= static_cast<std::uint64_t>(bytes[i] & 0x7f) << (7 * i);
    if ((bytes[i] & 0x80) == 0) return (tag >> 3) >= kFirstPulsarField;
  }
  return false;
}

inline void send_message(Runtime& rt, NodeId to, const PulsarMessage& message,
                         std::vector<std::uint8_t>& buffer) {
  buffer.resize(message.ByteSizeLong());
  const bool serialized =
      message.SerializeToArray(buffer.data(), static_cast<int>(buffer.size()));
  SL_ASSERT(serialized);
  rt.send(to, buffer);
}

// False when the bytes are not a well-formed PulsarMessage within the size bound.
inline bool parse_message(std::span<const std::uint8_t> bytes, PulsarMessage* message) {
  if (bytes.size() > kMaxMessageBytes) return false;
  return message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) &&
         message->body_case() != PulsarMessage::BODY_NOT_SET;
}

// FNV-1a: a key's hash for KEY_SHARED ranges (deterministic everywhere, unlike std::hash).
inline std::uint32_t key_hash(std::string_view key) {
  std::uint32_t h = 2166136261u;
  for (const char c : key) {
    h ^= static_cast<std::uint8_t>(c);
    h *= 16777619u;
  }
  return h;
}

// The request id of a client -> coordinator request (TxnInitOwner, TxnNew, TxnAddPart,
// TxnEnd); 0 for any other message.
inline std::uint64_t coordinator_request_id(const PulsarMessage& m) {
  switch (m.body_case()) {
    case PulsarMessage::kTxnInitOwner: return m.txn_init_owner().request_id();
    case PulsarMessage::kTxnNew: return m.txn_new().request_id();
    case PulsarMessage::kTxnAddPart: return m.txn_add_part().request_id();
    case PulsarMessage::kTxnEnd: return m.txn_end().request_id();
    default: return 0;
  }
}

inline std::string partition_name(const std::string& topic, std::uint32_t partition) {
  return topic + "-partition-" + std::to_string(partition);
}

}  // namespace streamlab::pulsar
