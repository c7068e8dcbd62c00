#include "workloads/report/event_log_writer.h"

#include <cinttypes>

#include "workloads/report/json_writer.h"
#include "workloads/report/message_words.h"

namespace streamlab::cli {

namespace {

const char* status_name(IoStatus status) {
  switch (status) {
    case IoStatus::ok: return "ok";
    case IoStatus::io_error: return "io_error";
    case IoStatus::disk_full: return "disk_full";
  }
  return "?";
}

bool is_disk(sim::TraceKind kind) {
  return kind == sim::TraceKind::disk_write || kind == sim::TraceKind::disk_fsync ||
         kind == sim::TraceKind::disk_read || kind == sim::TraceKind::disk_truncate ||
         kind == sim::TraceKind::disk_remove;
}

std::string seconds(std::int64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6fs", static_cast<double>(ns) / 1e9);
  return buf;
}

}  // namespace

bool EventFilter::keeps(std::int64_t time_ns, std::uint32_t node) const {
  if (time_ns < from_ns || time_ns > to_ns) return false;
  return nodes.empty() || node == sim::kNoPeer || nodes.contains(node);
}

EventLogWriter::EventLogWriter(const workloads::ScenarioConfig& config, EventFilter filter,
                               std::FILE* out)
    : config_(config), filter_(std::move(filter)), out_(out) {
  SL_ASSERT_NE(out_, nullptr);
}

std::string EventLogWriter::node_name(std::uint32_t node) const {
  if (node == sim::kNoPeer) return "";
  return node < config_.topology.nodes.size() ? config_.topology.nodes[node].name
                                               : "n" + std::to_string(node);
}

void EventLogWriter::record(const sim::TraceEvent& e) {
  const bool message = e.kind == sim::TraceKind::send || e.kind == sim::TraceKind::deliver ||
                       e.kind == sim::TraceKind::drop;
  // A message concerns both ends: --node keeps it for either.
  if (!filter_.keeps(e.time_ns, e.node) && !(message && filter_.keeps(e.time_ns, e.peer))) {
    return;
  }
  JsonWriter j;
  j.begin_object();
  j.key("t").value(e.time_ns);
  j.key("time").value(seconds(e.time_ns));
  j.key("node").value(e.node == sim::kNoPeer ? "run" : node_name(e.node));
  j.key("kind").value(sim::to_string(e.kind));
  if (e.peer != sim::kNoPeer) j.key("peer").value(node_name(e.peer));
  if (e.bytes > 0) j.key("bytes").value(e.bytes);
  if (message) j.key("what").value(workloads::describe_message(config_.system, e.payload));
  if (!e.detail.empty()) j.key(is_disk(e.kind) ? "file" : "detail").value(e.detail);
  if (is_disk(e.kind)) j.key("status").value(status_name(e.status));
  if (e.start_ns >= 0) j.key("since").value(e.start_ns);
  j.end_object();
  emit(j.str());
}

void EventLogWriter::kernel_event(const sim::EventRecord& e) {
  if (e.kind != sim::EventKind::timer && e.kind != sim::EventKind::start) return;
  if (!filter_.keeps(e.time_ns, e.node)) return;
  JsonWriter j;
  j.begin_object();
  j.key("t").value(e.time_ns);
  j.key("time").value(seconds(e.time_ns));
  j.key("node").value(node_name(e.node));
  j.key("kind").value(e.kind == sim::EventKind::timer ? "timer" : "start");
  j.end_object();
  emit(j.str());
}

void EventLogWriter::emit(const std::string& line) {
  if (failed_) return;
  if (std::fputs(line.c_str(), out_) < 0 || std::fputc('\n', out_) == EOF) {
    failed_ = true;
    return;
  }
  ++written_;
}

}  // namespace streamlab::cli
