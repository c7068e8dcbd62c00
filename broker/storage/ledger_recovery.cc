// The ledger client's open, fencing and recovery (ledger_client.h; REFERENCE.md
// "BookKeeper", fencing and recovery), as a state machine over Recovery::step.

#include "broker/storage/ledger_client.h"

#include <algorithm>
#include <bit>

#include "base/assert.h"
#include "broker/storage/wire.h"

namespace streamlab::storage {

namespace {

// Recovery restarts from the metadata when a compare-and-set loses a race; beyond this
// many tries something else keeps changing the ledger and the open fails.
constexpr int kMaxRecoveryAttempts = 10;

}  // namespace

LedgerClient::Recovery* LedgerClient::find_recovery(std::uint64_t recovery_id) {
  const auto it = recoveries_.find(recovery_id);
  return it == recoveries_.end() ? nullptr : &it->second;
}

void LedgerClient::open(std::uint64_t ledger_id, bool recovery, OpenCallback done) {
  const std::uint64_t id = next_recovery_id_++;
  Recovery& r = recoveries_[id];
  r.id = id;
  r.ledger_id = ledger_id;
  r.recover = recovery;
  r.done = std::move(done);
  recovery_read_metadata(r);
}

void LedgerClient::recovery_read_metadata(Recovery& r) {
  r.step = RecoveryStep::metadata;
  const std::uint64_t id = r.id;
  metadata_.get(ledger_key(r.ledger_id), false, [this, id](const MetaResult& m) {
    Recovery* r = find_recovery(id);
    if (r == nullptr) return;
    if (m.status == NO_KEY) {
      finish_recovery(*r, LedgerError::no_such_ledger, -1);
      return;
    }
    if (m.status != META_OK) {
      if (++r->attempts > kMaxRecoveryAttempts) {
        finish_recovery(*r, LedgerError::metadata_error, -1);
      } else {
        after_metadata_retry([this, id] {
          if (Recovery* again = find_recovery(id)) recovery_read_metadata(*again);
        });
      }
      return;
    }
    if (!parse_ledger_metadata(m.value, &r->metadata)) {
      finish_recovery(*r, LedgerError::no_such_ledger, -1);
      return;
    }
    r->version = m.version;
    if (r->metadata.state() == CLOSED) {
      finish_recovery(*r, LedgerError::ok, r->metadata.last_entry_id());
      return;
    }
    if (r->recover) {
      recovery_mark(*r);
    } else {
      recovery_fence(*r);
    }
  });
}

// The new writer first sets the ledger IN_RECOVERY by compare-and-set (REFERENCE:
// fencing and recovery): the old writer's next ensemble change then fails.
void LedgerClient::recovery_mark(Recovery& r) {
  r.step = RecoveryStep::marking;
  LedgerMetadata marked = r.metadata;
  marked.set_state(IN_RECOVERY);
  const std::uint64_t id = r.id;
  metadata_.set(ledger_key(r.ledger_id), serialize(marked), r.version,
                [this, id, marked](const MetaResult& m) {
                  Recovery* r = find_recovery(id);
                  if (r == nullptr) return;
                  if (m.status != META_OK) {
                    // Lost a race (the writer changed its ensemble) or the reply: start over.
                    if (++r->attempts > kMaxRecoveryAttempts) {
                      finish_recovery(*r, LedgerError::metadata_error, -1);
                      return;
                    }
                    after_metadata_retry([this, id] {
                      if (Recovery* again = find_recovery(id)) recovery_read_metadata(*again);
                    });
                    return;
                  }
                  r->metadata = marked;
                  r->version = m.version;
                  recovery_fence(*r);
                });
}

void LedgerClient::ask(Recovery& r, NodeId bookie, std::int64_t entry, bool fence) {
  const std::uint64_t request = next_request_id_++;
  reads_[request] = ReadRequest{r.id, bookie};
  out_.Clear();
  ReadEntry* read = out_.mutable_read_entry();
  read->set_request_id(request);
  read->set_ledger_id(r.ledger_id);
  read->set_entry_id(entry);
  read->set_fence(fence);
  send_message(rt_, bookie, out_, send_buffer_);
}

void LedgerClient::arm_recovery_timer(Recovery& r, std::int64_t delay_ns) {
  if (r.timer != 0) rt_.cancel(r.timer);
  const std::uint64_t id = r.id;
  r.timer = rt_.after(delay_ns, [this, id] { recovery_timed_out(id); });
}

// Fencing reads of the LAC go to every bookie of the last fragment; recovery waits for
// (E - Qa) + 1 of them. A bookie fences a ledger even if it never saw it.
void LedgerClient::recovery_fence(Recovery& r) {
  r.step = RecoveryStep::fencing;
  r.ok = r.no_entry = r.errors = 0;
  r.max_lac = -1;
  r.read_metadata = r.metadata;
  const Fragment& last = r.metadata.fragments(r.metadata.fragments_size() - 1);
  r.asked.clear();
  const bool fence = r.recover && config_.recovery_fencing;
  for (const std::string& b : last.bookies()) {
    r.asked.push_back(bookie_id(b));
    ask(r, r.asked.back(), -1, fence);
  }
  arm_recovery_timer(r, config_.read_timeout_ns);
}

void LedgerClient::recovery_reply(Recovery& r, NodeId from, const ReadResponse& response) {
  const Quorums q = quorums_of(r.metadata);
  if (r.step == RecoveryStep::fencing) {
    if (response.status() == BK_OK) {
      ++r.ok;
      r.max_lac = std::max(r.max_lac, response.lac());
    } else {
      ++r.errors;
    }
    if (r.ok >= fence_quorum(q)) {
      if (!r.recover) {
        finish_recovery(r, LedgerError::ok, r.max_lac);
        return;
      }
      // Recovery reads start after the highest LAC seen.
      r.entry = r.max_lac + 1;
      recovery_read(r);
    } else if (r.errors > q.ensemble - fence_quorum(q)) {
      finish_recovery(r, LedgerError::recovery_failed, -1);
    }
    return;
  }
  if (r.step != RecoveryStep::reading || response.entry_id() != r.entry) return;
  if (response.status() == BK_OK) {
    if (r.ok == 0) r.payload = response.payload();
    ++r.ok;
  } else if (response.status() == NO_ENTRY) {
    ++r.no_entry;
  } else {
    ++r.errors;
  }
  switch (judge_recovery_read(r.ok, r.no_entry, r.errors, q)) {
    case RecoveryVerdict::waiting:
      return;
    case RecoveryVerdict::recoverable:
      recovery_rewrite(r);
      return;
    case RecoveryVerdict::absent:
      recovery_close(r, r.entry - 1);
      return;
    case RecoveryVerdict::unknown:
      finish_recovery(r, LedgerError::recovery_failed, -1);
      return;
  }
}

void LedgerClient::recovery_bookie_lost(Recovery& r, NodeId bookie) {
  if (r.step == RecoveryStep::rewriting) {
    for (std::uint32_t p = 0; p < r.asked.size(); ++p) {
      if (r.asked[p] == bookie && ((r.rewrite_acked >> p) & 1u) == 0) {
        recovery_replace(r, p);
        return;
      }
    }
    return;
  }
  ReadResponse failed;
  failed.set_status(BK_ERROR);
  failed.set_entry_id(r.step == RecoveryStep::reading ? r.entry : -1);
  recovery_reply(r, bookie, failed);
}

// Recovery reads fence too, and go to the entry's write set in the fragment that holds it.
void LedgerClient::recovery_read(Recovery& r) {
  r.step = RecoveryStep::reading;
  r.ok = r.no_entry = r.errors = 0;
  r.payload.clear();
  // Replies of the previous step still in flight are now moot.
  for (auto it = reads_.begin(); it != reads_.end();) {
    it = it->second.recovery_id == r.id ? reads_.erase(it) : std::next(it);
  }
  const Quorums q = quorums_of(r.read_metadata);
  const Fragment& fragment = r.read_metadata.fragments(fragment_of(r.read_metadata, r.entry));
  r.asked.clear();
  for (std::uint32_t i = 0; i < q.write_quorum; ++i) {
    const NodeId b = bookie_id(fragment.bookies(static_cast<int>(write_set_member(r.entry, i, q))));
    r.asked.push_back(b);
    ask(r, b, r.entry, config_.recovery_fencing);
  }
  arm_recovery_timer(r, config_.read_timeout_ns);
}

// Recovered entries are rewritten (recovery adds pass the fence) before the close.
void LedgerClient::recovery_rewrite(Recovery& r) {
  r.step = RecoveryStep::rewriting;
  r.rewrite_acked = 0;
  for (auto it = reads_.begin(); it != reads_.end();) {
    it = it->second.recovery_id == r.id ? reads_.erase(it) : std::next(it);
  }
  const Quorums q = quorums_of(r.metadata);
  const Fragment& fragment = r.metadata.fragments(fragment_of(r.metadata, r.entry));
  out_.Clear();
  AddEntry* a = out_.mutable_add_entry();
  a->set_ledger_id(r.ledger_id);
  a->set_entry_id(r.entry);
  a->set_lac(r.entry - 1);
  a->set_payload(r.payload);
  a->set_recovery(true);
  r.asked.assign(q.ensemble, kNoNode);
  for (std::uint32_t i = 0; i < q.write_quorum; ++i) {
    const std::uint32_t p = write_set_member(r.entry, i, q);
    r.asked[p] = bookie_id(fragment.bookies(static_cast<int>(p)));
    send_message(rt_, r.asked[p], out_, send_buffer_);
  }
  arm_recovery_timer(r, config_.add_timeout_ns);
}

void LedgerClient::recovery_add_reply(Recovery& r, NodeId from, const AddResponse& response) {
  if (response.entry_id() != r.entry) return;
  const Quorums q = quorums_of(r.metadata);
  for (std::uint32_t p = 0; p < r.asked.size(); ++p) {
    if (r.asked[p] != from) continue;
    if (response.status() != BK_OK) {
      recovery_replace(r, p);
      return;
    }
    r.rewrite_acked |= 1u << p;
  }
  if (static_cast<std::uint32_t>(std::popcount(r.rewrite_acked)) >= q.ack_quorum) {
    ++r.entry;
    recovery_read(r);
  }
}

void LedgerClient::recovery_timed_out(std::uint64_t recovery_id) {
  Recovery* r = find_recovery(recovery_id);
  if (r == nullptr) return;
  r->timer = 0;
  if (r->step == RecoveryStep::rewriting) {
    for (std::uint32_t p = 0; p < r->asked.size(); ++p) {
      if (r->asked[p] != kNoNode && ((r->rewrite_acked >> p) & 1u) == 0) {
        recovery_replace(*r, p);
        return;
      }
    }
  }
  if (r->step == RecoveryStep::fencing || r->step == RecoveryStep::reading ||
      r->step == RecoveryStep::rewriting) {
    finish_recovery(*r, LedgerError::recovery_failed, -1);
  }
}

// A bookie of the rewrite's write set failed: replace it as a writer would, by an
// ensemble change from this entry on, and rewrite the entry there. The change stays in
// this recovery until the close writes it with the CLOSED state (BookKeeper: "recovery
// uses immutable metadata"). Published now, it would outlive a recovery that fails later:
// the next recovery would read the entries after it from the replacement, which holds
// only what this one rewrote, and call the old writer's acknowledged entries absent.
// Reads keep the metadata as fenced for the same reason.
void LedgerClient::recovery_replace(Recovery& r, std::uint32_t position) {
  const int last = r.metadata.fragments_size() - 1;
  if (fragment_of(r.metadata, r.entry) != last || ++r.attempts > kMaxRecoveryAttempts) {
    finish_recovery(r, LedgerError::recovery_failed, -1);
    return;
  }
  const std::vector<std::string> ensemble = bookies_of(r.metadata.fragments(last));
  quarantine_[ensemble[position]] = rt_.now() + config_.quarantine_ns;
  const auto replaced = placement_.replace(ensemble, {position}, quorums_of(r.metadata),
                                           config_.placement, quarantined());
  if (!replaced) {
    finish_recovery(r, LedgerError::recovery_failed, -1);
    return;
  }
  Fragment* fragment = r.metadata.mutable_fragments(last);
  if (fragment->first_entry() != r.entry) {
    fragment = r.metadata.add_fragments();
    fragment->set_first_entry(r.entry);
  }
  fragment->clear_bookies();
  for (const std::string& b : *replaced) fragment->add_bookies(b);
  recovery_rewrite(r);
}

// The ledger is CLOSED by compare-and-set at the last recovered entry, with the ensemble
// changes the rewrites made.
void LedgerClient::recovery_close(Recovery& r, std::int64_t last_entry) {
  r.step = RecoveryStep::closing;
  if (r.timer != 0) {
    rt_.cancel(r.timer);
    r.timer = 0;
  }
  LedgerMetadata closed = r.metadata;
  closed.set_state(CLOSED);
  closed.set_last_entry_id(last_entry);
  const std::uint64_t id = r.id;
  metadata_.set(ledger_key(r.ledger_id), serialize(closed), r.version,
                [this, id, last_entry](const MetaResult& m) {
                  Recovery* r = find_recovery(id);
                  if (r == nullptr) return;
                  if (m.status == META_OK) {
                    finish_recovery(*r, LedgerError::ok, last_entry);
                    return;
                  }
                  metadata_.get(ledger_key(r->ledger_id), false,
                                [this, id, last_entry](const MetaResult& g) {
                                  Recovery* r = find_recovery(id);
                                  if (r == nullptr) return;
                                  LedgerMetadata current;
                                  if (g.status == META_OK && parse_ledger_metadata(g.value, &current) &&
                                      current.state() == CLOSED) {
                                    // Closed by us (a lost reply) or by another recovery:
                                    // either way its last entry is the ledger's end.
                                    finish_recovery(*r, LedgerError::ok, current.last_entry_id());
                                  } else if (g.status == META_OK && g.version == r->version &&
                                             ++r->attempts <= kMaxRecoveryAttempts) {
                                    after_metadata_retry([this, id, last_entry] {
                                      if (Recovery* again = find_recovery(id)) {
                                        recovery_close(*again, last_entry);
                                      }
                                    });
                                  } else {
                                    finish_recovery(*r, LedgerError::recovery_failed, -1);
                                  }
                                });
                });
}

void LedgerClient::finish_recovery(Recovery& r, LedgerError error, std::int64_t last_entry) {
  if (r.recover) {
    rt_.note("ledger " + std::to_string(r.ledger_id) +
             (error == LedgerError::ok ? ": recovered, closed at entry " + std::to_string(last_entry)
                                       : std::string(": recovery failed (") + to_string(error) + ")"));
  }
  if (r.timer != 0) rt_.cancel(r.timer);
  for (auto it = reads_.begin(); it != reads_.end();) {
    it = it->second.recovery_id == r.id ? reads_.erase(it) : std::next(it);
  }
  OpenCallback done = std::move(r.done);
  recoveries_.erase(r.id);
  done(error, last_entry);
}

}  // namespace streamlab::storage
