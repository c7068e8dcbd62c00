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

workloads::RunOptions run_options(std::uint64_t seed, RunCollector& collector) {
  workloads::RunOptions options;
  options.seed = seed;
  options.trace_sink = &collector;
  return options;
}

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

// The run thread: the session, everything the thread keeps between slices, and the steps
// of its loop. It is nested in LiveRun so that it reaches the commands and the published
// snapshot, which LiveRun guards with mu_.
class LiveRun::Loop {
 public:
  explicit Loop(LiveRun& live);
  // Returns when the LiveRun is destroyed.
  void run();

 private:
  bool take_commands(std::vector<Command>& commands);
  void apply(Command& command);
  void heal_all();
  void inject(sim::Fault fault);
  void write_recording();
  void run_slice();
  std::int64_t slice_limit_ns() const;
  void finish();
  void measure_pace(Clock::time_point wall);
  bool check_due(Clock::time_point wall) const;
  void check_now();
  void publish();
  std::shared_ptr<Snapshot> snapshot();
  NodeView node_view(std::uint32_t node) const;
  void sample_link_rates();
  void mark_blocked_links(Snapshot& snap) const;

  LiveRun& live_;
  const RunSpec& spec_;
  const workloads::ScenarioConfig& config_;
  const std::uint32_t n_;
  RunCollector collector_;
  workloads::ScenarioSession session_;
  sim::World& world_;
  RunState s_;
  Clock::time_point last_publish_{};
  bool dirty_ = true;
  std::size_t events_published_ = 0;
};

LiveRun::Loop::Loop(LiveRun& live)
    : live_(live),
      spec_(live.spec_),
      config_(live.spec_.config),
      n_(static_cast<std::uint32_t>(config_.topology.nodes.size())),
      collector_(n_, kMaxLoggedEvents),
      session_(config_, run_options(spec_.seed, collector_)),
      world_(session_.world()) {
  s_.last_check_wall = s_.rate_wall = Clock::now();
}

void LiveRun::Loop::run() {
  std::vector<Command> commands;
  while (take_commands(commands)) {
    for (Command& c : commands) {
      dirty_ = true;
      if (s_.phase == RunPhase::finished) continue;
      apply(c);
    }
    if (s_.phase == RunPhase::playing) run_slice();
    if (s_.phase != RunPhase::finished && session_.at_end()) finish();
    const Clock::time_point wall = Clock::now();
    measure_pace(wall);
    if (s_.phase != RunPhase::finished && s_.checked_at_ns != session_.now() && check_due(wall)) {
      check_now();
      dirty_ = true;
    }
    if (dirty_ &&
        (s_.phase != RunPhase::playing || Clock::now() - last_publish_ >= kPublishEvery)) {
      publish();
      last_publish_ = Clock::now();
      dirty_ = false;
    }
  }
}

// Swaps in the commands sent since the last call. With nothing to do (no command, nothing
// to publish, not playing) it first waits a little for one. False: the run is to quit.
bool LiveRun::Loop::take_commands(std::vector<Command>& commands) {
  commands.clear();
  std::unique_lock lock(live_.mu_);
  if (live_.commands_.empty() && !live_.quit_ && !dirty_ && s_.phase != RunPhase::playing) {
    live_.wake_.wait_for(lock, std::chrono::milliseconds(100));
  }
  if (live_.quit_) return false;
  commands.swap(live_.commands_);
  return true;
}

void LiveRun::Loop::apply(Command& command) {
  switch (command.kind) {
    case Command::Kind::play:
      s_.phase = RunPhase::playing;
      s_.pace = command.pace;
      s_.target_ns = -1;
      s_.anchor_wall = Clock::now();
      s_.anchor_sim_ns = session_.now();
      return;
    case Command::Kind::pause:
      s_.phase = RunPhase::paused;
      return;
    case Command::Kind::step:
      s_.phase = RunPhase::paused;
      session_.step();
      return;
    case Command::Kind::run_to:
      if (command.time_ns <= session_.now()) return;
      s_.phase = RunPhase::playing;
      s_.pace = 0;
      s_.target_ns = command.time_ns;
      return;
    case Command::Kind::inject:
      if (command.time_ns > session_.now()) session_.run_until(command.time_ns);
      inject(std::move(command.fault));
      return;
    case Command::Kind::heal_all:
      heal_all();
      return;
  }
}

void LiveRun::Loop::heal_all() {
  sim::Fault heal;
  heal.kind = sim::FaultKind::heal_network;
  inject(heal);
  for (std::uint32_t i = 0; i < n_; ++i) {
    if (world_.state(i) != sim::NodeState::crashed) continue;
    sim::Fault restart;
    restart.kind = sim::FaultKind::restart;
    restart.nodes = {i};
    inject(restart);
  }
}

void LiveRun::Loop::inject(sim::Fault fault) {
  const std::optional<sim::Fault> done = session_.inject_now(std::move(fault));
  if (!done) return;  // At the very end: nothing left to act on.
  s_.recorded.push_back(workloads::fault_line(*done, config_.topology));
  if (!spec_.recording_file.empty()) write_recording();
}

void LiveRun::Loop::write_recording() {
  std::ofstream out(spec_.recording_file, std::ios::trunc);
  out << spec_.scenario_text << "\n# Faults injected from streamlab-gui, seed "
      << session_.seed() << ":\n";
  for (const std::string& line : s_.recorded) out << line << "\n";
  out.close();
  s_.recording_error = out ? "" : "cannot write " + spec_.recording_file;
}

// One slice of play; the slice's length adapts so that it takes about kSliceTarget of
// wall time. Where it stops changes nothing in the simulation.
void LiveRun::Loop::run_slice() {
  const std::int64_t limit = slice_limit_ns();
  if (limit > session_.now()) {
    const Clock::time_point start = Clock::now();
    session_.run_until(limit);
    const Clock::duration took = Clock::now() - start;
    if (took < kSliceTarget / 2) s_.slice_ns = std::min<std::int64_t>(s_.slice_ns * 2, 10'000'000'000);
    if (took > kSliceTarget * 2) s_.slice_ns = std::max<std::int64_t>(s_.slice_ns / 2, 1'000);
    dirty_ = true;
  } else {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (s_.target_ns >= 0 && session_.now() >= s_.target_ns) s_.phase = RunPhase::paused;
}

// Where this slice stops: one slice on, but no further than the pace has reached, the
// run_to target, or the end.
std::int64_t LiveRun::Loop::slice_limit_ns() const {
  std::int64_t limit = session_.now() + s_.slice_ns;
  if (s_.pace > 0) {
    const double due = static_cast<double>(s_.anchor_sim_ns) +
                       seconds(Clock::now() - s_.anchor_wall) * s_.pace * 1e9;
    limit = std::min(limit, static_cast<std::int64_t>(due));
  }
  if (s_.target_ns >= 0) limit = std::min(limit, s_.target_ns);
  return std::min(limit, session_.end_ns());
}

void LiveRun::Loop::finish() {
  workloads::RunResult result = session_.finish();
  s_.phase = RunPhase::finished;
  s_.check = std::move(result.check);
  s_.checked_at_ns = session_.now();
  s_.failed_expectations = std::move(result.failed_expectations);
  dirty_ = true;
}

void LiveRun::Loop::measure_pace(Clock::time_point wall) {
  if (wall - s_.rate_wall < std::chrono::seconds(1)) return;
  s_.measured_pace = static_cast<double>(session_.now() - s_.rate_sim_ns) / 1e9 /
                     seconds(wall - s_.rate_wall);
  s_.rate_wall = wall;
  s_.rate_sim_ns = session_.now();
}

// Paused, a check is always worth it; playing, it waits its turn (kCheckEvery,
// kCheckCostShare).
bool LiveRun::Loop::check_due(Clock::time_point wall) const {
  const bool paused = s_.phase == RunPhase::paused;
  const bool due = wall - s_.last_check_wall >= std::max<Clock::duration>(
                                                    kCheckEvery, s_.check_cost * kCheckCostShare);
  return paused || due;
}

void LiveRun::Loop::check_now() {
  const Clock::time_point start = Clock::now();
  s_.check = session_.check_so_far();
  s_.check_cost = Clock::now() - start;
  s_.last_check_wall = Clock::now();
  s_.checked_at_ns = session_.now();
  const auto metric = [&](const char* name) {
    const auto it = s_.check.metrics.find(name);
    return it == s_.check.metrics.end() ? 0.0 : it->second;
  };
  s_.below_write_quorum.emplace_back(session_.now(), metric("entries_below_write_quorum"));
  s_.below_ack_quorum.emplace_back(session_.now(), metric("entries_below_ack_quorum"));
}

void LiveRun::Loop::publish() {
  std::shared_ptr<Snapshot> snap = snapshot();
  const std::vector<LogEvent>& log = collector_.events();
  std::lock_guard lock(live_.mu_);
  live_.snapshot_ = std::move(snap);
  live_.events_.insert(live_.events_.end(),
                       log.begin() + static_cast<std::ptrdiff_t>(events_published_), log.end());
  events_published_ = log.size();
}

std::shared_ptr<Snapshot> LiveRun::Loop::snapshot() {
  auto snap = std::make_shared<Snapshot>();
  snap->label = spec_.label;
  snap->seed = session_.seed();
  snap->phase = s_.phase;
  snap->now_ns = session_.now();
  snap->end_ns = session_.end_ns();
  snap->events = world_.kernel().events_executed();
  snap->trace_hash = world_.kernel().trace_hash();
  snap->sim_seconds_per_wall_second = s_.measured_pace;
  for (const sim::ZoneSpec& z : config_.topology.zones) {
    snap->zones.push_back({z.name, config_.topology.regions[z.region].name});
  }
  for (std::uint32_t i = 0; i < n_; ++i) snap->nodes.push_back(node_view(i));
  sample_link_rates();
  snap->link_bytes_per_s = s_.link_rates;
  mark_blocked_links(*snap);
  snap->check = s_.check;
  snap->checked_at_ns = s_.checked_at_ns;
  snap->below_write_quorum = s_.below_write_quorum;
  snap->below_ack_quorum = s_.below_ack_quorum;
  snap->failed_expectations = s_.failed_expectations;
  for (const sim::FaultLogEntry& e : session_.injector().log()) {
    snap->faults.push_back({e.time_ns, e.lifted, e.text});
  }
  snap->recorded_faults = s_.recorded;
  const std::string file = s_.recorded.empty() ? spec_.scenario_file : spec_.recording_file;
  snap->reproduce_command =
      "streamlab run " + file + " --seed " + std::to_string(session_.seed());
  snap->error = s_.recording_error;
  snap->events_not_kept = collector_.events_not_kept();
  return snap;
}

NodeView LiveRun::Loop::node_view(std::uint32_t node) const {
  const sim::NodeSpec& spec = config_.topology.nodes[node];
  NodeView v;
  v.name = spec.name;
  v.role = spec.role;
  v.zone = spec.zone;
  switch (world_.state(node)) {
    case sim::NodeState::idle: v.look = NodeLook::idle; break;
    case sim::NodeState::up: v.look = world_.paused(node) ? NodeLook::paused : NodeLook::up; break;
    case sim::NodeState::crashed: v.look = NodeLook::crashed; break;
  }
  v.fenced = collector_.fenced(node);
  v.disk_slow = world_.disk(node).faults().slowdown_factor > 1;
  for (const std::string& topic : collector_.owned(node)) {
    if (!v.owns.empty()) v.owns += ", ";
    v.owns += topic;
  }
  v.owns_count = static_cast<std::uint32_t>(collector_.owned(node).size());
  return v;
}

// Bytes per second on each link since the last sample; when no simulated time has passed
// the last rates stand.
void LiveRun::Loop::sample_link_rates() {
  const std::int64_t window_ns = session_.now() - s_.link_sample_ns;
  if (window_ns <= 0) return;
  collector_.take_link_bytes(s_.link_bytes);
  s_.link_rates.assign(s_.link_bytes.size(), 0.0f);
  for (std::size_t k = 0; k < s_.link_bytes.size(); ++k) {
    s_.link_rates[k] = static_cast<float>(s_.link_bytes[k] * 1e9 / static_cast<double>(window_ns));
  }
  s_.link_sample_ns = session_.now();
}

// Marks each blocked link, and each node with one, as partitioned.
void LiveRun::Loop::mark_blocked_links(Snapshot& snap) const {
  snap.link_blocked.assign(static_cast<std::size_t>(n_) * n_, 0);
  for (std::uint32_t a = 0; a < n_; ++a) {
    for (std::uint32_t b = 0; b < n_; ++b) {
      if (a != b && world_.network().blocked(a, b)) {
        snap.link_blocked[static_cast<std::size_t>(a) * n_ + b] = 1;
        snap.nodes[a].partitioned = true;
      }
    }
  }
}

void LiveRun::main() {
  // The window's frames come first: on a machine with few cores the simulation takes
  // what the UI leaves (a nice level for this thread only; Linux threads have their own).
  setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), kRunNice);
  Loop(*this).run();
}

}  // namespace streamlab::viz
