#include "workloads/capacity/capacity_probe.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "base/assert.h"
#include "sim/world.h"
#include "workloads/run/scenario_session.h"

namespace streamlab::workloads {

namespace {

// Every resource with its busy time so far and how much time it has per second of
// window (a CPU: one second per core).
struct Resource {
  std::string name;
  std::int64_t busy_ns = 0;
  double capacity = 1;
};

std::vector<Resource> resources(sim::World& world) {
  std::vector<Resource> out;
  for (std::uint32_t n = 0; n < world.node_count(); ++n) {
    const std::string& name = world.topology().nodes[n].name;
    out.push_back({"CPU of " + name, world.cpu(n).busy_ns(), static_cast<double>(world.cpu(n).cores())});
    out.push_back({"NIC out of " + name, world.network().nic_busy(n).out_ns, 1});
    out.push_back({"NIC in of " + name, world.network().nic_busy(n).in_ns, 1});
    const std::size_t disks = world.disk(n).device_count();
    for (std::size_t d = 0; d < disks; ++d) {
      const char* kind = disks == 1 ? "disk" : d == 0 ? "ledger disk" : "journal disk";
      out.push_back({std::string(kind) + " of " + name, world.disk(n).device_busy_ns(d), 1});
    }
  }
  return out;
}

// The busy share of each resource between two readings of resources(), busiest first.
std::vector<Utilisation> utilisation(const std::vector<Resource>& from,
                                     const std::vector<Resource>& to, std::int64_t window_ns) {
  SL_ASSERT_EQ(from.size(), to.size());
  std::vector<Utilisation> out;
  for (std::size_t i = 0; i < to.size(); ++i) {
    const double busy = static_cast<double>(to[i].busy_ns - from[i].busy_ns) /
                        (static_cast<double>(window_ns) * to[i].capacity);
    if (busy > 0) out.push_back(Utilisation{to[i].name, busy});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Utilisation& a, const Utilisation& b) { return a.busy > b.busy; });
  return out;
}

std::string judge(const LoadPoint& p, const ProbeSettings& settings) {
  const LoadMeasure& m = p.measure;
  char why[160];
  if (p.forgotten_reads > 0) {
    std::snprintf(why, sizeof why,
                  "%llu disk reads found bytes no longer kept in memory (raise "
                  "kept_bytes_per_file)",
                  static_cast<unsigned long long>(p.forgotten_reads));
    return why;
  }
  const double published = m.per_s(m.published);
  if (m.failed > 0) {
    std::snprintf(why, sizeof why, "%llu sends failed", static_cast<unsigned long long>(m.failed));
    return why;
  }
  if (published < 0.95 * p.target_rate) {
    std::snprintf(why, sizeof why, "published %.0f msg/s of %.0f", published, p.target_rate);
    return why;
  }
  const std::int64_t growth = m.backlog_end - m.backlog_start;
  if (static_cast<double>(growth) > 0.05 * static_cast<double>(m.consumed) + 100) {
    std::snprintf(why, sizeof why, "backlog grew by %lld messages", static_cast<long long>(growth));
    return why;
  }
  const std::int64_t p99 = m.publish_latency.quantile(0.99);
  if (p99 > settings.max_publish_p99_ns) {
    std::snprintf(why, sizeof why, "publish p99 %.1f ms above the %.1f ms bound", p99 / 1e6,
                  static_cast<double>(settings.max_publish_p99_ns) / 1e6);
    return why;
  }
  return "";
}

}  // namespace

Result<LoadPoint> probe(const CapacityPlan& plan, double rate, const ProbeSettings& settings) {
  const std::int64_t window_start = settings.producers_start_ns + settings.warmup_ns;
  const std::int64_t window_end = window_start + settings.measure_ns;
  Result<ScenarioConfig> config =
      load_point_scenario(plan, rate, window_end, settings.producers_start_ns);
  if (!config) return Error{config.error()};
  const auto wall_start = std::chrono::steady_clock::now();
  const std::uint32_t subscriptions = plan.workload.subscriptions_per_topic;
  CapacityMeter meter(window_start, window_end, subscriptions);
  RunOptions options;
  options.seed = settings.seed;
  options.queue_ops = [&meter](const QueueOp& op) { meter.record(op); };
  ScenarioSession session(config.value(), options);
  sim::World& world = session.world();
  for (std::uint32_t n = 0; n < world.node_count(); ++n) {
    world.disk(n).keep_recent_only(settings.kept_bytes_per_file);
  }
  session.run_until(window_start);
  const std::vector<Resource> before = resources(world);
  session.run_until(window_end);
  const std::vector<Resource> after = resources(world);
  LoadPoint point;
  point.target_rate = rate;
  point.measure = meter.result();
  point.utilisation = utilisation(before, after, settings.measure_ns);
  for (std::uint32_t n = 0; n < world.node_count(); ++n) {
    point.forgotten_reads += world.disk(n).stats().forgotten_reads;
  }
  point.events = world.kernel().events_executed();
  point.verdict = judge(point, settings);
  point.sustainable = point.verdict.empty();
  if (point.sustainable) point.verdict = "sustainable";
  point.wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return point;
}

}  // namespace streamlab::workloads
