#include "workloads/scenario/scenario_loader.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "base/assert.h"
#include "workloads/checkers/anomaly_glossary.h"
#include "workloads/scenario/load_sections.h"
#include "workloads/scenario/units.h"

namespace streamlab::workloads {

namespace {

void load_counter(const scenario::CounterSystem& in, const Place& place, LoadContext& ctx,
                  ScenarioConfig* out) {
  const auto it = ctx.node_ids.find(in.server());
  if (in.server().empty()) {
    ctx.error(place.line, "counter: missing 'server' (the node that runs the counter)");
  } else if (it == ctx.node_ids.end()) {
    ctx.error(place.at("server"), "server: no node named \"" + in.server() + "\" in the topology");
  } else {
    out->counter.server = it->second;
    out->topology.nodes[it->second].role = "counter-server";
  }
  out->counter.server_config.fsync = !in.has_fsync() || in.fsync();
}

// One row per system a scenario can run, keyed by its field of the `System` oneof. A new
// system adds its row here (its section loader beside the others) and its adapter's line in
// systems/registry.cc; nothing else in the loader names a system.
struct SystemSection {
  const char* field;
  SystemKind kind;
  const char* checker;
  void (*load)(const google::protobuf::Message& in, const Place& place, LoadContext& ctx,
               ScenarioConfig* out);
};

template <class M, void (*Load)(const M&, const Place&, LoadContext&, ScenarioConfig*)>
void load_section(const google::protobuf::Message& in, const Place& place, LoadContext& ctx,
                  ScenarioConfig* out) {
  Load(static_cast<const M&>(in), place, ctx, out);
}

constexpr SystemSection kSystemSections[] = {
    {"counter", SystemKind::counter, "counter",
     &load_section<scenario::CounterSystem, load_counter>},
    {"bookkeeper", SystemKind::bookkeeper, "ledger",
     &load_section<scenario::BookKeeperSystem, load_bookkeeper>},
    {"pulsar", SystemKind::pulsar, "queue", &load_section<scenario::PulsarSystem, load_pulsar>},
};

void load_system(const scenario::System& in, const Place& root, LoadContext& ctx,
                 ScenarioConfig* out) {
  const google::protobuf::Reflection& reflection = *in.GetReflection();
  const google::protobuf::FieldDescriptor* set = reflection.GetOneofFieldDescriptor(
      in, in.GetDescriptor()->FindOneofByName("kind"));
  const Place place = root.nested("system", in);
  for (const SystemSection& section : kSystemSections) {
    if (set == nullptr || set->name() != section.field) continue;
    out->system = section.kind;
    out->checker = section.checker;
    if (!ctx.failed()) {
      const google::protobuf::Message& body = reflection.GetMessage(in, set);
      section.load(body, place.nested(section.field, body), ctx, out);
    }
    return;
  }
  SL_ASSERT_MSG(set == nullptr, "a system of the System oneof has no row in kSystemSections");
  std::string choices;
  const std::size_t count = std::size(kSystemSections);
  for (std::size_t i = 0; i < count; ++i) {
    if (i > 0) choices += i + 1 == count ? " or " : ", ";
    choices += std::string("'system { ") + kSystemSections[i].field + " { ... } }'";
  }
  ctx.error(root.at("system"), "missing " + choices);
}

void load_clients(const scenario::Workload& in, const Place& place, LoadContext& ctx,
                  ScenarioConfig* out) {
  if (in.counter_client_size() > 0 && out->system != SystemKind::counter) {
    ctx.error(place.at("counter_client", 0), "counter_client: needs system { counter { ... } }");
    return;
  }
  for (int i = 0; i < in.counter_client_size(); ++i) {
    const scenario::CounterClient& c = in.counter_client(i);
    const Place cp = place.nested("counter_client", c, i);
    ClientSpec spec;
    const auto it = ctx.node_ids.find(c.node());
    if (it == ctx.node_ids.end()) {
      ctx.error(cp.at("node"), c.node().empty()
                                   ? "counter_client: missing 'node'"
                                   : "node: no node named \"" + c.node() + "\" in the topology");
      continue;
    }
    spec.node = it->second;
    sim::NodeSpec& node = out->topology.nodes[spec.node];
    if (!node.role.empty()) {
      ctx.error(cp.at("node"), "node \"" + c.node() + "\" already runs " + node.role);
      continue;
    }
    node.role = "counter-client";
    CounterClientConfig& cfg = spec.config;
    cfg.server = out->topology.nodes[out->counter.server].name;
    if (c.rate().empty()) ctx.error(cp.line, "counter_client: missing 'rate', e.g. \"200/s\"");
    cfg.rate_per_s = ctx.rate(c.rate(), cp.at("rate"), "rate", 1);
    cfg.poisson = c.arrival() == scenario::POISSON;
    if (c.amount() != 0) cfg.amount = c.amount();
    cfg.timeout_ns = ctx.duration(c.timeout(), cp.at("timeout"), "timeout", cfg.timeout_ns);
    if (cfg.timeout_ns <= 0) ctx.error(cp.at("timeout"), "timeout must be > 0");
    if (c.max_in_flight() > 0) cfg.max_in_flight = c.max_in_flight();
    cfg.start_ns = ctx.duration(c.start(), cp.at("start"), "start", 0);
    cfg.stop_ns = ctx.duration(c.stop(), cp.at("stop"), "stop", out->duration_ns);
    cfg.max_adds = c.max_adds();
    if (cfg.start_ns > cfg.stop_ns) ctx.error(cp.at("stop"), "stop is before start");
    out->clients.push_back(std::move(spec));
  }
}

void load_checkers(const scenario::Scenario& in, const Place& place, LoadContext& ctx,
                   const std::string& checker) {
  if (checker.empty()) return;  // No system, already an error: its checker is unknown.
  for (int i = 0; i < in.checker_size(); ++i) {
    if (in.checker(i) != checker) {
      ctx.error(place.at("checker", i), "checker: unknown checker \"" + in.checker(i) +
                                            "\"; this system has: " + checker);
    }
  }
}

void load_expectations(const scenario::Scenario& in, const Place& place, LoadContext& ctx,
                       ScenarioConfig* out) {
  if (out->checker.empty()) return;  // No system, already an error: its names are unknown.
  const std::vector<std::string> known = checker_anomalies(out->checker);
  for (int i = 0; i < in.expect_size(); ++i) {
    const scenario::Expect& e = in.expect(i);
    const Place ep = place.nested("expect", e, i);
    if (std::find(known.begin(), known.end(), e.anomaly()) == known.end()) {
      std::string names;
      for (const auto& k : known) names += (names.empty() ? "" : ", ") + k;
      ctx.error(ep.at("anomaly"), "anomaly: unknown name \"" + e.anomaly() + "\"; known: " + names);
      continue;
    }
    out->expectations.push_back(Expectation{e.anomaly(), e.present(), ctx.origin(ep.line)});
  }
}

}  // namespace

Result<ScenarioConfig> parse_scenario(std::string_view text, const std::string& file_name,
                                      const ScenarioOverrides& overrides) {
  LoadContext ctx(file_name);
  scenario::Scenario in;
  google::protobuf::TextFormat::ParseInfoTree tree;
  if (!parse_text(std::string(text), &in, &tree, ctx)) {
    return Error{ctx.joined_errors()};
  }
  if (!overrides.duration.empty()) {
    const Result<std::int64_t> d = parse_duration_ns(overrides.duration);
    if (!d || d.value() <= 0) {
      return Error{"--duration: \"" + overrides.duration + "\" is not a duration > 0, e.g. 1h"};
    }
    in.set_duration(overrides.duration);
  }
  const Place root{&in, &tree, 0};
  ScenarioConfig out;
  out.file = file_name;
  out.run_flags = overrides.flags();
  out.name = in.name();
  out.description = in.description();
  if (in.name().empty()) ctx.error(0, "missing 'name'");
  if (in.duration().empty()) ctx.error(0, "missing 'duration', e.g. duration: \"60s\"");
  out.duration_ns = ctx.duration(in.duration(), root.at("duration"), "duration", 0);
  if (!in.duration().empty() && out.duration_ns <= 0) {
    ctx.error(root.at("duration"), "duration must be > 0");
  }
  out.seed = in.seed() == 0 ? 1 : in.seed();
  if (!in.has_topology()) ctx.error(0, "missing 'topology'");
  load_topology(in.topology(), root.nested("topology", in.topology()), ctx, &out.topology);
  load_system(in.system(), root, ctx, &out);
  if (!ctx.failed()) {
    const Place wp = root.nested("workload", in.workload());
    load_clients(in.workload(), wp, ctx, &out);
    load_writers(in.workload(), wp, ctx, &out);
    load_queue_clients(in.workload(), wp, ctx, &out);
    load_faults(in, root, ctx, &out);
  }
  if (in.has_swarm() && !ctx.failed()) {
    load_swarm(in.swarm(), root.nested("swarm", in.swarm()), ctx, &out);
  }
  load_checkers(in, root, ctx, out.checker);
  load_expectations(in, root, ctx, &out);
  if (ctx.failed()) {
    // An error about the run's length may come from the flag, not the file.
    const std::string why =
        overrides.duration.empty() ? "" : "\n(the run's duration is --duration " + overrides.duration + ")";
    return Error{ctx.joined_errors() + why};
  }
  return out;
}

Result<std::string> read_scenario_text(const std::string& path) {
  std::ifstream file(path);
  if (!file) return Error{path + ": cannot open the scenario file"};
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

Result<ScenarioConfig> load_scenario(const std::string& path, const ScenarioOverrides& overrides) {
  const Result<std::string> text = read_scenario_text(path);
  if (!text) return Error{text.error()};
  return parse_scenario(text.value(), path, overrides);
}

}  // namespace streamlab::workloads
