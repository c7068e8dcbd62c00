#pragma once

// Where a ledger's metadata lives in the metadata store: /ledgers/<id>. The ledger client
// writes it, bookies list it for garbage collection, checkers read it back.

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace streamlab::storage {

inline constexpr std::string_view kLedgersPrefix = "/ledgers/";

inline std::string ledger_key(std::uint64_t ledger_id) {
  return std::string(kLedgersPrefix) + std::to_string(ledger_id);
}

// The id a ledger_key names; nullopt for any other key.
inline std::optional<std::uint64_t> ledger_of_key(std::string_view key) {
  if (!key.starts_with(kLedgersPrefix)) return std::nullopt;
  const std::string_view digits = key.substr(kLedgersPrefix.size());
  std::uint64_t id = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size()) {
    return std::nullopt;
  }
  return id;
}

}  // namespace streamlab::storage
