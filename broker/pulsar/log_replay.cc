#include "broker/pulsar/log_replay.h"

#include "base/assert.h"

namespace streamlab::pulsar {

namespace {

constexpr std::size_t kWindow = 32;

}  // namespace

void LogReplay::start(Pos after, Entry entry, std::function<void(LedgerError)> done) {
  SL_ASSERT_MSG(!running_, "log replay: started twice");
  running_ = true;
  entry_ = std::move(entry);
  done_ = std::move(done);
  next_ = log_.next(after);
  pump();
}

void LogReplay::pump() {
  while (failed_ == LedgerError::ok && next_ != 0 && reads_.size() < kWindow) {
    const Pos p = next_;
    next_ = log_.next(p);
    reads_.emplace_back(p, std::nullopt);
    log_.read(p, life_.guard([this, p](LedgerError e, std::string_view bytes) {
      for (auto& [pos, slot] : reads_) {
        if (pos != p) continue;
        if (e == LedgerError::ok) {
          slot.emplace(bytes);
        } else if (failed_ == LedgerError::ok) {
          failed_ = e;
        }
        break;
      }
      while (failed_ == LedgerError::ok && !reads_.empty() && reads_.front().second) {
        auto [pos, bytes] = std::move(reads_.front());
        reads_.pop_front();
        entry_(pos, *bytes);
      }
      pump();
    }));
  }
  if (!running_) return;
  if (failed_ != LedgerError::ok || (next_ == 0 && reads_.empty())) {
    running_ = false;
    // done may destroy this replay's owner, and this with it.
    std::function<void(LedgerError)> done = std::move(done_);
    done(failed_);
  }
}

}  // namespace streamlab::pulsar
