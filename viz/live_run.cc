#include "viz/live_run.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>

#include "base/assert.h"
#include "workloads/scenario/fault_text.h"
#include "workloads/run/scenario_session.h"

namespace streamlab::viz {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxLoggedEvents = 200'000;
constexpr int kRunNice = 10;
constexpr auto kPublishEvery = std::chrono::milliseconds(33);
// A check re-reads the whole history and every journal: at most every half second,
// and never more than a fifth of the thread's time.
constexpr auto kCheckEvery = std::chrono::milliseconds(500);
constexpr int kCheckCostShare = 5;
// Playing, the thread runs the simulation in slices of about this much wall time, so
// that commands and snapshots are never far apart.
constexpr auto kSliceTarget = std::chrono::milliseconds(15);

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// The session and what the thread keeps between slices.
struct RunState {
  RunPhase phase = RunPhase::paused;
  double pace = 1;
  std::int64_t target_ns = -1;  // run_to: pause there.
  Clock::time_point anchor_wall;
  std::int64_t anchor_sim_ns = 0;
  std::int64_t slice_ns = 1'000'000;  // Simulated time per slice at full speed.
  Clock::time_point last_check_wall;
  Clock::duration check_cost{};
  std::int64_t checked_at_ns = -1;
  workloads::CheckResult check;
  Points below_write_quorum;
  Points below_ack_quorum;
  std::vector<std::string> failed_expectations;
  std::vector<std::string> recorded;
  std::string recording_error;
  // The measured pace: simulated and wall time at the start of the current second.
  Clock::time_point rate_wall;
  std::int64_t rate_sim_ns = 0;
  double measured_pace = 0;
  std::int64_t link_sample_ns = 0;
  std::vector<double> link_bytes;
  std::vector<float> link_rates;
};

}  // namespace

LiveRun::LiveRun(RunSpec spec) : spec_(std::move(spec)) {
  auto first = std::make_shared<Snapshot>();
  first->label = spec_.label;
  first->end_ns = spec_.config.duration_ns;
  snapshot_ = std::move(first);
  thread_ = std::thread([this] { main(); });
}

LiveRun::~LiveRun() {
  {
    std::lock_guard lock(mu_);
    quit_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::shared_ptr<const Snapshot> LiveRun::snapshot() const {
  std::lock_guard lock(mu_);
  return snapshot_;
}

std::size_t LiveRun::events_since(std::size_t from, std::vector<LogEvent>& out) const {
  std::lock_guard lock(mu_);
  if (from >= events_.size()) return 0;
  out.insert(out.end(), events_.begin() + static_cast<std::ptrdiff_t>(from), events_.end());
  return events_.size() - from;
}

void LiveRun::send(Command command) {
  {
    std::lock_guard lock(mu_);
    commands_.push_back(std::move(command));
  }
  wake_.notify_all();
}

void LiveRun::play(double pace) {
  SL_ASSERT_GE(pace, 0);
  send({Command::Kind::play, pace, 0, {}});
}
void LiveRun::pause() { send({Command::Kind::pause, 0, 0, {}}); }
void LiveRun::step() { send({Command::Kind::step, 0, 0, {}}); }
void LiveRun::run_to(std::int64_t time_ns) { send({Command::Kind::run_to, 0, time_ns, {}}); }
void LiveRun::inject(sim::Fault fault, std::int64_t at_least_ns) {
  for (const std::uint32_t node : fault.nodes) SL_ASSERT_LT(node, spec_.config.topology.nodes.size());
  for (const std::uint32_t node : fault.peers) SL_ASSERT_LT(node, spec_.config.topology.nodes.size());
  send({Command::Kind::inject, 0, at_least_ns, std::move(fault)});
}
void LiveRun::heal_all() { send({Command::Kind::heal_all, 0, 0, {}}); }

void LiveRun::main() {
  // The window's frames come first: on a machine with few cores the simulation takes
  // what the UI leaves (a nice level for this thread only; Linux threads have their own).
  setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), kRunNice);
  const workloads::ScenarioConfig& config = spec_.config;
  const auto n = static_cast<std::uint32_t>(config.topology.nodes.size());
  RunCollector collector(n, kMaxLoggedEvents);
  workloads::RunOptions options;
  options.seed = spec_.seed;
  options.trace_sink = &collector;
  workloads::ScenarioSession session(config, options);
  sim::World& world = session.world();
  RunState s;
  s.last_check_wall = s.rate_wall = Clock::now();
  Clock::time_point last_publish{};
  bool dirty = true;
  std::size_t events_published = 0;

  const auto write_recording = [&] {
    std::ofstream out(spec_.recording_file, std::ios::trunc);
    out << spec_.scenario_text << "\n# Faults injected from streamlab-gui, seed "
        << session.seed() << ":\n";
    for (const std::string& line : s.recorded) out << line << "\n";
    out.close();
    s.recording_error = out ? "" : "cannot write " + spec_.recording_file;
  };
  const auto inject = [&](sim::Fault fault) {
    const std::optional<sim::Fault> done = session.inject_now(std::move(fault));
    if (!done) return;  // At the very end: nothing left to act on.
    s.recorded.push_back(workloads::fault_line(*done, config.topology));
    if (!spec_.recording_file.empty()) write_recording();
  };
  const auto check_now = [&] {
    const Clock::time_point start = Clock::now();
    s.check = session.check_so_far();
    s.check_cost = Clock::now() - start;
    s.last_check_wall = Clock::now();
    s.checked_at_ns = session.now();
    const auto metric = [&](const char* name) {
      const auto it = s.check.metrics.find(name);
      return it == s.check.metrics.end() ? 0.0 : it->second;
    };
    s.below_write_quorum.emplace_back(session.now(), metric("entries_below_write_quorum"));
    s.below_ack_quorum.emplace_back(session.now(), metric("entries_below_ack_quorum"));
  };
  const auto publish = [&] {
    auto snap = std::make_shared<Snapshot>();
    snap->label = spec_.label;
    snap->seed = session.seed();
    snap->phase = s.phase;
    snap->now_ns = session.now();
    snap->end_ns = session.end_ns();
    snap->events = world.kernel().events_executed();
    snap->trace_hash = world.kernel().trace_hash();
    snap->sim_seconds_per_wall_second = s.measured_pace;
    for (const sim::ZoneSpec& z : config.topology.zones) {
      snap->zones.push_back({z.name, config.topology.regions[z.region].name});
    }
    for (std::uint32_t i = 0; i < n; ++i) {
      const sim::NodeSpec& spec = config.topology.nodes[i];
      NodeView v;
      v.name = spec.name;
      v.role = spec.role;
      v.zone = spec.zone;
      switch (world.state(i)) {
        case sim::NodeState::idle: v.look = NodeLook::idle; break;
        case sim::NodeState::up: v.look = world.paused(i) ? NodeLook::paused : NodeLook::up; break;
        case sim::NodeState::crashed: v.look = NodeLook::crashed; break;
      }
      v.fenced = collector.fenced(i);
      v.disk_slow = world.disk(i).faults().slowdown_factor > 1;
      for (const std::string& topic : collector.owned(i)) {
        if (!v.owns.empty()) v.owns += ", ";
        v.owns += topic;
      }
      v.owns_count = static_cast<std::uint32_t>(collector.owned(i).size());
      snap->nodes.push_back(std::move(v));
    }
    const std::int64_t window_ns = session.now() - s.link_sample_ns;
    if (window_ns > 0) {
      collector.take_link_bytes(s.link_bytes);
      s.link_rates.assign(s.link_bytes.size(), 0.0f);
      for (std::size_t k = 0; k < s.link_bytes.size(); ++k) {
        s.link_rates[k] = static_cast<float>(s.link_bytes[k] * 1e9 / static_cast<double>(window_ns));
      }
      s.link_sample_ns = session.now();
    }
    snap->link_bytes_per_s = s.link_rates;
    snap->link_blocked.assign(static_cast<std::size_t>(n) * n, 0);
    for (std::uint32_t a = 0; a < n; ++a) {
      for (std::uint32_t b = 0; b < n; ++b) {
        if (a != b && world.network().blocked(a, b)) {
          snap->link_blocked[static_cast<std::size_t>(a) * n + b] = 1;
          snap->nodes[a].partitioned = true;
        }
      }
    }
    snap->check = s.check;
    snap->checked_at_ns = s.checked_at_ns;
    snap->below_write_quorum = s.below_write_quorum;
    snap->below_ack_quorum = s.below_ack_quorum;
    snap->failed_expectations = s.failed_expectations;
    for (const sim::FaultLogEntry& e : session.injector().log()) {
      snap->faults.push_back({e.time_ns, e.lifted, e.text});
    }
    snap->recorded_faults = s.recorded;
    const std::string file = s.recorded.empty() ? spec_.scenario_file : spec_.recording_file;
    snap->reproduce_command =
        "streamlab run " + file + " --seed " + std::to_string(session.seed());
    snap->error = s.recording_error;
    snap->events_not_kept = collector.events_not_kept();
    const std::vector<LogEvent>& log = collector.events();
    std::lock_guard lock(mu_);
    snapshot_ = std::move(snap);
    events_.insert(events_.end(), log.begin() + static_cast<std::ptrdiff_t>(events_published),
                   log.end());
    events_published = log.size();
  };

  std::vector<Command> commands;
  for (;;) {
    commands.clear();
    {
      std::unique_lock lock(mu_);
      if (commands_.empty() && !quit_ && !dirty && s.phase != RunPhase::playing) {
        wake_.wait_for(lock, std::chrono::milliseconds(100));
      }
      if (quit_) return;
      commands.swap(commands_);
    }
    for (Command& c : commands) {
      dirty = true;
      if (s.phase == RunPhase::finished) continue;
      switch (c.kind) {
        case Command::Kind::play:
          s.phase = RunPhase::playing;
          s.pace = c.pace;
          s.target_ns = -1;
          s.anchor_wall = Clock::now();
          s.anchor_sim_ns = session.now();
          break;
        case Command::Kind::pause:
          s.phase = RunPhase::paused;
          break;
        case Command::Kind::step:
          s.phase = RunPhase::paused;
          session.step();
          break;
        case Command::Kind::run_to:
          if (c.time_ns <= session.now()) break;
          s.phase = RunPhase::playing;
          s.pace = 0;
          s.target_ns = c.time_ns;
          break;
        case Command::Kind::inject:
          if (c.time_ns > session.now()) session.run_until(c.time_ns);
          inject(std::move(c.fault));
          break;
        case Command::Kind::heal_all: {
          sim::Fault heal;
          heal.kind = sim::FaultKind::heal_network;
          inject(heal);
          for (std::uint32_t i = 0; i < n; ++i) {
            if (world.state(i) != sim::NodeState::crashed) continue;
            sim::Fault restart;
            restart.kind = sim::FaultKind::restart;
            restart.nodes = {i};
            inject(restart);
          }
          break;
        }
      }
    }
    if (s.phase == RunPhase::playing) {
      std::int64_t limit = session.now() + s.slice_ns;
      if (s.pace > 0) {
        const double due = static_cast<double>(s.anchor_sim_ns) +
                           seconds(Clock::now() - s.anchor_wall) * s.pace * 1e9;
        limit = std::min(limit, static_cast<std::int64_t>(due));
      }
      if (s.target_ns >= 0) limit = std::min(limit, s.target_ns);
      limit = std::min(limit, session.end_ns());
      if (limit > session.now()) {
        const Clock::time_point start = Clock::now();
        session.run_until(limit);
        const Clock::duration took = Clock::now() - start;
        if (took < kSliceTarget / 2) s.slice_ns = std::min<std::int64_t>(s.slice_ns * 2, 10'000'000'000);
        if (took > kSliceTarget * 2) s.slice_ns = std::max<std::int64_t>(s.slice_ns / 2, 1'000);
        dirty = true;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      if (s.target_ns >= 0 && session.now() >= s.target_ns) s.phase = RunPhase::paused;
    }
    if (s.phase != RunPhase::finished && session.at_end()) {
      workloads::RunResult result = session.finish();
      s.phase = RunPhase::finished;
      s.check = std::move(result.check);
      s.checked_at_ns = session.now();
      s.failed_expectations = std::move(result.failed_expectations);
      dirty = true;
    }
    const Clock::time_point wall = Clock::now();
    if (wall - s.rate_wall >= std::chrono::seconds(1)) {
      s.measured_pace = static_cast<double>(session.now() - s.rate_sim_ns) / 1e9 /
                        seconds(wall - s.rate_wall);
      s.rate_wall = wall;
      s.rate_sim_ns = session.now();
    }
    if (s.phase != RunPhase::finished && s.checked_at_ns != session.now()) {
      const bool paused = s.phase == RunPhase::paused;
      const bool due = wall - s.last_check_wall >= std::max<Clock::duration>(
                                                        kCheckEvery, s.check_cost * kCheckCostShare);
      if (paused || due) {
        check_now();
        dirty = true;
      }
    }
    if (dirty && (s.phase != RunPhase::playing || Clock::now() - last_publish >= kPublishEvery)) {
      publish();
      last_publish = Clock::now();
      dirty = false;
    }
  }
}

}  // namespace streamlab::viz
