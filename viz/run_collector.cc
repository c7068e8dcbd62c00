#include "viz/run_collector.h"

#include "base/assert.h"

namespace streamlab::viz {

namespace {

// The brokers' words for a change of ownership (broker/pulsar/broker.cc and
// txn_coordinator.cc): "<topic>: took ownership", "<topic>: closed[, fenced ...]",
// "session expired: gives up every topic" and "txn coordinator: closed[, fenced]".
constexpr std::string_view kTook = ": took ownership";
constexpr std::string_view kClosed = ": closed";
constexpr std::string_view kFenced = "fenced";
constexpr std::string_view kGivesUpAll = "session expired: gives up every topic";
constexpr std::string_view kCoordinator = "txn coordinator";

bool ends_with(std::string_view s, std::string_view end) {
  return s.size() >= end.size() && s.substr(s.size() - end.size()) == end;
}

}  // namespace

RunCollector::RunCollector(std::uint32_t node_count, std::size_t max_events)
    : nodes_(node_count),
      max_events_(max_events),
      link_bytes_(static_cast<std::size_t>(node_count) * node_count, 0.0),
      owned_(node_count),
      fenced_(node_count, false) {
  events_.reserve(std::min<std::size_t>(max_events, 1 << 16));
}

void RunCollector::record(const sim::TraceEvent& event) {
  switch (event.kind) {
    case sim::TraceKind::send:
      if (event.node < nodes_ && event.peer < nodes_) {
        link_bytes_[static_cast<std::size_t>(event.node) * nodes_ + event.peer] +=
            static_cast<double>(event.bytes);
      }
      return;
    case sim::TraceKind::deliver:
    case sim::TraceKind::disk_write:
    case sim::TraceKind::disk_fsync:
    case sim::TraceKind::disk_read:
    case sim::TraceKind::disk_truncate:
    case sim::TraceKind::disk_remove:
      return;  // Per-message and per-I/O events: `streamlab replay` lists them.
    case sim::TraceKind::crash:
      if (event.node < nodes_) {
        owned_[event.node].clear();
        fenced_[event.node] = false;
      }
      break;
    case sim::TraceKind::note:
      if (event.node < nodes_) note(event.node, event.detail);
      break;
    default:
      break;
  }
  keep(event);
}

void RunCollector::note(std::uint32_t node, std::string_view words) {
  if (words == kGivesUpAll) {
    owned_[node].clear();
    return;
  }
  if (words.substr(0, kCoordinator.size()) == kCoordinator) {
    // Its topic, __txn_coordinator, says who hosts it; only a fencing is news here.
    if (words.find(kClosed) != std::string_view::npos && ends_with(words, kFenced)) {
      fenced_[node] = true;
    }
    return;
  }
  if (ends_with(words, kTook)) {
    owned_[node].insert(std::string(words.substr(0, words.size() - kTook.size())));
    fenced_[node] = false;
    return;
  }
  if (const std::size_t at = words.find(kClosed); at != std::string_view::npos) {
    owned_[node].erase(std::string(words.substr(0, at)));
    if (words.find(kFenced, at) != std::string_view::npos) fenced_[node] = true;
  }
}

void RunCollector::keep(const sim::TraceEvent& event) {
  if (events_.size() >= max_events_) {
    ++not_kept_;
    return;
  }
  LogEvent& e = events_.emplace_back();
  e.time_ns = event.time_ns;
  e.node = event.node;
  e.kind = event.kind;
  e.peer = event.peer;
  e.text = event.detail;
  if (event.kind == sim::TraceKind::disk_lost) {
    e.text = std::to_string(event.bytes) + " unsynced bytes lost";
  }
}

void RunCollector::take_link_bytes(std::vector<double>& out) {
  out.assign(link_bytes_.begin(), link_bytes_.end());
  std::fill(link_bytes_.begin(), link_bytes_.end(), 0.0);
}

}  // namespace streamlab::viz
