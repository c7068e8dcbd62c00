#pragma once

// The ledger writers' record of a log in the metadata store: its ledger list, as stored
// under /logs/<log>/ledgers (decimal ids, comma-separated). The writers keep it; the
// ledger checker reads it back from the store's log.

#include <cstdint>
#include <string>
#include <vector>

namespace streamlab::workloads {

std::vector<std::uint64_t> parse_ledger_list(const std::string& text);
std::string format_ledger_list(const std::vector<std::uint64_t>& ledgers);

}  // namespace streamlab::workloads
