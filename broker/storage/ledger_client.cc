#include "broker/storage/ledger_client.h"

#include <algorithm>
#include <bit>

#include "base/assert.h"
#include "broker/storage/wire.h"

namespace streamlab::storage {

namespace {

constexpr Nanos kMetadataRetryNs = 100'000'000;
// Recovery restarts from the metadata when a compare-and-set loses a race; beyond this
// many tries something else keeps changing the ledger and the open fails.
constexpr int kMaxRecoveryAttempts = 10;

bool parse_metadata(const std::string& bytes, LedgerMetadata* out) {
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

}  // namespace

const char* to_string(LedgerError error) {
  switch (error) {
    case LedgerError::ok: return "ok";
    case LedgerError::bad_config: return "bad config";
    case LedgerError::not_enough_bookies: return "not enough bookies";
    case LedgerError::fenced: return "fenced";
    case LedgerError::closed: return "closed";
    case LedgerError::no_such_ledger: return "no such ledger";
    case LedgerError::metadata_error: return "metadata error";
    case LedgerError::recovery_failed: return "recovery failed";
    case LedgerError::no_such_entry: return "no such entry";
  }
  return "?";
}

LedgerClient::LedgerClient(Runtime& runtime, MetadataClient& metadata, LedgerClientConfig config,
                           std::function<void(const AddResult&)> on_add)
    : rt_(runtime),
      metadata_(metadata),
      config_(std::move(config)),
      on_add_(std::move(on_add)),
      placement_(config_.bookies, [&runtime] { return runtime.random(); }),
      next_request_id_(runtime.random() & 0xffffffff00000000ULL) {
  SL_ASSERT(on_add_ != nullptr);
  SL_ASSERT(config_.add_timeout_ns > 0 && config_.read_timeout_ns > 0);
  for (const BookieInfo& b : config_.bookies) {
    SL_ASSERT_MSG(rt_.node_id(b.name) != kNoNode, "ledger client: unknown bookie");
  }
}

LedgerClient::~LedgerClient() = default;

// ---- Shared plumbing ------------------------------------------------------------------

void LedgerClient::complete_later(std::function<void()> fn) {
  deferred_.push_back(std::move(fn));
  if (deferred_armed_) return;
  deferred_armed_ = true;
  rt_.after(0, [this] {
    deferred_armed_ = false;
    // Completions may defer more; those run in the next round.
    std::deque<std::function<void()>> now;
    now.swap(deferred_);
    for (auto& fn : now) fn();
  });
}

void LedgerClient::after_metadata_retry(std::function<void()> fn) {
  // A shared pointer keeps the capture within the timer's 32 bytes.
  auto holder = std::make_shared<std::function<void()>>(std::move(fn));
  rt_.after(kMetadataRetryNs, [holder] { (*holder)(); });
}

std::vector<std::string> LedgerClient::quarantined() const {
  std::vector<std::string> out;
  for (const auto& [name, until] : quarantine_) {
    if (until > rt_.now()) out.push_back(name);
  }
  return out;
}

NodeId LedgerClient::bookie_id(const std::string& name) const {
  const NodeId id = rt_.node_id(name);
  SL_ASSERT_MSG(id != kNoNode, "ledger metadata names an unknown bookie");
  return id;
}

std::string LedgerClient::serialize(const LedgerMetadata& metadata) const {
  return metadata.SerializeAsString();
}

std::int64_t LedgerClient::lac(std::uint64_t ledger_id) const {
  const auto it = writers_.find(ledger_id);
  return it == writers_.end() ? -1 : it->second.lac;
}

bool LedgerClient::handle(NodeId from, const StorageMessage& message) {
  if (message.has_add_response()) {
    on_add_response(from, message.add_response());
    return true;
  }
  if (message.has_read_response()) {
    const ReadResponse& response = message.read_response();
    const auto entry_read = entry_reads_.find(response.request_id());
    if (entry_read != entry_reads_.end()) {
      if (entry_read->second.bookie == from) read_reply(response.request_id(), &response);
      return true;
    }
    const auto it = reads_.find(response.request_id());
    if (it == reads_.end() || it->second.bookie != from) return true;  // Late: decided.
    const std::uint64_t recovery_id = it->second.recovery_id;
    reads_.erase(it);
    if (Recovery* r = find_recovery(recovery_id)) recovery_reply(*r, from, response);
    return true;
  }
  return false;
}

void LedgerClient::on_connection_broken(NodeId peer) {
  // Messages sent before a break may never arrive: every add and read waiting on that
  // bookie has failed there.
  std::vector<std::uint64_t> ids;
  for (const auto& [id, l] : writers_) ids.push_back(id);
  for (const std::uint64_t id : ids) {
    WriteLedger* l = find_writer(id);
    if (l == nullptr || l->state == WriteState::failed || l->state == WriteState::closed) continue;
    for (std::uint32_t p = 0; p < l->ensemble_ids.size(); ++p) {
      if (l->ensemble_ids[p] == peer && !l->outstanding[p].empty()) {
        bookie_failed(*l, p);
        // Failing the ledger runs callbacks that may close (and forget) it.
        l = find_writer(id);
        if (l == nullptr) break;
      }
    }
  }
  std::vector<std::uint64_t> unanswered;
  for (const auto& [request, read] : entry_reads_) {
    if (read.bookie == peer) unanswered.push_back(request);
  }
  for (const std::uint64_t request : unanswered) read_reply(request, nullptr);
  std::vector<std::uint64_t> lost;
  for (const auto& [request, read] : reads_) {
    if (read.bookie == peer) lost.push_back(request);
  }
  for (const std::uint64_t request : lost) {
    const std::uint64_t recovery_id = reads_[request].recovery_id;
    reads_.erase(request);
    if (Recovery* r = find_recovery(recovery_id)) recovery_bookie_lost(*r, peer);
  }
  std::vector<std::uint64_t> rewriting;
  for (const auto& [id, r] : recoveries_) {
    if (r.step != RecoveryStep::rewriting) continue;
    for (std::uint32_t p = 0; p < r.asked.size(); ++p) {
      if (r.asked[p] == peer && ((r.rewrite_acked >> p) & 1u) == 0) rewriting.push_back(id);
    }
  }
  for (const std::uint64_t id : rewriting) {
    if (Recovery* r = find_recovery(id)) recovery_bookie_lost(*r, peer);
  }
}

// ---- Create, append, close, remove -----------------------------------------------------

void LedgerClient::create(const LedgerOptions& options, CreateCallback done) {
  if (!check_quorums(options.quorums).empty()) {
    complete_later([done] { done(LedgerError::bad_config, 0); });
    return;
  }
  auto ensemble = placement_.choose(options.quorums, options.placement, quarantined());
  // Short of healthy bookies, quarantined ones are better than none (as upstream does).
  if (!ensemble) ensemble = placement_.choose(options.quorums, options.placement, {});
  if (!ensemble) {
    complete_later([done] { done(LedgerError::not_enough_bookies, 0); });
    return;
  }
  LedgerMetadata metadata;
  metadata.set_ensemble_size(options.quorums.ensemble);
  metadata.set_write_quorum(options.quorums.write_quorum);
  metadata.set_ack_quorum(options.quorums.ack_quorum);
  metadata.set_state(OPEN);
  metadata.set_last_entry_id(-1);
  metadata.set_writer(std::string(rt_.node_name(rt_.self())));
  Fragment* fragment = metadata.add_fragments();
  fragment->set_first_entry(0);
  for (const std::string& b : *ensemble) fragment->add_bookies(b);
  // Ids are drawn, not allocated from a counter: no shared key to contend on, and a
  // collision is caught by the create itself.
  const std::uint64_t id = (rt_.random() >> 1) | 1;
  metadata_.create(ledger_key(id), serialize(metadata), false,
                   [this, id, options, metadata, done](const MetaResult& r) {
                     if (r.status == KEY_EXISTS) {
                       create(options, done);
                       return;
                     }
                     if (r.status != META_OK) {
                       // CONNECTION_LOSS may have created it: an orphan, never written.
                       done(LedgerError::metadata_error, 0);
                       return;
                     }
                     WriteLedger& l = writers_[id];
                     l.id = id;
                     l.options = options;
                     l.metadata = metadata;
                     l.version = r.version;
                     l.ensemble = bookies_of(metadata.fragments(0));
                     l.outstanding.resize(l.ensemble.size());
                     for (const std::string& b : l.ensemble) l.ensemble_ids.push_back(bookie_id(b));
                     done(LedgerError::ok, id);
                   });
}

LedgerClient::WriteLedger* LedgerClient::find_writer(std::uint64_t ledger_id) {
  const auto it = writers_.find(ledger_id);
  return it == writers_.end() ? nullptr : &it->second;
}

void LedgerClient::append(std::uint64_t ledger_id, std::string_view payload,
                          std::uint64_t token) {
  WriteLedger* l = find_writer(ledger_id);
  if (l == nullptr || l->state == WriteState::failed || l->state == WriteState::closed ||
      l->state == WriteState::closing || l->on_closed) {
    const LedgerError error = l == nullptr                          ? LedgerError::no_such_ledger
                              : l->state == WriteState::failed ? l->failure
                                                               : LedgerError::closed;
    complete_later([this, ledger_id, token, error] {
      on_add_(AddResult{ledger_id, -1, token, error});
    });
    return;
  }
  PendingAdd& add = l->pending.emplace_back();
  add.entry = l->next_entry++;
  add.token = token;
  add.payload.assign(payload);
  // During an ensemble change the ensemble is in flux: the add waits for the new one.
  if (l->state == WriteState::writing) send_add(*l, add, UINT32_MAX, false);
  arm_monitor(*l);
}

void LedgerClient::send_add(WriteLedger& l, PendingAdd& add, std::uint32_t only_position,
                            bool recovery) {
  const Quorums q = l.options.quorums;
  SL_ASSERT(q.ensemble <= 32);  // Acknowledgements are a bit per ensemble index.
  // Clearing the field, not the message, keeps the allocated AddEntry for the next add.
  AddEntry* a = out_.mutable_add_entry();
  a->Clear();
  a->set_ledger_id(l.id);
  a->set_entry_id(add.entry);
  // Each add carries the writer's LAC; bookies store it (REFERENCE: LAC).
  a->set_lac(l.lac);
  a->set_payload(add.payload);
  a->set_recovery(recovery);
  for (std::uint32_t i = 0; i < q.write_quorum; ++i) {
    const std::uint32_t p = write_set_member(add.entry, i, q);
    if (only_position != UINT32_MAX && p != only_position) continue;
    send_message(rt_, l.ensemble_ids[p], out_, send_buffer_);
    l.outstanding[p].push_back(Outstanding{add.entry, rt_.now()});
  }
  add.sent = true;
}

void LedgerClient::on_add_response(NodeId from, const AddResponse& response) {
  // A recovery rewriting this very entry asked this bookie: the reply is its, even if
  // this client also holds a writer for the ledger (one it gave up).
  for (auto& [id, r] : recoveries_) {
    if (r.ledger_id == response.ledger_id() && r.step == RecoveryStep::rewriting &&
        r.entry == response.entry_id() &&
        std::find(r.asked.begin(), r.asked.end(), from) != r.asked.end()) {
      recovery_add_reply(r, from, response);
      return;
    }
  }
  WriteLedger* l = find_writer(response.ledger_id());
  if (l == nullptr || l->state == WriteState::failed || l->state == WriteState::closed) return;
  const Quorums q = l->options.quorums;
  std::uint32_t position = UINT32_MAX;
  for (std::uint32_t p = 0; p < l->ensemble_ids.size(); ++p) {
    if (l->ensemble_ids[p] == from && in_write_set(response.entry_id(), p, q)) position = p;
  }
  if (position == UINT32_MAX) return;  // From a bookie replaced since.
  // A bookie answers in the order it received (its journal's order).
  std::deque<Outstanding>& waiting = l->outstanding[position];
  while (!waiting.empty() && waiting.front().entry <= response.entry_id()) waiting.pop_front();
  if (response.status() == FENCED) {
    // A fenced error never causes an ensemble change: the writer gives the ledger up.
    fail_ledger(*l, LedgerError::fenced);
    return;
  }
  if (response.status() != BK_OK) {
    // Even for an entry already acknowledged by others: that copy is missing, and the
    // bookie is replaced so later entries get all of theirs.
    bookie_failed(*l, position);
    return;
  }
  if (l->pending.empty()) return;
  const std::int64_t first = l->pending.front().entry;
  if (response.entry_id() < first || response.entry_id() >= l->next_entry) return;  // Done.
  PendingAdd& add = l->pending[static_cast<std::size_t>(response.entry_id() - first)];
  SL_ASSERT(add.entry == response.entry_id());
  add.acked |= 1u << position;
  try_complete(*l);
}

void LedgerClient::try_complete(WriteLedger& l) {
  // No acknowledgement while the ensemble changes: entries after LAC move to the new
  // fragment and must first reach its bookies (upstream holds callbacks the same way).
  if (l.state != WriteState::writing && l.state != WriteState::closing) return;
  const Quorums q = l.options.quorums;
  // Acknowledged in entry order as LAC passes them (REFERENCE: LAC).
  while (!l.pending.empty()) {
    PendingAdd& head = l.pending.front();
    if (!head.sent) break;
    if (static_cast<std::uint32_t>(std::popcount(head.acked)) < q.ack_quorum) break;
    if (!placement_.acks_adhere(l.ensemble, head.acked, q, l.options.placement)) break;
    SL_ASSERT_MSG(head.entry == l.lac + 1, "acknowledgements out of entry order");
    l.lac = head.entry;
    const AddResult result{l.id, head.entry, head.token, LedgerError::ok};
    l.pending.pop_front();
    on_add_(result);
  }
  if (l.state == WriteState::closing && l.pending.empty()) start_close(l);
}

void LedgerClient::bookie_failed(WriteLedger& l, std::uint32_t position) {
  if (l.state == WriteState::failed || l.state == WriteState::closed) return;
  // A position being replaced already failed: late news of its old bookie changes nothing.
  if (std::find(l.changing_positions.begin(), l.changing_positions.end(), position) !=
      l.changing_positions.end()) {
    return;
  }
  quarantine_[l.ensemble[position]] = rt_.now() + config_.quarantine_ns;
  // Its unanswered requests no longer matter: the replacement gets the pending adds
  // afresh, and no timeout or broken connection may fail the position again meanwhile.
  l.outstanding[position].clear();
  if (std::find(l.failed_positions.begin(), l.failed_positions.end(), position) ==
      l.failed_positions.end()) {
    l.failed_positions.push_back(position);
  }
  if (l.state == WriteState::writing || l.state == WriteState::closing) start_ensemble_change(l);
}

void LedgerClient::start_ensemble_change(WriteLedger& l) {
  SL_ASSERT(!l.failed_positions.empty());
  l.changing_positions = l.failed_positions;
  l.failed_positions.clear();
  auto ensemble = placement_.replace(l.ensemble, l.changing_positions, l.options.quorums,
                                     l.options.placement, quarantined());
  if (!ensemble) {
    // Quarantined bookies other than the ones just failed are better than none.
    std::vector<std::string> failed;
    for (const std::uint32_t p : l.changing_positions) failed.push_back(l.ensemble[p]);
    ensemble = placement_.replace(l.ensemble, l.changing_positions, l.options.quorums,
                                  l.options.placement, failed);
  }
  if (!ensemble) {
    fail_ledger(l, LedgerError::not_enough_bookies);
    return;
  }
  l.state = WriteState::changing_ensemble;
  // The new fragment starts at LAC + 1 (REFERENCE: ensemble change); a fragment no entry
  // was confirmed in is replaced rather than followed.
  l.proposed = l.metadata;
  Fragment* last = l.proposed.mutable_fragments(l.proposed.fragments_size() - 1);
  if (last->first_entry() != l.lac + 1) {
    last = l.proposed.add_fragments();
    last->set_first_entry(l.lac + 1);
  }
  last->clear_bookies();
  for (const std::string& b : *ensemble) last->add_bookies(b);
  const std::uint64_t id = l.id;
  metadata_.set(ledger_key(id), serialize(l.proposed), l.version,
                [this, id](const MetaResult& r) { ensemble_changed(id, r); });
}

void LedgerClient::ensemble_changed(std::uint64_t ledger_id, const MetaResult& result) {
  WriteLedger* l = find_writer(ledger_id);
  if (l == nullptr || l->state != WriteState::changing_ensemble) return;
  if (result.status == META_OK) {
    finish_ensemble_change(*l, result.version);
    return;
  }
  reconcile_change(ledger_id);
}

// The compare-and-set did not confirm: read the metadata to learn what happened. A
// recovery in progress (or done) means the ledger is no longer ours.
void LedgerClient::reconcile_change(std::uint64_t ledger_id) {
  metadata_.get(ledger_key(ledger_id), false, [this, ledger_id](const MetaResult& r) {
    WriteLedger* l = find_writer(ledger_id);
    if (l == nullptr || l->state != WriteState::changing_ensemble) return;
    if (r.status == CONNECTION_LOSS || r.status == SESSION_EXPIRED || r.status == NOT_READY) {
      after_metadata_retry([this, ledger_id] { reconcile_change(ledger_id); });
      return;
    }
    LedgerMetadata current;
    if (r.status != META_OK || !parse_metadata(r.value, &current)) {
      fail_ledger(*l, LedgerError::no_such_ledger);
      return;
    }
    if (current.state() != OPEN) {
      fail_ledger(*l, LedgerError::fenced);
      return;
    }
    if (same_fragments(current, l->proposed)) {
      finish_ensemble_change(*l, r.version);  // The lost reply's change did apply.
      return;
    }
    if (r.version == l->version) {
      const std::uint64_t id = l->id;
      metadata_.set(ledger_key(id), serialize(l->proposed), l->version,
                    [this, id](const MetaResult& m) { ensemble_changed(id, m); });
      return;
    }
    fail_ledger(*l, LedgerError::metadata_error);
  });
}

void LedgerClient::finish_ensemble_change(WriteLedger& l, std::int64_t version) {
  l.metadata = l.proposed;
  l.version = version;
  l.ensemble = bookies_of(l.metadata.fragments(l.metadata.fragments_size() - 1));
  for (std::uint32_t p = 0; p < l.ensemble.size(); ++p) l.ensemble_ids[p] = bookie_id(l.ensemble[p]);
  l.state = WriteState::writing;
  // Pending adds are resent to the replacements; confirmations from bookies that stayed
  // still count (REFERENCE: ensemble change).
  const Quorums q = l.options.quorums;
  const std::vector<std::uint32_t> replaced = std::move(l.changing_positions);
  l.changing_positions.clear();
  for (PendingAdd& add : l.pending) {
    if (!add.sent) {
      send_add(l, add, UINT32_MAX, false);
      continue;
    }
    for (const std::uint32_t p : replaced) {
      add.acked &= ~(1u << p);
      if (in_write_set(add.entry, p, q)) send_add(l, add, p, false);
    }
  }
  arm_monitor(l);
  if (l.on_closed) l.state = WriteState::closing;
  if (!l.failed_positions.empty()) {
    start_ensemble_change(l);
    return;
  }
  try_complete(l);
}

void LedgerClient::fail_ledger(WriteLedger& l, LedgerError error) {
  SL_ASSERT(error != LedgerError::ok);
  l.state = WriteState::failed;
  l.failure = error;
  for (auto& waiting : l.outstanding) waiting.clear();
  if (l.monitor_armed) {
    rt_.cancel(l.monitor);
    l.monitor_armed = false;
  }
  std::vector<AddResult> failed;
  for (const PendingAdd& add : l.pending) failed.push_back(AddResult{l.id, add.entry, add.token, error});
  l.pending.clear();
  const std::uint64_t id = l.id;
  // The callbacks may call back into the client (close, append): touch `l` no more.
  for (const AddResult& result : failed) on_add_(result);
  WriteLedger* w = find_writer(id);
  if (w == nullptr || w->state != WriteState::failed) return;
  if (error == LedgerError::fenced) {
    // The failed writer stays, so later appends learn they were fenced.
    if (w->on_closed) close_done(id, error);
  } else if (w->on_closed) {
    start_close(*w);  // Gave up on bookies: close at the LAC, as close() would.
  }
}

void LedgerClient::arm_monitor(WriteLedger& l) {
  if (l.monitor_armed) return;
  Nanos oldest = INT64_MAX;
  for (const auto& waiting : l.outstanding) {
    if (!waiting.empty()) oldest = std::min(oldest, waiting.front().sent_at);
  }
  if (oldest == INT64_MAX) return;
  l.monitor_armed = true;
  const std::uint64_t id = l.id;
  const Nanos due = oldest + config_.add_timeout_ns;
  l.monitor = rt_.after(std::max<Nanos>(due - rt_.now(), 1), [this, id] { monitor_fired(id); });
}

// A bookie that has not answered a request within the add timeout is treated as failed
// (a paused or overloaded bookie never breaks the connection), even when the add already
// completed on the others.
void LedgerClient::monitor_fired(std::uint64_t ledger_id) {
  WriteLedger* l = find_writer(ledger_id);
  if (l == nullptr) return;
  l->monitor_armed = false;
  if (l->state == WriteState::failed || l->state == WriteState::closed) return;
  for (std::uint32_t p = 0; p < l->outstanding.size(); ++p) {
    const auto& waiting = l->outstanding[p];
    if (!waiting.empty() && rt_.now() - waiting.front().sent_at >= config_.add_timeout_ns) {
      bookie_failed(*l, p);
      l = find_writer(ledger_id);
      if (l == nullptr || l->state == WriteState::failed) return;
    }
  }
  arm_monitor(*l);
}

void LedgerClient::close(std::uint64_t ledger_id, DoneCallback done) {
  WriteLedger* l = find_writer(ledger_id);
  if (l == nullptr || l->state == WriteState::closed || l->state == WriteState::closing ||
      l->on_closed || (l->state == WriteState::failed && l->failure == LedgerError::fenced)) {
    const LedgerError error = l == nullptr ? LedgerError::no_such_ledger
                              : l->state == WriteState::failed ? LedgerError::fenced
                                                               : LedgerError::closed;
    complete_later([done, error] { done(error); });
    return;
  }
  l->on_closed = std::move(done);
  // During an ensemble change the close waits: the change's end moves to closing.
  if (l->state == WriteState::changing_ensemble) return;
  // A writer that gave up (no bookies) closes at its LAC: later entries were never
  // acknowledged, so nothing confirmed is cut off.
  if (l->state == WriteState::failed || l->pending.empty()) {
    start_close(*l);
  } else {
    l->state = WriteState::closing;
  }
}

void LedgerClient::start_close(WriteLedger& l) {
  if (l.close_in_flight) return;
  l.close_in_flight = true;
  l.state = WriteState::closing;
  l.proposed = l.metadata;
  l.proposed.set_state(CLOSED);
  l.proposed.set_last_entry_id(l.lac);
  const std::uint64_t id = l.id;
  metadata_.set(ledger_key(id), serialize(l.proposed), l.version,
                [this, id](const MetaResult& r) {
                  if (r.status == META_OK) {
                    close_done(id, LedgerError::ok);
                    return;
                  }
                  metadata_.get(ledger_key(id), false, [this, id](const MetaResult& g) {
                    WriteLedger* l = find_writer(id);
                    if (l == nullptr) return;
                    LedgerMetadata current;
                    if (g.status == META_OK && parse_metadata(g.value, &current)) {
                      if (current.state() == CLOSED && current.last_entry_id() == l->lac &&
                          same_fragments(current, l->metadata)) {
                        close_done(id, LedgerError::ok);
                      } else if (current.state() != OPEN) {
                        close_done(id, LedgerError::fenced);
                      } else if (g.version == l->version) {
                        after_metadata_retry([this, id] {
                          if (WriteLedger* w = find_writer(id)) {
                            w->close_in_flight = false;
                            start_close(*w);
                          }
                        });
                      } else {
                        close_done(id, LedgerError::metadata_error);
                      }
                    } else if (g.status == META_OK || g.status == NO_KEY) {
                      close_done(id, LedgerError::no_such_ledger);
                    } else {
                      after_metadata_retry([this, id] {
                        if (WriteLedger* w = find_writer(id)) {
                          w->close_in_flight = false;
                          start_close(*w);
                        }
                      });
                    }
                  });
                });
}

void LedgerClient::close_done(std::uint64_t ledger_id, LedgerError error) {
  WriteLedger* l = find_writer(ledger_id);
  SL_ASSERT(l != nullptr);
  DoneCallback done = std::move(l->on_closed);
  if (l->monitor_armed) rt_.cancel(l->monitor);
  writers_.erase(ledger_id);
  if (done) done(error);
}

void LedgerClient::remove(std::uint64_t ledger_id, DoneCallback done) {
  metadata_.remove(ledger_key(ledger_id), -1, [done](const MetaResult& r) {
    done(r.status == META_OK   ? LedgerError::ok
         : r.status == NO_KEY ? LedgerError::no_such_ledger
                              : LedgerError::metadata_error);
  });
}

// ---- Reading ---------------------------------------------------------------------------------

void LedgerClient::read(std::uint64_t ledger_id, std::int64_t entry_id, EntryCallback done) {
  metadata_.get(ledger_key(ledger_id), false,
                [this, ledger_id, entry_id, done](const MetaResult& m) {
                  LedgerMetadata metadata;
                  if (m.status == NO_KEY ||
                      (m.status == META_OK && !parse_metadata(m.value, &metadata))) {
                    done(LedgerError::no_such_ledger, {});
                    return;
                  }
                  if (m.status != META_OK) {
                    done(LedgerError::metadata_error, {});
                    return;
                  }
                  if (entry_id < 0 || (metadata.state() == CLOSED &&
                                       entry_id > metadata.last_entry_id())) {
                    done(LedgerError::no_such_entry, {});
                    return;
                  }
                  // Each ask has its own request id; the read is kept under its first.
                  const std::uint64_t request = next_request_id_++;
                  EntryRead& read = entry_reads_[request];
                  read.ledger_id = ledger_id;
                  read.entry_id = entry_id;
                  read.metadata = std::move(metadata);
                  read.done = done;
                  read_next_bookie(request);
                });
}

void LedgerClient::read_next_bookie(std::uint64_t request_id) {
  EntryRead& read = entry_reads_.at(request_id);
  const Quorums q = quorums_of(read.metadata);
  if (read.tried == q.write_quorum) {
    EntryCallback done = std::move(read.done);
    entry_reads_.erase(request_id);
    done(LedgerError::no_such_entry, {});
    return;
  }
  const Fragment& fragment = read.metadata.fragments(fragment_of(read.metadata, read.entry_id));
  read.bookie = bookie_id(
      fragment.bookies(static_cast<int>(write_set_member(read.entry_id, read.tried, q))));
  ++read.tried;
  out_.Clear();
  ReadEntry* ask = out_.mutable_read_entry();
  ask->set_request_id(request_id);
  ask->set_ledger_id(read.ledger_id);
  ask->set_entry_id(read.entry_id);
  send_message(rt_, read.bookie, out_, send_buffer_);
  const std::uint32_t attempt = read.tried;
  read.timer = rt_.after(config_.read_timeout_ns, [this, request_id, attempt] {
    const auto it = entry_reads_.find(request_id);
    if (it != entry_reads_.end() && it->second.tried == attempt) read_reply(request_id, nullptr);
  });
}

// A reply, or nullptr when the bookie asked will not answer (timeout, broken connection).
void LedgerClient::read_reply(std::uint64_t request_id, const ReadResponse* response) {
  EntryRead& read = entry_reads_.at(request_id);
  rt_.cancel(read.timer);
  if (response != nullptr && response->status() == BK_OK &&
      response->entry_id() == read.entry_id) {
    EntryCallback done = std::move(read.done);
    const std::string payload = response->payload();
    entry_reads_.erase(request_id);
    done(LedgerError::ok, payload);
    return;
  }
  read_next_bookie(request_id);
}

// ---- Open, fencing and recovery ---------------------------------------------------------

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
    if (!parse_metadata(m.value, &r->metadata)) {
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
// ensemble change of the IN_RECOVERY metadata from this entry on (compare-and-set), and
// rewrite the entry there. Reads keep the metadata as fenced: the replacement never held
// the old writer's entries, and its "no such entry" must not help call one absent.
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
  LedgerMetadata proposed = r.metadata;
  Fragment* fragment = proposed.mutable_fragments(last);
  if (fragment->first_entry() != r.entry) {
    fragment = proposed.add_fragments();
    fragment->set_first_entry(r.entry);
  }
  fragment->clear_bookies();
  for (const std::string& b : *replaced) fragment->add_bookies(b);
  r.step = RecoveryStep::replacing;
  if (r.timer != 0) {
    rt_.cancel(r.timer);
    r.timer = 0;
  }
  const std::uint64_t id = r.id;
  metadata_.set(ledger_key(r.ledger_id), serialize(proposed), r.version,
                [this, id, proposed](const MetaResult& m) {
                  Recovery* r = find_recovery(id);
                  if (r == nullptr) return;
                  if (m.status != META_OK) {
                    finish_recovery(*r, LedgerError::recovery_failed, -1);
                    return;
                  }
                  r->metadata = proposed;
                  r->version = m.version;
                  recovery_rewrite(*r);
                });
}

// The ledger is CLOSED by compare-and-set at the last recovered entry.
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
                                  if (g.status == META_OK && parse_metadata(g.value, &current) &&
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
  if (r.timer != 0) rt_.cancel(r.timer);
  for (auto it = reads_.begin(); it != reads_.end();) {
    it = it->second.recovery_id == r.id ? reads_.erase(it) : std::next(it);
  }
  OpenCallback done = std::move(r.done);
  recoveries_.erase(r.id);
  done(error, last_entry);
}

}  // namespace streamlab::storage
