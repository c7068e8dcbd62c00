#pragma once

// What a consume-transform-produce pipeline (workloads/txn_client.h) writes: its own
// message number first (kQueuePayloadHeader bytes, as every queue workload message), then
// the identity of the input message it was made from, so the checker can tell one input
// transformed twice (a pipeline duplicate) from the log alone.
//
//   payload = number (u64 little-endian) "src:" <input partition> '|' <input producer>
//             '|' <input number, decimal> '\n'

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace streamlab::workloads {

struct PipelineSource {
  std::string partition;  // The input's partition topic ("in-partition-0", or "in").
  std::string producer;
  std::uint64_t seq = 0;
  auto operator<=>(const PipelineSource&) const = default;
};

inline constexpr std::string_view kPipelineSourceTag = "src:";

std::string encode_pipeline_payload(std::uint64_t number, const PipelineSource& source);
// The source of a pipeline's output message; nullopt for any other payload.
std::optional<PipelineSource> decode_pipeline_source(std::string_view payload);

}  // namespace streamlab::workloads
