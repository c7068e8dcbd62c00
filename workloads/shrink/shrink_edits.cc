#include "workloads/shrink/shrink_edits.h"

#include <charconv>

#include "base/assert.h"
#include "workloads/scenario/fault_text.h"
#include "workloads/run/scenario_runner.h"
#include "workloads/scenario/units.h"

namespace streamlab::workloads {

namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

constexpr std::int64_t kMillisecond = 1'000'000;

Message* entry_message(scenario::Scenario* s, WorkloadEntry entry) {
  return s->mutable_workload()->GetReflection()->MutableRepeatedMessage(
      s->mutable_workload(), entry.field, entry.index);
}

std::string rate_text(double per_s) {
  char buffer[32];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, per_s).ptr;  // Shortest exact.
  return std::string(buffer, end) + "/s";
}

// The halved text of a rate or a stop; nullopt at the floor or when unreadable.
std::optional<std::string> halved_text(const Message& entry, const FieldDescriptor* knob,
                                       const std::string& text) {
  if (knob->name() == "rate") {
    const auto rate = parse_rate_per_s(text);
    if (!rate || rate.value() / 2 < 1) return std::nullopt;
    return rate_text(rate.value() / 2);
  }
  SL_ASSERT(knob->name() == "stop");
  const FieldDescriptor* start_field = entry.GetDescriptor()->FindFieldByName("start");
  SL_ASSERT_NE(start_field, nullptr);
  const std::string start_text = entry.GetReflection()->GetString(entry, start_field);
  const auto start = start_text.empty() ? Result<std::int64_t>(0) : parse_duration_ns(start_text);
  const auto stop = parse_duration_ns(text);
  if (!start || !stop) return std::nullopt;
  const std::int64_t half = (stop.value() - start.value()) / 2 / kMillisecond * kMillisecond;
  if (half < kMillisecond) return std::nullopt;
  return format_duration_ns(start.value() + half);
}

}  // namespace

std::vector<WorkloadEntry> workload_entries(const scenario::Scenario& s) {
  std::vector<WorkloadEntry> entries;
  const auto* descriptor = s.workload().GetDescriptor();
  const auto* reflection = s.workload().GetReflection();
  for (int f = 0; f < descriptor->field_count(); ++f) {
    const FieldDescriptor* field = descriptor->field(f);
    if (!field->is_repeated() || field->type() != FieldDescriptor::TYPE_MESSAGE) continue;
    for (int i = 0; i < reflection->FieldSize(s.workload(), field); ++i) {
      entries.push_back({field, i});
    }
  }
  return entries;
}

std::vector<WorkloadKnob> workload_knobs(const scenario::Scenario& s) {
  std::vector<WorkloadKnob> knobs;
  const auto* reflection = s.workload().GetReflection();
  for (const WorkloadEntry& entry : workload_entries(s)) {
    const Message& m = reflection->GetRepeatedMessage(s.workload(), entry.field, entry.index);
    for (const char* name : {"rate", "stop", "max_messages", "max_adds"}) {
      const FieldDescriptor* knob = m.GetDescriptor()->FindFieldByName(name);
      if (knob == nullptr || knob->is_repeated()) continue;
      const bool set = knob->type() == FieldDescriptor::TYPE_STRING
                           ? !m.GetReflection()->GetString(m, knob).empty()
                           : m.GetReflection()->GetUInt64(m, knob) != 0;
      if (set) knobs.push_back({entry, knob});
    }
  }
  return knobs;
}

scenario::Scenario with_swarm_explicit(const scenario::Scenario& s, const ScenarioConfig& config,
                                       std::uint64_t seed) {
  SL_ASSERT(s.has_swarm());
  SL_ASSERT(config.has_swarm);
  scenario::Scenario out = s;
  out.clear_fault();
  for (const sim::Fault& f : scheduled_faults(config, seed)) {
    *out.add_fault() = fault_to_proto(f, config.topology);
  }
  out.clear_swarm();
  if (config.swarm.liveness) {
    scenario::Swarm* heal = out.mutable_swarm();
    heal->set_mode(scenario::LIVENESS);
    heal->set_stop(format_duration_ns(config.swarm.stop_ns));
    heal->set_recovery_bound(format_duration_ns(config.recovery_bound_ns));
  }
  return out;
}

scenario::Scenario with_faults(const scenario::Scenario& s, const std::vector<int>& keep) {
  scenario::Scenario out = s;
  out.clear_fault();
  for (const int i : keep) {
    SL_ASSERT(i >= 0 && i < s.fault_size());
    *out.add_fault() = s.fault(i);
  }
  return out;
}

scenario::Scenario with_duration(const scenario::Scenario& s, std::int64_t duration_ns) {
  SL_ASSERT_GT(duration_ns, 0);
  scenario::Scenario out = s;
  out.set_duration(format_duration_ns(duration_ns));
  out.clear_fault();
  for (const scenario::Fault& f : s.fault()) {
    const auto at = parse_duration_ns(f.at());
    SL_ASSERT_MSG(at.ok(), "a fault time that does not parse");
    if (at.value() < duration_ns) *out.add_fault() = f;
  }
  return out;
}

scenario::Scenario without_entry(const scenario::Scenario& s, WorkloadEntry entry) {
  scenario::Scenario out = s;
  scenario::Workload* w = out.mutable_workload();
  const auto* reflection = w->GetReflection();
  const int size = reflection->FieldSize(*w, entry.field);
  SL_ASSERT(entry.index >= 0 && entry.index < size);
  // Bubble the entry to the end, keeping the others in order, then drop it.
  for (int i = entry.index; i + 1 < size; ++i) reflection->SwapElements(w, entry.field, i, i + 1);
  reflection->RemoveLast(w, entry.field);
  return out;
}

std::optional<scenario::Scenario> with_knob_halved(const scenario::Scenario& s,
                                                   WorkloadKnob knob) {
  scenario::Scenario out = s;
  Message* entry = entry_message(&out, knob.entry);
  const auto* reflection = entry->GetReflection();
  if (knob.knob->type() == FieldDescriptor::TYPE_UINT64) {
    const std::uint64_t half = reflection->GetUInt64(*entry, knob.knob) / 2;
    if (half < 1) return std::nullopt;
    reflection->SetUInt64(entry, knob.knob, half);
    return out;
  }
  SL_ASSERT(knob.knob->type() == FieldDescriptor::TYPE_STRING);
  const auto text = halved_text(*entry, knob.knob, reflection->GetString(*entry, knob.knob));
  if (!text) return std::nullopt;
  reflection->SetString(entry, knob.knob, *text);
  return out;
}

}  // namespace streamlab::workloads
