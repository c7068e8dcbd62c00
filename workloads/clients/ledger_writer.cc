#include "workloads/clients/ledger_writer.h"

#include <cmath>

#include "base/assert.h"
#include "base/draw.h"
#include "broker/storage/wire.h"

namespace streamlab::workloads {

using storage::LedgerError;
using storage::MetaResult;

namespace {

constexpr std::int64_t kStandbyPollNs = 1'000'000'000;

void put_le(std::uint64_t v, int bytes, char* out) {
  for (int i = 0; i < bytes; ++i) out[i] = static_cast<char>(v >> (8 * i));
}

}  // namespace

LedgerWriter::LedgerWriter(Runtime& runtime, LedgerWriterConfig config, LedgerHistory& history)
    : rt_(runtime),
      config_(std::move(config)),
      history_(history),
      metadata_(runtime, config_.metadata),
      ledger_(runtime, metadata_, config_.ledger,
              [this](const storage::AddResult& r) { add_done(r); }),
      next_seq_(runtime.random() & 0xffffffff00000000ULL),
      owner_key_("/logs/" + config_.log + "/owner"),
      ledgers_key_("/logs/" + config_.log + "/ledgers") {
  SL_ASSERT_GT(config_.rate_per_s, 0);
  SL_ASSERT_GT(config_.max_in_flight, 0);
  SL_ASSERT_GE(config_.entry_bytes, kLedgerPayloadHeader);
  payload_.assign(config_.entry_bytes, 'x');
}

// A writer joins at its start time: it contends for the log only from then on.
void LedgerWriter::on_start() {
  started_at_ns_ = rt_.now();
  rt_.after(config_.start_ns, [this] {
    metadata_.start([this](storage::SessionEvent e) { session_event(e); },
                    [this](const storage::WatchEvent& e) {
                      if (e.key() == owner_key_ && phase_ == Phase::standby) watch_owner();
                    });
    tick();
  });
}

void LedgerWriter::on_message(NodeId from, std::span<const std::uint8_t> bytes) {
  if (!storage::parse_message(bytes, &message_)) return;
  if (!metadata_.handle(from, message_)) ledger_.handle(from, message_);
}

void LedgerWriter::on_connection_broken(NodeId peer) {
  metadata_.on_connection_broken(peer);
  ledger_.on_connection_broken(peer);
}

std::string LedgerWriter::owner_value() const {
  return std::string(rt_.node_name(rt_.self())) + "/" + std::to_string(metadata_.session_id());
}

// A retry belongs to the phase that asked for it: if the writer has moved on since (a
// watch or another chain took it elsewhere), the retry is stale and does nothing.
void LedgerWriter::retry_later(void (LedgerWriter::*step)()) {
  const Phase expected = phase_;
  rt_.after(config_.retry_ns, [this, step, expected] {
    if (phase_ == expected) (this->*step)();
  });
}

// ---- Ownership --------------------------------------------------------------------------

void LedgerWriter::session_event(storage::SessionEvent event) {
  // An expiry alone changes nothing for an owner: it keeps writing until fencing stops it.
  if (event != storage::SessionEvent::established) return;
  if (phase_ == Phase::connecting || phase_ == Phase::standby) acquire();
}

void LedgerWriter::acquire() {
  phase_ = Phase::acquiring;
  metadata_.create(owner_key_, owner_value(), true, [this](const MetaResult& r) {
    if (phase_ != Phase::acquiring) return;
    if (r.status == storage::META_OK) {
      take_over();
    } else if (r.status == storage::KEY_EXISTS) {
      watch_owner();
    } else {
      retry_later(&LedgerWriter::acquire);
    }
  });
}

// Standby: watch the owner key (and poll it, since watches die with a store restart).
void LedgerWriter::watch_owner() {
  phase_ = Phase::standby;
  // One poll chain at a time: a watch event or a new stint as standby starts a new one.
  const std::uint64_t generation = ++standby_generation_;
  metadata_.get(owner_key_, true, [this, generation](const MetaResult& r) {
    if (phase_ != Phase::standby || generation != standby_generation_) return;
    if (r.status == storage::NO_KEY) {
      acquire();
    } else if (r.status == storage::META_OK && r.value == owner_value()) {
      // Our own create went through although its reply was lost.
      phase_ = Phase::acquiring;
      take_over();
    } else {
      rt_.after(kStandbyPollNs, [this, generation] {
        if (phase_ == Phase::standby && generation == standby_generation_) watch_owner();
      });
    }
  });
}

// Every (re)try first checks the owner key is still ours: a writer whose session expired
// during a take-over must not fence the writer that owns the log now.
void LedgerWriter::take_over() {
  phase_ = Phase::recovering;
  metadata_.get(owner_key_, false, [this](const MetaResult& owner) {
    if (phase_ != Phase::recovering) return;
    if (owner.status == storage::META_OK && owner.value == owner_value()) {
      read_ledger_list();
    } else if (owner.status == storage::META_OK || owner.status == storage::NO_KEY) {
      lose_ownership();
    } else {
      retry_later(&LedgerWriter::take_over);
    }
  });
}

void LedgerWriter::read_ledger_list() {
  metadata_.get(ledgers_key_, false, [this](const MetaResult& r) {
    if (phase_ != Phase::recovering) return;
    if (r.status == storage::NO_KEY) {
      create_ledger({}, -1);
    } else if (r.status == storage::META_OK) {
      recover_last(parse_ledger_list(r.value), r.version);
    } else {
      retry_later(&LedgerWriter::take_over);
    }
  });
}

// Every ledger but the last was closed before its successor joined the list; the last
// may still be open, its writer gone or a zombie: recover it, fencing that writer off.
void LedgerWriter::recover_last(std::vector<std::uint64_t> ledgers, std::int64_t version) {
  if (ledgers.empty()) {
    create_ledger(std::move(ledgers), version);
    return;
  }
  const std::uint64_t last = ledgers.back();
  history_.record(LedgerOp{0, rt_.self(), OpType::invoke, LedgerOpKind::recover, 0, last, -1, {}});
  ledger_.open(last, true, [this, last, ledgers, version](LedgerError e, std::int64_t end) {
    history_.record(LedgerOp{0, rt_.self(), e == LedgerError::ok ? OpType::ok : OpType::fail,
                             LedgerOpKind::recover, 0, last, end,
                             e == LedgerError::ok ? "" : storage::to_string(e)});
    if (phase_ != Phase::recovering) return;
    if (e == LedgerError::ok) {
      create_ledger(ledgers, version);
    } else {
      retry_later(&LedgerWriter::take_over);
    }
  });
}

void LedgerWriter::create_ledger(std::vector<std::uint64_t> ledgers, std::int64_t version) {
  phase_ = Phase::creating;
  ledger_.create(config_.options, [this, ledgers, version](LedgerError e, std::uint64_t id) {
    if (phase_ != Phase::creating) return;
    if (e != LedgerError::ok) {
      retry_later(&LedgerWriter::take_over);
      return;
    }
    publish_ledger(ledgers, version, id);
  });
}

// The new ledger joins the log by compare-and-set on the list the owner recovered: a
// writer that lost the log meanwhile finds the list changed and steps down, so it never
// buries another owner's open ledger under its own.
void LedgerWriter::publish_ledger(std::vector<std::uint64_t> ledgers, std::int64_t version,
                                  std::uint64_t ledger_id) {
  recovered_list_ = std::move(ledgers);
  std::vector<std::uint64_t> next = recovered_list_;
  next.push_back(ledger_id);
  auto done = [this, ledger_id](const MetaResult& r) {
    if (phase_ != Phase::creating) return;
    if (r.status == storage::META_OK) {
      start_writing(ledger_id);
    } else {
      check_published(ledger_id);
    }
  };
  if (version < 0) {
    metadata_.create(ledgers_key_, format_ledger_list(next), false, done);
  } else {
    metadata_.set(ledgers_key_, format_ledger_list(next), version, done);
  }
}

// The publish was refused or its reply lost: read the list to learn which.
void LedgerWriter::check_published(std::uint64_t ledger_id) {
  metadata_.get(ledgers_key_, false, [this, ledger_id](const MetaResult& g) {
    if (phase_ != Phase::creating) return;
    if (g.status != storage::META_OK && g.status != storage::NO_KEY) {
      rt_.after(config_.retry_ns, [this, ledger_id] {
        if (phase_ == Phase::creating) check_published(ledger_id);
      });
      return;
    }
    const std::vector<std::uint64_t> now =
        g.status == storage::NO_KEY ? std::vector<std::uint64_t>{} : parse_ledger_list(g.value);
    if (!now.empty() && now.back() == ledger_id) {
      start_writing(ledger_id);  // It landed; only the reply was lost.
    } else if (now == recovered_list_) {
      publish_ledger(recovered_list_, g.status == storage::NO_KEY ? -1 : g.version, ledger_id);
    } else {
      lose_ownership();
    }
  });
}

void LedgerWriter::start_writing(std::uint64_t ledger_id) {
  phase_ = Phase::writing;
  current_ledger_ = ledger_id;
}

// The ledger could not go on (no bookies to replace a failed one): close it at its LAC
// and start a new one. A close that finds the ledger fenced means the log moved on.
void LedgerWriter::roll() {
  phase_ = Phase::rolling;
  ledger_.close(current_ledger_, [this](LedgerError e) {
    if (phase_ != Phase::rolling) return;
    if (e == LedgerError::ok) {
      take_over();
    } else {
      lose_ownership();
    }
  });
}

void LedgerWriter::lose_ownership() {
  // Our owner key, if it still exists, dies with our session or is taken over; another
  // writer's fencing already keeps us from writing. Wait as a standby.
  watch_owner();
}

// ---- Appending ----------------------------------------------------------------------------

std::int64_t LedgerWriter::gap_ns() {
  const double mean = 1e9 / config_.rate_per_s;
  if (!config_.poisson) return std::max<std::int64_t>(1, std::llround(mean));
  return std::max<std::int64_t>(1, std::llround(exponential_from_bits(rt_.random(), mean)));
}

void LedgerWriter::tick() {
  if (rt_.now() - started_at_ns_ >= config_.stop_ns) return;
  if (config_.max_adds != 0 && sent_ >= config_.max_adds) return;
  rt_.after(gap_ns(), [this] { tick(); });
  // Open loop: an append due while the log is not ours, or too many are in flight, is
  // skipped rather than queued.
  if (phase_ != Phase::writing || in_flight_.size() >= config_.max_in_flight) return;
  send_one();
}

void LedgerWriter::send_one() {
  const std::uint64_t seq = next_seq_++;
  ++sent_;
  put_le(rt_.self(), 4, payload_.data());
  put_le(seq, 8, payload_.data() + 4);
  in_flight_.emplace(seq, current_ledger_);
  history_.record(LedgerOp{0, rt_.self(), OpType::invoke, LedgerOpKind::add, seq, current_ledger_,
                           -1, {}});
  ledger_.append(current_ledger_, payload_, seq);
}

void LedgerWriter::add_done(const storage::AddResult& result) {
  const auto it = in_flight_.find(result.token);
  SL_ASSERT_MSG(it != in_flight_.end(), "ledger writer: completion of an unknown append");
  SL_ASSERT(it->second == result.ledger_id);
  in_flight_.erase(it);
  if (result.error == LedgerError::ok) {
    history_.record(LedgerOp{0, rt_.self(), OpType::ok, LedgerOpKind::add, result.token,
                             result.ledger_id, result.entry_id, {}});
    return;
  }
  // A failed append may still have reached bookies, and recovery may keep it.
  history_.record(LedgerOp{0, rt_.self(), OpType::info, LedgerOpKind::add, result.token,
                           result.ledger_id, result.entry_id, storage::to_string(result.error)});
  if (phase_ != Phase::writing || result.ledger_id != current_ledger_) return;
  if (result.error == LedgerError::fenced) {
    lose_ownership();
  } else {
    roll();
  }
}

}  // namespace streamlab::workloads
