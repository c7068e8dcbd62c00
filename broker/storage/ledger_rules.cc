#include "broker/storage/ledger_rules.h"

#include "base/assert.h"

namespace streamlab::storage {

std::string check_quorums(const Quorums& q) {
  if (q.ack_quorum < 1) return "ack quorum must be >= 1";
  if (q.write_quorum < q.ack_quorum) {
    return "ack quorum (" + std::to_string(q.ack_quorum) + ") must be <= write quorum (" +
           std::to_string(q.write_quorum) + ")";
  }
  if (q.ensemble > 32) return "ensemble size (" + std::to_string(q.ensemble) + ") must be <= 32";
  if (q.ensemble < q.write_quorum) {
    return "write quorum (" + std::to_string(q.write_quorum) + ") must be <= ensemble size (" +
           std::to_string(q.ensemble) + ")";
  }
  return "";
}

bool in_write_set(std::int64_t entry, std::uint32_t bookie, const Quorums& q) {
  SL_ASSERT_LT(bookie, q.ensemble);
  const std::uint32_t first = write_set_member(entry, 0, q);
  const std::uint32_t distance = (bookie + q.ensemble - first) % q.ensemble;
  return distance < q.write_quorum;
}

RecoveryVerdict judge_recovery_read(std::uint32_t ok, std::uint32_t no_entry,
                                    std::uint32_t errors, const Quorums& q) {
  SL_ASSERT_LE(ok + no_entry + errors, q.write_quorum);
  if (ok > 0) return RecoveryVerdict::recoverable;
  if (no_entry >= no_entry_quorum(q)) return RecoveryVerdict::absent;
  if (ok + no_entry + errors == q.write_quorum) return RecoveryVerdict::unknown;
  return RecoveryVerdict::waiting;
}

int fragment_of(const LedgerMetadata& metadata, std::int64_t entry) {
  SL_ASSERT_GT(metadata.fragments_size(), 0);
  SL_ASSERT_GE(entry, 0);
  int found = 0;
  for (int i = 0; i < metadata.fragments_size(); ++i) {
    if (metadata.fragments(i).first_entry() <= entry) found = i;
  }
  return found;
}

Quorums quorums_of(const LedgerMetadata& metadata) {
  return Quorums{metadata.ensemble_size(), metadata.write_quorum(), metadata.ack_quorum()};
}

bool parse_ledger_metadata(const std::string& bytes, LedgerMetadata* out) {
  return out->ParseFromString(bytes) && out->fragments_size() > 0;
}

std::vector<std::string> bookies_of(const Fragment& fragment) {
  return {fragment.bookies().begin(), fragment.bookies().end()};
}

bool same_fragments(const LedgerMetadata& a, const LedgerMetadata& b) {
  if (a.fragments_size() != b.fragments_size()) return false;
  for (int i = 0; i < a.fragments_size(); ++i) {
    if (a.fragments(i).SerializeAsString() != b.fragments(i).SerializeAsString()) return false;
  }
  return true;
}

}  // namespace streamlab::storage
