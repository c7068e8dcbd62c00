#include "workloads/report/perfetto_writer.h"

#include <cinttypes>

#include "base/assert.h"
#include "workloads/report/json_writer.h"
#include "workloads/report/message_words.h"

namespace streamlab::cli {

namespace {

// Track ids: pid 0 is the run itself (faults, counters), node n is pid n + 1.
std::int64_t pid_of(std::uint32_t node) {
  return node == sim::kNoPeer ? 0 : static_cast<std::int64_t>(node) + 1;
}

double micros(std::int64_t ns) { return static_cast<double>(ns) / 1e3; }

const char* disk_span_name(sim::TraceKind kind) {
  switch (kind) {
    case sim::TraceKind::disk_write: return "write";
    case sim::TraceKind::disk_fsync: return "fsync";
    case sim::TraceKind::disk_read: return "read";
    case sim::TraceKind::disk_truncate: return "truncate";
    case sim::TraceKind::disk_remove: return "remove";
    default: return nullptr;
  }
}

std::string args_of(std::initializer_list<std::pair<const char*, std::string>> fields) {
  JsonWriter j;
  j.begin_object();
  for (const auto& [key, value] : fields) j.key(key).value(value);
  j.end_object();
  return j.str();
}

}  // namespace

PerfettoWriter::PerfettoWriter(const workloads::ScenarioConfig& config, EventFilter filter,
                               std::FILE* out)
    : config_(config), filter_(std::move(filter)), out_(out) {
  SL_ASSERT_NE(out_, nullptr);
  if (std::fputs("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n", out_) < 0) failed_ = true;
  const auto name_track = [this](std::int64_t pid, const std::string& name, std::int64_t order) {
    JsonWriter j;
    j.begin_object().key("name").value("process_name").key("ph").value("M");
    j.key("pid").value(pid).key("args").begin_object().key("name").value(name).end_object();
    j.end_object();
    emit(j.str());
    JsonWriter k;
    k.begin_object().key("name").value("process_sort_index").key("ph").value("M");
    k.key("pid").value(pid).key("args").begin_object().key("sort_index").value(order);
    k.end_object().end_object();
    emit(k.str());
  };
  name_track(0, config_.name + " (run)", 0);
  for (std::uint32_t n = 0; n < config_.topology.nodes.size(); ++n) {
    if (!filter_.nodes.empty() && !filter_.nodes.contains(n)) continue;
    const sim::NodeSpec& node = config_.topology.nodes[n];
    name_track(pid_of(n), node.role.empty() ? node.name : node.name + " (" + node.role + ")",
               pid_of(n));
  }
}

std::string PerfettoWriter::node_name(std::uint32_t node) const {
  if (node == sim::kNoPeer) return "run";
  return node < config_.topology.nodes.size() ? config_.topology.nodes[node].name
                                               : "n" + std::to_string(node);
}

void PerfettoWriter::record(const sim::TraceEvent& e) {
  using sim::TraceKind;
  if (e.kind == TraceKind::send) return;  // Its span is drawn at delivery, or its drop.
  if (!filter_.keeps(e.time_ns, e.node)) return;
  if (e.kind == TraceKind::deliver) {
    const std::string kind = workloads::message_kind(config_.system, e.payload);
    async_span(e.node, "message", kind + " from " + node_name(e.peer), e.start_ns, e.time_ns,
               args_of({{"from", node_name(e.peer)}, {"bytes", std::to_string(e.bytes)},
                        {"what", workloads::describe_message(config_.system, e.payload)}}));
    return;
  }
  if (const char* op = disk_span_name(e.kind)) {
    async_span(e.node, "disk", std::string(op) + " " + std::string(e.detail), e.start_ns,
               e.time_ns,
               args_of({{"bytes", std::to_string(e.bytes)},
                        {"status", e.status == IoStatus::ok ? "ok" : "error"}}));
    return;
  }
  switch (e.kind) {
    case TraceKind::drop:
      instant(e.node, "network", "drop to " + node_name(e.peer), e.time_ns,
              args_of({{"why", std::string(e.detail)},
                       {"what", workloads::describe_message(config_.system, e.payload)}}));
      return;
    case TraceKind::broken:
      instant(e.node, "network", "connection to " + node_name(e.peer) + " broken", e.time_ns, "");
      return;
    case TraceKind::fault:
      instant(sim::kNoPeer, "fault", std::string(e.detail), e.time_ns, "");
      return;
    case TraceKind::note:
      instant(e.node, "note", std::string(e.detail), e.time_ns, "");
      return;
    default:
      instant(e.node, "process",
              std::string(sim::to_string(e.kind)) + (e.detail.empty() ? "" : " ") +
                  std::string(e.detail),
              e.time_ns,
              e.bytes > 0 ? args_of({{"bytes", std::to_string(e.bytes)}}) : std::string());
      return;
  }
}

void PerfettoWriter::async_span(std::uint32_t node, const char* category, const std::string& name,
                                std::int64_t begin_ns, std::int64_t end_ns,
                                const std::string& args) {
  SL_ASSERT(begin_ns >= 0 && begin_ns <= end_ns);
  const std::uint64_t id = next_span_id_++;
  for (const bool begin : {true, false}) {
    JsonWriter j;
    j.begin_object().key("name").value(name).key("cat").value(category);
    j.key("ph").value(begin ? "b" : "e").key("id").value(id);
    j.key("pid").value(pid_of(node)).key("tid").value(std::int64_t{1});
    j.key("ts").value(micros(begin ? begin_ns : end_ns));
    j.end_object();
    std::string object = j.str();
    // The arguments go with the span's beginning, where the viewer shows them.
    if (begin && !args.empty()) object.insert(object.size() - 1, ",\"args\":" + args);
    emit(object);
  }
}

void PerfettoWriter::instant(std::uint32_t node, const char* category, const std::string& name,
                             std::int64_t time_ns, const std::string& args) {
  JsonWriter j;
  j.begin_object().key("name").value(name).key("cat").value(category).key("ph").value("i");
  // Faults concern the whole run: a line across every track.
  j.key("s").value(node == sim::kNoPeer ? "g" : "p");
  j.key("pid").value(pid_of(node)).key("tid").value(std::int64_t{1});
  j.key("ts").value(micros(time_ns));
  j.end_object();
  std::string object = j.str();
  if (!args.empty()) object.insert(object.size() - 1, ",\"args\":" + args);
  emit(object);
}

void PerfettoWriter::finish(const workloads::CheckResult& check) {
  for (const auto& [name, points] : check.series) {
    for (const auto& [time_ns, value] : points) {
      if (time_ns < filter_.from_ns || time_ns > filter_.to_ns) continue;
      JsonWriter j;
      j.begin_object().key("name").value(name).key("ph").value("C");
      j.key("pid").value(std::int64_t{0}).key("ts").value(micros(time_ns));
      j.key("args").begin_object().key("value").value(value).end_object();
      j.end_object();
      emit(j.str());
    }
  }
  if (std::fputs("\n]}\n", out_) < 0) failed_ = true;
}

void PerfettoWriter::emit(const std::string& object) {
  if (failed_) return;
  if ((!first_ && std::fputs(",\n", out_) < 0) || std::fputs(object.c_str(), out_) < 0) {
    failed_ = true;
    return;
  }
  first_ = false;
  ++written_;
}

}  // namespace streamlab::cli
