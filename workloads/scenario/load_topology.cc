#include <cstdio>
#include <map>

#include "workloads/scenario/load_sections.h"

namespace streamlab::workloads {

namespace {

sim::Jitter load_jitter(const std::string& text, int line, LoadContext& ctx) {
  sim::Jitter j;
  if (text.empty() || text == "none") return j;
  const auto open = text.find('(');
  const auto close = text.rfind(')');
  if (open == std::string::npos || close != text.size() - 1 || close < open) {
    ctx.error(line, "jitter: expected \"none\", \"lognormal(0.2)\", \"exponential(50us)\" or "
                    "\"uniform(0us,100us)\", got \"" + text + "\"");
    return j;
  }
  const std::string kind = text.substr(0, open);
  const std::string args = text.substr(open + 1, close - open - 1);
  if (kind == "lognormal") {
    char* end = nullptr;
    j.sigma = std::strtod(args.c_str(), &end);
    if (end == args.c_str() || *end != '\0' || j.sigma < 0 || j.sigma > 5) {
      ctx.error(line, "jitter: lognormal sigma must be a number in [0, 5], got \"" + args + "\"");
    }
    j.kind = sim::Jitter::Kind::lognormal;
  } else if (kind == "exponential") {
    j.kind = sim::Jitter::Kind::exponential;
    j.mean_ns = ctx.duration(args, line, "jitter", 0);
  } else if (kind == "uniform") {
    const auto comma = args.find(',');
    if (comma == std::string::npos) {
      ctx.error(line, "jitter: uniform needs two durations, as in \"uniform(0us,100us)\"");
      return j;
    }
    j.kind = sim::Jitter::Kind::uniform;
    j.low_ns = ctx.duration(args.substr(0, comma), line, "jitter", 0);
    j.high_ns = ctx.duration(args.substr(comma + 1), line, "jitter", 0);
    if (j.low_ns > j.high_ns) ctx.error(line, "jitter: uniform low is above high");
  } else {
    ctx.error(line, "jitter: unknown distribution \"" + kind +
                        "\"; expected lognormal, exponential or uniform");
  }
  return j;
}

void add_zone(const scenario::Zone& zone, const Place& place, std::uint32_t region,
              const std::map<std::string, sim::HardwareProfile>& hardware, LoadContext& ctx,
              sim::Topology* out) {
  if (zone.name().empty()) ctx.error(place.line, "zone: missing 'name'");
  const auto zone_id = static_cast<std::uint32_t>(out->zones.size());
  if (!ctx.zone_ids.emplace(zone.name(), zone_id).second) {
    ctx.error(place.at("name"), "zone \"" + zone.name() + "\" is defined twice");
  }
  out->zones.push_back(sim::ZoneSpec{zone.name(), region});
  const sim::HardwareProfile default_hw =
      hardware.count("default") ? hardware.at("default") : sim::HardwareProfile{};
  auto add_node = [&](const std::string& name, int line) -> sim::NodeSpec* {
    if (name.empty()) {
      ctx.error(line, "node: missing 'name'");
      return nullptr;
    }
    const auto id = static_cast<std::uint32_t>(out->nodes.size());
    if (!ctx.node_ids.emplace(name, id).second) {
      ctx.error(line, "node \"" + name + "\" is defined twice");
      return nullptr;
    }
    out->nodes.push_back(sim::NodeSpec{name, "", zone_id, default_hw, 0, 0});
    return &out->nodes.back();
  };
  for (int i = 0; i < zone.nodes_size(); ++i) add_node(zone.nodes(i), place.at("nodes", i));
  for (int i = 0; i < zone.node_size(); ++i) {
    const scenario::NodeDef& def = zone.node(i);
    const Place np = place.nested("node", def, i);
    sim::NodeSpec* node = add_node(def.name(), np.at("name"));
    if (node == nullptr) continue;
    if (!def.hardware().empty()) {
      const auto it = hardware.find(def.hardware());
      if (it == hardware.end()) {
        ctx.error(np.at("hardware"), "hardware: no profile named \"" + def.hardware() + "\"");
      } else {
        node->hardware = it->second;
      }
    }
    node->clock_offset_ns =
        ctx.duration(def.clock_offset(), np.at("clock_offset"), "clock_offset", 0, true);
    node->clock_drift_ppm = def.clock_drift_ppm();
    if (def.clock_drift_ppm() <= -100'000 || def.clock_drift_ppm() >= 100'000) {
      ctx.error(np.at("clock_drift_ppm"), "clock_drift_ppm must be within +-100000");
    }
  }
}

}  // namespace

void load_topology(const scenario::Topology& in, const Place& place, LoadContext& ctx,
                   sim::Topology* out) {
  std::map<std::string, sim::HardwareProfile> hardware;
  for (int i = 0; i < in.hardware_size(); ++i) {
    const Place hp = place.nested("hardware", in.hardware(i), i);
    if (in.hardware(i).name().empty()) ctx.error(hp.line, "hardware: missing 'name'");
    if (!hardware.emplace(in.hardware(i).name(), load_hardware(in.hardware(i), hp, ctx)).second) {
      ctx.error(hp.at("name"), "hardware \"" + in.hardware(i).name() + "\" is defined twice");
    }
  }
  for (int r = 0; r < in.region_size(); ++r) {
    const scenario::Region& region = in.region(r);
    const Place rp = place.nested("region", region, r);
    if (region.name().empty()) ctx.error(rp.line, "region: missing 'name'");
    const auto region_id = static_cast<std::uint32_t>(out->regions.size());
    out->regions.push_back(sim::RegionSpec{region.name()});
    for (int z = 0; z < region.zone_size(); ++z) {
      add_zone(region.zone(z), rp.nested("zone", region.zone(z), z), region_id, hardware, ctx,
               out);
    }
  }
  if (in.zone_size() > 0) {
    const auto region_id = static_cast<std::uint32_t>(out->regions.size());
    out->regions.push_back(sim::RegionSpec{"default"});
    for (int z = 0; z < in.zone_size(); ++z) {
      add_zone(in.zone(z), place.nested("zone", in.zone(z), z), region_id, hardware, ctx, out);
    }
  }
  if (out->nodes.empty()) {
    ctx.error(place.line, "topology: no nodes; add a zone { name: \"a\" nodes: [\"n1\"] }");
  }
  if (in.has_latency()) {
    const scenario::Latency& l = in.latency();
    const Place lp = place.nested("latency", l);
    sim::LatencyProfile& lat = out->latency;
    lat.within_zone_ns =
        ctx.duration(l.within_zone(), lp.at("within_zone"), "within_zone", lat.within_zone_ns);
    lat.across_zones_ns = ctx.duration(l.across_zones(), lp.at("across_zones"), "across_zones",
                                       lat.across_zones_ns);
    lat.across_regions_ns = ctx.duration(l.across_regions(), lp.at("across_regions"),
                                         "across_regions", lat.across_regions_ns);
    lat.jitter = load_jitter(l.jitter(), lp.at("jitter"), ctx);
  }
  out->break_detection_ns = ctx.duration(in.break_detection(), place.at("break_detection"),
                                         "break_detection", out->break_detection_ns);
}

}  // namespace streamlab::workloads
