#include "workloads/scenario/fault_text.h"

#include <google/protobuf/text_format.h>

#include "base/assert.h"
#include "workloads/scenario/units.h"

namespace streamlab::workloads {

namespace {

using FK = sim::FaultKind;
using Names = google::protobuf::RepeatedPtrField<std::string>;

void add_names(const std::vector<std::uint32_t>& ids, const sim::Topology& topology,
               Names* names) {
  for (const std::uint32_t id : ids) {
    SL_ASSERT_LT(id, topology.nodes.size());
    names->Add(std::string(topology.nodes[id].name));
  }
}

// The oneof member named for the kind, as the loader finds it (load_faults.cc kind_of).
google::protobuf::Message* kind_body(FK kind, scenario::Fault* out) {
  const auto* field = out->GetDescriptor()->FindFieldByName(sim::to_string(kind));
  SL_ASSERT_MSG(field != nullptr, "a fault kind without a field in scenario.proto");
  return out->GetReflection()->MutableMessage(out, field);
}

}  // namespace

scenario::Fault fault_to_proto(const sim::Fault& f, const sim::Topology& topology) {
  scenario::Fault out;
  out.set_at(format_duration_ns(f.at_ns));
  if (f.duration_ns != 0) out.set_for_(format_duration_ns(f.duration_ns));
  google::protobuf::Message* body = kind_body(f.kind, &out);
  switch (f.kind) {
    case FK::partition:
    case FK::connection_reset: {
      auto* p = static_cast<scenario::PartitionFault*>(body);
      add_names(f.nodes, topology, p->mutable_nodes());
      add_names(f.peers, topology, p->mutable_peers());
      p->set_one_way(f.one_way);
      break;
    }
    case FK::clog: {
      auto* c = static_cast<scenario::ClogFault*>(body);
      add_names(f.nodes, topology, c->mutable_nodes());
      add_names(f.peers, topology, c->mutable_peers());
      c->set_delay(format_duration_ns(f.amount_ns));
      break;
    }
    case FK::latency_spike: {
      auto* s = static_cast<scenario::SpikeFault*>(body);
      add_names(f.nodes, topology, s->mutable_nodes());
      s->set_delay(format_duration_ns(f.amount_ns));
      break;
    }
    case FK::bandwidth_cut: {
      auto* b = static_cast<scenario::BandwidthFault*>(body);
      add_names(f.nodes, topology, b->mutable_nodes());
      b->set_percent(f.percent);
      break;
    }
    case FK::crash: {
      auto* c = static_cast<scenario::CrashFault*>(body);
      add_names(f.nodes, topology, c->mutable_nodes());
      c->set_torn(f.torn);
      c->set_wipe(f.wipe);
      break;
    }
    case FK::clock_jump: {
      auto* j = static_cast<scenario::ClockJumpFault*>(body);
      add_names(f.nodes, topology, j->mutable_nodes());
      j->set_by(format_duration_ns(f.amount_ns));
      break;
    }
    case FK::disk_read_errors:
    case FK::disk_corruption:
    case FK::disk_misdirected_writes: {
      auto* d = static_cast<scenario::DiskProbabilityFault*>(body);
      add_names(f.nodes, topology, d->mutable_nodes());
      d->set_probability(f.probability);
      break;
    }
    case FK::disk_slow: {
      auto* d = static_cast<scenario::DiskSlowFault*>(body);
      add_names(f.nodes, topology, d->mutable_nodes());
      d->set_factor(f.factor);
      break;
    }
    case FK::restart:
    case FK::pause:
    case FK::disk_full:
    case FK::disk_lying_fsync:
      add_names(f.nodes, topology, static_cast<scenario::NodeSet*>(body)->mutable_nodes());
      break;
    case FK::zone_kill:
    case FK::zone_isolate:
    case FK::zone_restore: {
      SL_ASSERT_LT(f.zone, topology.zones.size());
      auto* z = static_cast<scenario::ZoneFault*>(body);
      z->set_zone(topology.zones[f.zone].name);
      z->set_wipe(f.wipe);
      break;
    }
    case FK::heal_network:
      break;
  }
  return out;
}

std::string fault_line(const sim::Fault& fault, const sim::Topology& topology) {
  google::protobuf::TextFormat::Printer printer;
  printer.SetSingleLineMode(true);
  std::string text;
  const bool printed = printer.PrintToString(fault_to_proto(fault, topology), &text);
  SL_ASSERT(printed);
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return "fault { " + text + " }";
}

}  // namespace streamlab::workloads
