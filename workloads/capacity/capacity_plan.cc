#include "workloads/capacity/capacity_plan.h"

#include <google/protobuf/descriptor.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>

#include "workloads/scenario/load_context.h"
#include "workloads/scenario/scenario_loader.h"
#include "workloads/scenario/units.h"

namespace streamlab::workloads {

namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// Storage and broker settings by their short names, as a what-if names them.
constexpr std::pair<const char*, const char*> kAliases[] = {
    {"ensemble", "system.pulsar.storage.ensemble"},
    {"write_quorum", "system.pulsar.storage.write_quorum"},
    {"ack_quorum", "system.pulsar.storage.ack_quorum"},
    {"journal_sync_data", "system.pulsar.storage.journal_sync_data"},
    {"journal_max_group_wait", "system.pulsar.storage.journal_max_group_wait"},
    {"journal_buffered_writes_threshold", "system.pulsar.storage.journal_buffered_writes_threshold"},
    {"dedup", "system.pulsar.dedup"},
    {"max_entries_per_ledger", "system.pulsar.max_entries_per_ledger"},
};

// The text of the cluster as a scenario the loader accepts: a duration of its own.
std::string as_scenario_text(const scenario::Scenario& cluster, std::int64_t duration_ns) {
  scenario::Scenario s = cluster;
  s.set_duration(format_duration_ns(duration_ns));
  std::string text;
  google::protobuf::TextFormat::PrintToString(s, &text);
  return text;
}

// The loader's messages without their "file:line: " (the line is of generated text).
std::string without_places(const std::string& errors) {
  std::string out;
  std::size_t at = 0;
  while (at < errors.size()) {
    std::size_t end = errors.find('\n', at);
    if (end == std::string::npos) end = errors.size();
    std::string line = errors.substr(at, end - at);
    const std::size_t first = line.find(": ");
    if (first != std::string::npos) line = line.substr(first + 2);
    out += (out.empty() ? "" : "\n  ") + line;
    at = end + 1;
  }
  return out;
}

Result<std::uint64_t> whole_number(const std::string& value, std::uint64_t min) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || value[0] == '-' || errno == ERANGE || v < min) {
    return Error{"expected a whole number >= " + std::to_string(min) + ", got \"" + value + "\""};
  }
  return static_cast<std::uint64_t>(v);
}

std::string field_names(const Message& m) {
  std::string names;
  const auto* d = m.GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) names += (i ? ", " : "") + d->field(i)->name();
  return names;
}

Result<bool> set_scalar(Message& m, const FieldDescriptor* fd, const std::string& value) {
  const auto* r = m.GetReflection();
  char* end = nullptr;
  switch (fd->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      r->SetString(&m, fd, value);
      return true;
    case FieldDescriptor::CPPTYPE_BOOL:
      if (value != "true" && value != "false") return Error{"expected true or false"};
      r->SetBool(&m, fd, value == "true");
      return true;
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      const double v = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0') return Error{"expected a number"};
      r->SetDouble(&m, fd, v);
      return true;
    }
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64: {
      const Result<std::uint64_t> v = whole_number(value, 0);
      if (!v) return Error{v.error()};
      if (fd->cpp_type() == FieldDescriptor::CPPTYPE_UINT32) {
        if (v.value() > UINT32_MAX) return Error{"too large"};
        r->SetUInt32(&m, fd, static_cast<std::uint32_t>(v.value()));
      } else {
        r->SetUInt64(&m, fd, v.value());
      }
      return true;
    }
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64: {
      errno = 0;
      const long long v = std::strtoll(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || errno == ERANGE) return Error{"expected a whole number"};
      if (fd->cpp_type() == FieldDescriptor::CPPTYPE_INT32) {
        if (v < INT32_MIN || v > INT32_MAX) return Error{"out of range"};
        r->SetInt32(&m, fd, static_cast<std::int32_t>(v));
      } else {
        r->SetInt64(&m, fd, v);
      }
      return true;
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const auto* e = fd->enum_type()->FindValueByName(value);
      if (e == nullptr) return Error{"no such value of " + fd->enum_type()->name()};
      r->SetEnum(&m, fd, e);
      return true;
    }
    default:
      return Error{"not a setting with one value"};
  }
}

// Sets the field at `path` (dot-separated) under `m`; through a repeated message, in each.
Result<bool> set_path(Message& m, std::string_view path, const std::string& value) {
  const std::size_t dot = path.find('.');
  const std::string name(path.substr(0, dot));
  const FieldDescriptor* fd = m.GetDescriptor()->FindFieldByName(name);
  if (fd == nullptr) {
    return Error{"no field \"" + name + "\" in " + m.GetDescriptor()->name() +
                 " (it has " + field_names(m) + ")"};
  }
  const auto* r = m.GetReflection();
  if (dot == std::string_view::npos) {
    if (fd->is_repeated()) return Error{"\"" + name + "\" is a list, not a setting"};
    return set_scalar(m, fd, value);
  }
  if (fd->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
    return Error{"\"" + name + "\" has no fields"};
  }
  if (!fd->is_repeated()) return set_path(*r->MutableMessage(&m, fd), path.substr(dot + 1), value);
  const int n = r->FieldSize(m, fd);
  if (n == 0) return Error{"\"" + name + "\" has no entries to set"};
  for (int i = 0; i < n; ++i) {
    const Result<bool> done = set_path(*r->MutableRepeatedMessage(&m, fd, i), path.substr(dot + 1), value);
    if (!done) return done;
  }
  return true;
}

Result<bool> set_journal_disk(scenario::Scenario& cluster, const std::string& value) {
  if (value != "shared" && value != "dedicated") {
    return Error{"expected shared or dedicated, got \"" + value + "\""};
  }
  scenario::Topology& t = *cluster.mutable_topology();
  bool has_default = false;
  for (scenario::Hardware& h : *t.mutable_hardware()) {
    h.set_journal(value);
    has_default = has_default || h.name() == "default";
  }
  if (!has_default) {
    scenario::Hardware* h = t.add_hardware();
    h->set_name("default");
    h->set_journal(value);
  }
  return true;
}

// What the loader found wrong with the cluster, or its configuration.
Result<ScenarioConfig> load_cluster(const scenario::Scenario& cluster, const std::string& file) {
  return parse_scenario(as_scenario_text(cluster, 1'000'000'000), file);
}

Result<bool> set_omb_key(OmbWorkload& w, const std::string& key, const std::string& value) {
  struct Key {
    const char* name;
    std::uint64_t min;
    void (*set)(OmbWorkload&, std::uint64_t);
  };
  static constexpr Key kKeys[] = {
      {"messageSize", 8, [](OmbWorkload& w, std::uint64_t v) { w.message_size = v; }},
      {"topics", 1, [](OmbWorkload& w, std::uint64_t v) { w.topics = static_cast<std::uint32_t>(v); }},
      {"partitionsPerTopic", 1,
       [](OmbWorkload& w, std::uint64_t v) { w.partitions_per_topic = static_cast<std::uint32_t>(v); }},
      {"producersPerTopic", 1,
       [](OmbWorkload& w, std::uint64_t v) { w.producers_per_topic = static_cast<std::uint32_t>(v); }},
      {"subscriptionsPerTopic", 0,
       [](OmbWorkload& w, std::uint64_t v) { w.subscriptions_per_topic = static_cast<std::uint32_t>(v); }},
      {"consumerPerSubscription", 1,
       [](OmbWorkload& w, std::uint64_t v) { w.consumer_per_subscription = static_cast<std::uint32_t>(v); }},
  };
  for (const Key& k : kKeys) {
    if (key != k.name) continue;
    const Result<std::uint64_t> v = whole_number(value, k.min);
    if (!v) return Error{v.error()};
    if (v.value() > 100'000) return Error{"at most 100000"};
    k.set(w, v.value());
    return true;
  }
  return false;
}

Result<bool> set_producer_key(CapacityProducer& p, const std::string& key, const std::string& value) {
  if (key == "batching_max_publish_delay" || key == "batching_max_delay") {
    const Result<std::int64_t> d = parse_duration_ns(value);
    if (!d) return Error{d.error()};
    p.batching_max_delay = value;
  } else if (key == "batching_max_bytes") {
    const Result<std::int64_t> b = parse_bytes(value);
    if (!b) return Error{b.error()};
    p.batching_max_bytes = value;
  } else if (key == "batching_max_messages" || key == "max_pending_messages") {
    const Result<std::uint64_t> v = whole_number(value, 1);
    if (!v) return Error{v.error()};
    if (v.value() > 1'000'000) return Error{"at most 1000000"};
    (key == "max_pending_messages" ? p.max_pending : p.batching_max_messages) =
        static_cast<std::uint32_t>(v.value());
  } else {
    return false;
  }
  return true;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> capacity_setting_keys() {
  std::vector<std::pair<std::string, std::string>> keys = {
      {"messageSize, topics, partitionsPerTopic, producersPerTopic, subscriptionsPerTopic, "
       "consumerPerSubscription", "the OMB workload's"},
      {"batching_max_publish_delay, batching_max_messages, batching_max_bytes, "
       "max_pending_messages", "the producers' (defaults 1ms, 1000, 128KiB, 10000)"},
      {"journal_disk", "shared (the journal on the main disk) or dedicated (its own device)"},
  };
  for (const auto& [alias, path] : kAliases) keys.emplace_back(alias, path);
  keys.emplace_back("a.b.c", "any scalar field of the cluster file by its path");
  return keys;
}

Result<CapacityPlan> load_capacity_plan(const std::string& cluster_file, OmbWorkload workload) {
  const Result<std::string> text = read_scenario_text(cluster_file);
  if (!text) return Error{text.error()};
  if (workload.consumer_backlog_size_gb > 0) {
    return Error{workload.file + ": consumerBacklogSizeGB: a backlog build-up and drain run "
                 "is not modelled yet; set it to 0"};
  }
  CapacityPlan plan;
  plan.cluster_file = cluster_file;
  plan.workload = std::move(workload);
  LoadContext ctx(cluster_file);
  google::protobuf::TextFormat::ParseInfoTree tree;
  if (!parse_text(text.value(), &plan.cluster, &tree, ctx)) {
    return Error{ctx.joined_errors()};
  }
  const scenario::Scenario& c = plan.cluster;
  const Place root{&c, &tree, 0};
  const char* kNot = ": a cluster file has none (`streamlab capacity` makes each load point's "
                     "from the workload)";
  if (!c.duration().empty()) ctx.error(root.at("duration"), std::string("duration") + kNot);
  if (c.has_workload()) ctx.error(root.at("workload"), std::string("workload") + kNot);
  if (c.fault_size() > 0) ctx.error(root.at("fault", 0), "fault: a load test runs without faults");
  if (c.has_swarm()) ctx.error(root.at("swarm"), "swarm: a load test runs without faults");
  if (c.expect_size() > 0) ctx.error(root.at("expect", 0), "expect: a load test judges no anomalies");
  if (!c.system().has_pulsar()) {
    ctx.error(root.at("system"), "system: capacity needs system { pulsar { ... } }");
  } else if (c.system().pulsar().topic_size() > 0) {
    const Place sp = root.nested("system", c.system()).nested("pulsar", c.system().pulsar());
    ctx.error(sp.at("topic", 0), "topic: the workload's topics come from --workload");
  }
  if (ctx.failed()) return Error{ctx.joined_errors()};
  // The loader's own checks, with the file's own lines: the cluster as written plus a
  // duration at its end.
  const Result<ScenarioConfig> loaded =
      parse_scenario(text.value() + "\nduration: \"1s\"\n", cluster_file);
  if (!loaded) return Error{loaded.error()};
  for (const sim::NodeSpec& node : loaded.value().topology.nodes) {
    if (node.role.empty()) plan.clients.push_back(node.name);
  }
  if (plan.clients.empty()) {
    return Error{cluster_file + ":1: topology: no client node (a node that runs no system "
                 "role): producers and consumers need one"};
  }
  return plan;
}

Result<CapacityPlan> with_setting(CapacityPlan plan, const std::string& key,
                                  const std::string& value) {
  const std::string what = key + "=" + value;
  const auto fail = [&](const std::string& why) { return Error{what + ": " + why}; };
  if (const Result<bool> r = set_omb_key(plan.workload, key, value); !r || r.value()) {
    if (!r) return fail(r.error());
    plan.settings.push_back(what);
    return plan;
  }
  if (const Result<bool> r = set_producer_key(plan.producer, key, value); !r || r.value()) {
    if (!r) return fail(r.error());
    plan.settings.push_back(what);
    return plan;
  }
  Result<bool> set = key == "journal_disk" ? set_journal_disk(plan.cluster, value) : Result<bool>(false);
  if (key != "journal_disk") {
    std::string path = key;
    for (const auto& [alias, full] : kAliases) {
      if (key == alias) path = full;
    }
    if (path.find('.') == std::string::npos) {
      std::string known;
      for (const auto& [keys, meaning] : capacity_setting_keys()) known += "\n  " + keys;
      return fail("unknown setting; known:" + known);
    }
    set = set_path(plan.cluster, path, value);
  }
  if (!set) return fail(set.error());
  const Result<ScenarioConfig> loaded = load_cluster(plan.cluster, plan.cluster_file);
  if (!loaded) return fail("the cluster no longer loads:\n  " + without_places(loaded.error()));
  plan.settings.push_back(what);
  return plan;
}

Result<ScenarioConfig> load_point_scenario(const CapacityPlan& plan, double rate,
                                           std::int64_t duration_ns,
                                           std::int64_t producers_start_ns) {
  SL_ASSERT(rate > 0 && producers_start_ns < duration_ns);
  const OmbWorkload& w = plan.workload;
  scenario::Scenario s = plan.cluster;
  if (s.name().empty()) s.set_name(w.name);
  scenario::PulsarSystem& pulsar = *s.mutable_system()->mutable_pulsar();
  if (!pulsar.has_spread_lookups()) pulsar.set_spread_lookups(true);
  scenario::Workload& load = *s.mutable_workload();
  const std::uint32_t producers = w.topics * w.producers_per_topic;
  char rate_text[64];
  std::snprintf(rate_text, sizeof rate_text, "%.6f/s", rate / producers);
  std::size_t next_client = 0;
  const auto client = [&] { return plan.clients[next_client++ % plan.clients.size()]; };
  for (std::uint32_t t = 0; t < w.topics; ++t) {
    const std::string topic = "topic-" + std::to_string(t);
    scenario::TopicDef* def = pulsar.add_topic();
    def->set_name(topic);
    def->set_partitions(w.partitions_per_topic);
    for (std::uint32_t p = 0; p < w.producers_per_topic; ++p) {
      scenario::Producer* pr = load.add_producer();
      pr->set_node(client());
      pr->set_topic(topic);
      pr->set_name(topic + "-p" + std::to_string(p));
      pr->set_rate(rate_text);
      pr->set_size(std::to_string(w.message_size) + "B");
      if (w.key_distributor != OmbKeyDistributor::no_key) {
        pr->set_keys(scenario::UNIFORM);
        pr->set_key_count(10'000);
      }
      pr->set_batching_max_delay(plan.producer.batching_max_delay);
      pr->set_batching_max_messages(plan.producer.batching_max_messages);
      pr->set_batching_max_bytes(plan.producer.batching_max_bytes);
      pr->set_max_pending(plan.producer.max_pending);
      pr->set_start(format_duration_ns(producers_start_ns));
    }
    for (std::uint32_t sub = 0; sub < w.subscriptions_per_topic; ++sub) {
      for (std::uint32_t c = 0; c < w.consumer_per_subscription; ++c) {
        scenario::Consumer* co = load.add_consumer();
        co->set_node(client());
        co->set_topic(topic);
        co->set_subscription("sub-" + std::to_string(sub));
        co->set_type(scenario::FAILOVER);
        co->set_name(topic + "-s" + std::to_string(sub) + "-c" + std::to_string(c));
      }
    }
  }
  Result<ScenarioConfig> config = parse_scenario(as_scenario_text(s, duration_ns), plan.cluster_file);
  if (!config) return Error{"the load point does not load:\n  " + without_places(config.error())};
  for (QueueClientSpec& spec : config.value().queue_clients) {
    for (QueueProducerConfig& p : spec.config.producers) p.block_if_queue_full = true;
  }
  return config;
}

}  // namespace streamlab::workloads
