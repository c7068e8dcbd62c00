#include <algorithm>

#include "workloads/scenario/load_sections.h"

namespace streamlab::workloads {

namespace {

using FK = sim::FaultKind;

// The oneof case's field name is the fault kind's name, so one table serves both.
bool kind_of(const scenario::Fault& in, FK* kind) {
  if (in.kind_case() == scenario::Fault::KIND_NOT_SET) return false;
  const auto* field = in.GetDescriptor()->FindFieldByNumber(in.kind_case());
  return sim::parse_fault_kind(field->name(), kind);
}

void check_probability(double p, const Place& place, LoadContext& ctx) {
  if (p <= 0 || p > 1) ctx.error(place.at("probability"), "probability must be in (0, 1]");
}

// Adds every node of the named zones to `ids`, keeping ids sorted and unique.
void add_zone_nodes(const google::protobuf::RepeatedPtrField<std::string>& zones,
                    const Place& place, const char* field, const ScenarioConfig& config,
                    LoadContext& ctx, std::vector<std::uint32_t>* ids) {
  for (int i = 0; i < zones.size(); ++i) {
    const auto it = ctx.zone_ids.find(zones[i]);
    if (it == ctx.zone_ids.end()) {
      ctx.error(place.at(field, i), std::string(field) + ": no zone named \"" + zones[i] +
                                        "\" in the topology");
      continue;
    }
    for (std::uint32_t n = 0; n < config.topology.nodes.size(); ++n) {
      if (config.topology.nodes[n].zone == it->second) ids->push_back(n);
    }
  }
  std::sort(ids->begin(), ids->end());
  ids->erase(std::unique(ids->begin(), ids->end()), ids->end());
}

std::uint32_t zone_of(const scenario::ZoneFault& z, const Place& place, LoadContext& ctx) {
  const auto it = ctx.zone_ids.find(z.zone());
  if (it == ctx.zone_ids.end()) {
    ctx.error(place.at("zone"), "zone: no zone named \"" + z.zone() + "\" in the topology");
    return 0;
  }
  return it->second;
}

// Fills the kind-specific part of `out` from the oneof member.
void load_kind(const scenario::Fault& in, const Place& place, const ScenarioConfig& config,
               LoadContext& ctx, sim::Fault* out) {
  const auto* field = in.GetDescriptor()->FindFieldByNumber(in.kind_case());
  const char* name = field->name().c_str();
  const google::protobuf::Message& body = in.GetReflection()->GetMessage(in, field);
  const Place p = place.nested(name, body);
  switch (out->kind) {
    case FK::partition:
    case FK::connection_reset: {
      const auto& f = static_cast<const scenario::PartitionFault&>(body);
      out->nodes = ctx.nodes(f.nodes(), p, "nodes", f.zones().empty());
      out->peers = ctx.nodes(f.peers(), p, "peers", false);
      add_zone_nodes(f.zones(), p, "zones", config, ctx, &out->nodes);
      add_zone_nodes(f.peer_zones(), p, "peer_zones", config, ctx, &out->peers);
      out->one_way = f.one_way();
      break;
    }
    case FK::clog: {
      const auto& f = static_cast<const scenario::ClogFault&>(body);
      out->nodes = ctx.nodes(f.nodes(), p, "nodes", true);
      out->peers = ctx.nodes(f.peers(), p, "peers", false);
      out->amount_ns = ctx.duration(f.delay(), p.at("delay"), "delay", 0);
      if (f.delay().empty()) ctx.error(p.line, "clog: missing 'delay'");
      break;
    }
    case FK::latency_spike: {
      const auto& f = static_cast<const scenario::SpikeFault&>(body);
      out->nodes = ctx.nodes(f.nodes(), p, "nodes", true);
      out->amount_ns = ctx.duration(f.delay(), p.at("delay"), "delay", 0);
      if (f.delay().empty()) ctx.error(p.line, "latency_spike: missing 'delay'");
      break;
    }
    case FK::bandwidth_cut: {
      const auto& f = static_cast<const scenario::BandwidthFault&>(body);
      out->nodes = ctx.nodes(f.nodes(), p, "nodes", true);
      out->percent = f.percent();
      if (f.percent() < 1 || f.percent() > 100) {
        ctx.error(p.at("percent"), "percent must be in [1, 100]");
      }
      break;
    }
    case FK::crash: {
      const auto& f = static_cast<const scenario::CrashFault&>(body);
      out->nodes = ctx.nodes(f.nodes(), p, "nodes", true);
      out->torn = f.torn();
      out->wipe = f.wipe();
      if (f.torn() && f.wipe()) ctx.error(p.at("wipe"), "crash: torn and wipe together make no sense");
      break;
    }
    case FK::clock_jump: {
      const auto& f = static_cast<const scenario::ClockJumpFault&>(body);
      out->nodes = ctx.nodes(f.nodes(), p, "nodes", true);
      out->amount_ns = ctx.duration(f.by(), p.at("by"), "by", 0, /*allow_negative=*/true);
      if (f.by().empty()) ctx.error(p.line, "clock_jump: missing 'by'");
      break;
    }
    case FK::disk_read_errors:
    case FK::disk_corruption:
    case FK::disk_misdirected_writes: {
      const auto& f = static_cast<const scenario::DiskProbabilityFault&>(body);
      out->nodes = ctx.nodes(f.nodes(), p, "nodes", true);
      out->probability = f.probability();
      check_probability(f.probability(), p, ctx);
      break;
    }
    case FK::disk_slow: {
      const auto& f = static_cast<const scenario::DiskSlowFault&>(body);
      out->nodes = ctx.nodes(f.nodes(), p, "nodes", true);
      out->factor = f.factor();
      if (f.factor() < 2 || f.factor() > 1000) ctx.error(p.at("factor"), "factor must be in [2, 1000]");
      break;
    }
    case FK::restart:
    case FK::pause:
    case FK::disk_full:
    case FK::disk_lying_fsync:
      out->nodes = ctx.nodes(static_cast<const scenario::NodeSet&>(body).nodes(), p, "nodes", true);
      break;
    case FK::zone_kill:
    case FK::zone_isolate:
    case FK::zone_restore: {
      const auto& f = static_cast<const scenario::ZoneFault&>(body);
      out->zone = zone_of(f, p, ctx);
      out->wipe = f.wipe();
      if (f.wipe() && out->kind != FK::zone_kill) ctx.error(p.at("wipe"), "wipe: only zone_kill destroys disks");
      break;
    }
    case FK::heal_network:
      break;
  }
}

}  // namespace

void load_faults(const scenario::Scenario& in, const Place& place, LoadContext& ctx,
                 ScenarioConfig* out) {
  for (int i = 0; i < in.fault_size(); ++i) {
    const scenario::Fault& f = in.fault(i);
    const Place fp = place.nested("fault", f, i);
    sim::Fault fault;
    fault.origin = ctx.origin(fp.line);
    if (f.at().empty()) ctx.error(fp.line, "fault: missing 'at' (when to inject it)");
    fault.at_ns = ctx.duration(f.at(), fp.at("at"), "at", 0);
    fault.duration_ns = ctx.duration(f.for_(), fp.at("for"), "for", 0);
    if (out->duration_ns > 0 && fault.at_ns >= out->duration_ns) {
      ctx.error(fp.at("at"), "fault at " + f.at() + " is not before the end of the run");
    }
    if (!kind_of(f, &fault.kind)) {
      ctx.error(fp.line, "fault: no kind; add one of partition, clog, connection_reset, "
                         "latency_spike, bandwidth_cut, heal_network, crash, restart, pause, "
                         "clock_jump, disk_*, zone_kill, zone_isolate, zone_restore");
      continue;
    }
    if (fault.kind == FK::pause && fault.duration_ns <= 0) {
      ctx.error(fp.line, "pause: missing 'for' (how long the node stops)");
    }
    load_kind(f, fp, *out, ctx, &fault);
    out->faults.push_back(std::move(fault));
  }
  std::stable_sort(out->faults.begin(), out->faults.end(),
                   [](const sim::Fault& a, const sim::Fault& b) { return a.at_ns < b.at_ns; });
}

void load_swarm(const scenario::Swarm& in, const Place& place, LoadContext& ctx,
                ScenarioConfig* out) {
  out->has_swarm = true;
  sim::SwarmConfig& s = out->swarm;
  for (int i = 0; i < in.rate_size(); ++i) {
    const Place rp = place.nested("rate", in.rate(i), i);
    sim::FaultKind kind;
    if (!sim::parse_fault_kind(in.rate(i).kind(), &kind)) {
      ctx.error(rp.at("kind"), "kind: unknown fault kind \"" + in.rate(i).kind() + "\"");
      continue;
    }
    if (in.rate(i).per_minute() <= 0) ctx.error(rp.at("per_minute"), "per_minute must be > 0");
    if (!s.rate_per_minute.emplace(kind, in.rate(i).per_minute()).second) {
      ctx.error(rp.at("kind"), "kind \"" + in.rate(i).kind() + "\" has two rates");
    }
  }
  // A LIVENESS swarm without rates is the liveness judgement alone: the scripted faults,
  // then everything heals at `stop` and the system must recover (what `streamlab shrink`
  // writes when it turns a swarm's draw into scripted faults).
  if (in.rate_size() == 0 && in.mode() != scenario::LIVENESS) {
    ctx.error(place.line, "swarm: no 'rate'; the swarm would inject nothing");
  }
  if (in.targets_size() > 0) {
    s.targets = ctx.nodes(in.targets(), place, "targets", false);
  } else {
    for (std::uint32_t n = 0; n < out->topology.nodes.size(); ++n) {
      // Clients only judge (a restarted queue client would reuse its message numbers);
      // ledger writers stand in for brokers and may fail.
      const std::string& role = out->topology.nodes[n].role;
      if (role != "counter-client" && role != "queue-client") s.targets.push_back(n);
    }
  }
  s.start_ns = ctx.duration(in.start(), place.at("start"), "start", 0);
  s.stop_ns = ctx.duration(in.stop(), place.at("stop"), "stop", out->duration_ns);
  if (s.stop_ns > out->duration_ns || s.start_ns > s.stop_ns) {
    ctx.error(place.at("stop"), "swarm: need start <= stop <= the run's duration");
  }
  s.liveness = in.mode() == scenario::LIVENESS;
  s.duration_min_ns = ctx.duration(in.duration_min(), place.at("duration_min"), "duration_min",
                                   s.duration_min_ns);
  s.duration_max_ns = ctx.duration(in.duration_max(), place.at("duration_max"), "duration_max",
                                   s.duration_max_ns);
  if (s.duration_min_ns <= 0 || s.duration_min_ns > s.duration_max_ns) {
    ctx.error(place.at("duration_min"), "swarm: need 0 < duration_min <= duration_max");
  }
  if (s.liveness) {
    if (in.recovery_bound().empty()) {
      ctx.error(place.line, "swarm: LIVENESS mode needs 'recovery_bound'");
    }
    out->recovery_bound_ns =
        ctx.duration(in.recovery_bound(), place.at("recovery_bound"), "recovery_bound", 0);
    if (s.stop_ns + out->recovery_bound_ns >= out->duration_ns) {
      ctx.error(place.at("recovery_bound"),
                "swarm: stop + recovery_bound must leave time before the end of the run");
    }
  }
}

}  // namespace streamlab::workloads
