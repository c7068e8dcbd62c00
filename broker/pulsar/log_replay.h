#pragma once

// Reading a managed ledger from a position to its end, in order: a topic rebuilding its
// transaction buffer, and the transaction coordinator its state, replay their logs when
// they load. Reads go out a window at a time; entries are handed over in log order.

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/lifeline.h"
#include "broker/pulsar/managed_ledger.h"

namespace streamlab::pulsar {

class LogReplay {
 public:
  using Entry = std::function<void(Pos, std::string_view)>;

  explicit LogReplay(ManagedLedger& log) : log_(log) {}
  LogReplay(const LogReplay&) = delete;
  LogReplay& operator=(const LogReplay&) = delete;

  // Every entry after `after` (0: from the first) reaches `entry`, then done(ok); a read
  // that fails stops the replay: done(its error), and no entry after it is handed over.
  void start(Pos after, Entry entry, std::function<void(LedgerError)> done);

 private:
  void pump();

  ManagedLedger& log_;
  Entry entry_;
  std::function<void(LedgerError)> done_;
  Pos next_ = 0;
  std::deque<std::pair<Pos, std::optional<std::string>>> reads_;
  LedgerError failed_ = LedgerError::ok;
  bool running_ = false;
  Lifeline life_;
};

}  // namespace streamlab::pulsar
