#include "workloads/history/pipeline_payload.h"

#include <charconv>

namespace streamlab::workloads {

namespace {

constexpr std::size_t kNumberBytes = 8;

}  // namespace

std::string encode_pipeline_payload(std::uint64_t number, const PipelineSource& source) {
  std::string out(kNumberBytes, '\0');
  for (std::size_t i = 0; i < kNumberBytes; ++i) out[i] = static_cast<char>(number >> (8 * i));
  out += kPipelineSourceTag;
  out += source.partition;
  out += '|';
  out += source.producer;
  out += '|';
  out += std::to_string(source.seq);
  out += '\n';
  return out;
}

std::optional<PipelineSource> decode_pipeline_source(std::string_view payload) {
  if (payload.size() < kNumberBytes) return std::nullopt;
  std::string_view rest = payload.substr(kNumberBytes);
  if (!rest.starts_with(kPipelineSourceTag)) return std::nullopt;
  rest.remove_prefix(kPipelineSourceTag.size());
  const std::size_t end = rest.find('\n');
  if (end == std::string_view::npos) return std::nullopt;
  rest = rest.substr(0, end);
  const std::size_t a = rest.find('|');
  const std::size_t b = a == std::string_view::npos ? a : rest.find('|', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  PipelineSource s;
  s.partition = std::string(rest.substr(0, a));
  s.producer = std::string(rest.substr(a + 1, b - a - 1));
  const std::string_view digits = rest.substr(b + 1);
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), s.seq);
  if (ec != std::errc{} || ptr != digits.data() + digits.size()) return std::nullopt;
  return s;
}

}  // namespace streamlab::workloads
