#include "broker/storage/ledger_client.h"

#include <algorithm>
#include <bit>

#include "base/assert.h"
#include "broker/storage/wire.h"

namespace streamlab::storage {

namespace {

constexpr Nanos kMetadataRetryNs = 100'000'000;
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
  SL_ASSERT_NE(on_add_, nullptr);
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
  SL_ASSERT_LE(q.ensemble, 32);  // Acknowledgements are a bit per ensemble index.
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
  // Only this request is answered: a reply lost on the way (a partition drops it and
  // tells only the bookie, the sender, that the connection broke) leaves its request
  // waiting, and the add timeout then replaces the bookie, as upstream times out each
  // request on its own. Answering
  // every earlier request with a later reply would hide the loss and hold LAC forever.
  std::deque<Outstanding>& waiting = l->outstanding[position];
  const auto answered = std::find_if(waiting.begin(), waiting.end(), [&](const Outstanding& o) {
    return o.entry == response.entry_id();
  });
  if (answered != waiting.end()) waiting.erase(answered);
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
  SL_ASSERT_EQ(add.entry, response.entry_id());
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
  // Adds sent to a failed position while an earlier change finished no longer matter
  // either; left outstanding, they would time out again and again with nothing to fail.
  for (const std::uint32_t p : l.changing_positions) l.outstanding[p].clear();
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
    if (r.status != META_OK || !parse_ledger_metadata(r.value, &current)) {
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
  const Fragment& fresh = l.proposed.fragments(l.proposed.fragments_size() - 1);
  std::string words = "ledger " + std::to_string(l.id) + ": ensemble from entry " +
                      std::to_string(fresh.first_entry()) + " is";
  for (const std::string& b : fresh.bookies()) words += " " + b;
  rt_.note(words);
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
  SL_ASSERT_NE(error, LedgerError::ok);
  rt_.note("ledger " + std::to_string(l.id) + ": writer gives it up (" + to_string(error) + ")");
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
  for (const std::uint32_t p : l.changing_positions) {
    SL_ASSERT_MSG(l.outstanding[p].empty(), "a position being replaced awaits replies");
  }
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
                    if (g.status == META_OK && parse_ledger_metadata(g.value, &current)) {
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
  SL_ASSERT_NE(l, nullptr);
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

}  // namespace streamlab::storage
