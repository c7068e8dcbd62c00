#include "workloads/history/ledger_list.h"

#include <algorithm>

namespace streamlab::workloads {

std::vector<std::uint64_t> parse_ledger_list(const std::string& text) {
  std::vector<std::uint64_t> out;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t comma = std::min(text.find(',', at), text.size());
    out.push_back(std::stoull(text.substr(at, comma - at)));
    at = comma + 1;
  }
  return out;
}

std::string format_ledger_list(const std::vector<std::uint64_t>& ledgers) {
  std::string out;
  for (const std::uint64_t id : ledgers) out += (out.empty() ? "" : ",") + std::to_string(id);
  return out;
}

}  // namespace streamlab::workloads
