#include "viz/workbench.h"

#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cmath>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/assert.h"
#include "viz/chart.h"
#include "workloads/systems/system_adapter.h"
#include "workloads/scenario/scenario_loader.h"

namespace streamlab::viz {

namespace {

constexpr ImU32 kBlue = IM_COL32(90, 160, 255, 255);
constexpr ImU32 kGreen = IM_COL32(90, 210, 120, 255);
constexpr ImU32 kOrange = IM_COL32(250, 160, 60, 255);
constexpr ImU32 kRed = IM_COL32(240, 80, 80, 255);
constexpr ImU32 kPurple = IM_COL32(190, 120, 255, 255);
constexpr ImU32 kPaleBlue = IM_COL32(170, 205, 255, 255);
constexpr ImU32 kPaleGreen = IM_COL32(175, 235, 190, 255);
constexpr ImU32 kPaleOrange = IM_COL32(255, 210, 150, 255);
constexpr ImU32 kPaleRed = IM_COL32(255, 170, 170, 255);
constexpr float kChartHeight = 130;

const Points kNoPoints;

// By a scan, not map::find: that would build a std::string key, an allocation per frame.
const Points& series_of(const Snapshot& snap, std::string_view name) {
  for (const auto& [series, points] : snap.check.series) {
    if (series == name) return points;
  }
  return kNoPoints;
}

// The first series whose name ends with `suffix`: the checkers name their latency
// series after their operation ("publish_p99", "add_latency_ms_p99", ...).
const Points& series_ending(const Snapshot& snap, const char* prefix, const char* suffix) {
  const std::string_view want(suffix);
  for (const auto& [name, points] : snap.check.series) {
    if (name.rfind(prefix, 0) == 0 && name.size() >= want.size() &&
        std::string_view(name).substr(name.size() - want.size()) == want) {
      return points;
    }
  }
  return kNoPoints;
}

const char* phase_name(RunPhase phase) {
  switch (phase) {
    case RunPhase::paused: return "paused";
    case RunPhase::playing: return "playing";
    case RunPhase::finished: return "finished";
  }
  return "?";
}

}  // namespace

Workbench::Workbench(WorkbenchOptions options) : options_(std::move(options)) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(options_.scenario_dir, ec)) {
    if (entry.path().extension() == ".textproto") shipped_.push_back(entry.path().string());
  }
  std::sort(shipped_.begin(), shipped_.end());
  events_.reserve(1 << 16);
  shown_.reserve(1 << 16);
  scratch_.reserve(1024);
}

Workbench::~Workbench() = default;

std::string Workbench::open(const std::string& file, std::uint64_t seed) {
  Result<std::string> read = workloads::read_scenario_text(file);
  if (!read) return status_ = read.error();
  std::string text = std::move(read.value());
  auto config = workloads::parse_scenario(text, file);
  if (!config) return status_ = config.error();
  scenario::Scenario proto;
  if (!google::protobuf::TextFormat::ParseFromString(text, &proto)) {
    return status_ = file + ": does not parse";
  }
  file_ = file;
  text_ = std::move(text);
  proto_ = std::move(proto);
  config_ = std::make_unique<workloads::ScenarioConfig>(std::move(config.value()));
  seed_ = seed != 0 ? seed : config_->seed;
  std::snprintf(seed_text_, sizeof seed_text_, "%llu", static_cast<unsigned long long>(seed_));
  std::snprintf(path_, sizeof path_, "%s", file.c_str());
  base_knobs_ = knobs_ = knobs_of(*config_);
  variant_config_.reset();
  status_.clear();
  start_runs(false);
  return {};
}

void Workbench::start_runs(bool with_variant) {
  b_.reset();
  a_.reset();
  const std::string stem = std::filesystem::path(file_).stem().string();
  RunSpec spec;
  spec.config = *config_;
  spec.scenario_text = text_;
  spec.scenario_file = file_;
  spec.label = "A";
  spec.seed = seed_;
  spec.recording_file = (std::filesystem::path(options_.recording_dir) /
                         (stem + ".gui-seed" + std::to_string(seed_) + ".textproto"))
                            .string();
  a_ = std::make_unique<LiveRun>(std::move(spec));
  if (with_variant && variant_config_ != nullptr) {
    RunSpec variant;
    variant.config = *variant_config_;
    variant.scenario_text = variant_text_;
    variant.scenario_file = (std::filesystem::path(options_.recording_dir) /
                             (stem + ".variant.textproto"))
                                .string();
    std::ofstream(variant.scenario_file, std::ios::trunc) << variant_text_;
    variant.label = "B: " + variant_label_;
    variant.seed = seed_;
    variant.recording_file = (std::filesystem::path(options_.recording_dir) /
                              (stem + ".variant.gui-seed" + std::to_string(seed_) + ".textproto"))
                                 .string();
    b_ = std::make_unique<LiveRun>(std::move(variant));
  }
  snap_a_ = a_->snapshot();
  snap_b_ = b_ ? b_->snapshot() : nullptr;
  events_.clear();
  shown_.clear();
  filtered_up_to_ = 0;
  refilter_ = true;
  cursor_ns_ = -1;
  // Node and zone indices of the previous scenario mean nothing in this one.
  filter_node_ = -1;
  drag_from_ = -1;
  menu_node_ = -1;
  menu_zone_ = -1;
}

void Workbench::take_snapshots() {
  if (a_ == nullptr) return;
  snap_a_ = a_->snapshot();
  if (b_ != nullptr) snap_b_ = b_->snapshot();
  a_->events_since(events_.size(), events_);
}

void Workbench::act(const sim::Fault& fault) {
  if (b_ == nullptr) {
    a_->inject(fault);
    return;
  }
  // Like with like: both runs stop, and both get the fault at the later one's instant.
  a_->pause();
  b_->pause();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  std::shared_ptr<const Snapshot> sa = a_->snapshot();
  std::shared_ptr<const Snapshot> sb = b_->snapshot();
  while ((sa->phase == RunPhase::playing || sb->phase == RunPhase::playing) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    sa = a_->snapshot();
    sb = b_->snapshot();
  }
  const std::int64_t at = std::max(sa->now_ns, sb->now_ns);
  a_->inject(fault, at);
  b_->inject(fault, at);
}

void Workbench::frame() {
  take_snapshots();
  const ImGuiViewport* viewport = ImGui::GetMainViewport();
  ImGui::SetNextWindowPos(viewport->WorkPos);
  ImGui::SetNextWindowSize(viewport->WorkSize);
  ImGui::Begin("streamlab", nullptr,
               ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                   ImGuiWindowFlags_NoBringToFrontOnFocus);
  draw_controls();
  if (a_ == nullptr) {
    ImGui::End();
    return;
  }
  const float left = ImGui::GetContentRegionAvail().x * 0.58f;
  ImGui::BeginChild("left", ImVec2(left, 0));
  if (ImGui::CollapsingHeader("Cluster", ImGuiTreeNodeFlags_DefaultOpen)) draw_cluster();
  if (ImGui::CollapsingHeader("Charts", ImGuiTreeNodeFlags_DefaultOpen)) draw_charts();
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginChild("right", ImVec2(0, 0));
  if (ImGui::CollapsingHeader("Tradeoff knobs", ImGuiTreeNodeFlags_DefaultOpen)) draw_knobs();
  if (ImGui::CollapsingHeader("Checker", ImGuiTreeNodeFlags_DefaultOpen)) draw_checker();
  if (ImGui::CollapsingHeader("Event log", ImGuiTreeNodeFlags_DefaultOpen)) draw_event_log();
  ImGui::EndChild();
  ImGui::End();
}

void Workbench::draw_controls() {
  ImGui::SetNextItemWidth(260);
  const char* preview = shipped_index_ >= 0
                            ? shipped_[static_cast<std::size_t>(shipped_index_)].c_str()
                            : "shipped scenarios...";
  if (ImGui::BeginCombo("##shipped", preview)) {
    for (std::size_t i = 0; i < shipped_.size(); ++i) {
      const std::string name = std::filesystem::path(shipped_[i]).filename().string();
      if (ImGui::Selectable(name.c_str(), static_cast<int>(i) == shipped_index_)) {
        shipped_index_ = static_cast<int>(i);
        open(shipped_[i], 0);
      }
    }
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(360);
  ImGui::InputText("##path", path_, sizeof path_);
  ImGui::SameLine();
  if (ImGui::Button("Open")) open(path_, 0);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(90);
  ImGui::InputText("seed", seed_text_, sizeof seed_text_, ImGuiInputTextFlags_CharsDecimal);
  if (a_ == nullptr) {
    if (!status_.empty()) ImGui::TextColored(ImVec4(1, 0.4f, 0.4f, 1), "%s", status_.c_str());
    return;
  }
  ImGui::SameLine();
  if (ImGui::Button("Restart")) {
    const unsigned long long typed = std::strtoull(seed_text_, nullptr, 10);
    seed_ = typed != 0 ? typed : seed_;
    start_runs(b_ != nullptr);
  }
  ImGui::SameLine();
  if (ImGui::Button("New seed")) {
    ++seed_;
    std::snprintf(seed_text_, sizeof seed_text_, "%llu", static_cast<unsigned long long>(seed_));
    start_runs(b_ != nullptr);
  }

  const Snapshot& snap = *snap_a_;
  const auto each = [this](auto&& f) {
    f(*a_);
    if (b_ != nullptr) f(*b_);
  };
  if (ImGui::Button(snap.phase == RunPhase::playing ? "Pause" : "Play")) {
    if (snap.phase == RunPhase::playing) {
      each([](LiveRun& r) { r.pause(); });
    } else {
      const double pace = full_speed_ ? 0.0 : pace_;
      each([pace](LiveRun& r) { r.play(pace); });
    }
  }
  ImGui::SameLine();
  if (ImGui::Button("Step")) each([](LiveRun& r) { r.step(); });
  ImGui::SameLine();
  ImGui::SetNextItemWidth(160);
  if (ImGui::SliderFloat("sim s / wall s", &pace_, 0.01f, 100.0f, "%.2f",
                         ImGuiSliderFlags_Logarithmic) &&
      snap.phase == RunPhase::playing && !full_speed_) {
    const double pace = pace_;
    each([pace](LiveRun& r) { r.play(pace); });
  }
  ImGui::SameLine();
  if (ImGui::Checkbox("as fast as possible", &full_speed_) && snap.phase == RunPhase::playing) {
    const double pace = full_speed_ ? 0.0 : pace_;
    each([pace](LiveRun& r) { r.play(pace); });
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(80);
  ImGui::InputFloat("##runto", &run_to_s_, 0, 0, "%.1f s");
  ImGui::SameLine();
  if (ImGui::Button("Run to")) {
    const double end_s = static_cast<double>(snap.end_ns) / 1e9;
    const double to_s = std::isfinite(run_to_s_) ? std::clamp<double>(run_to_s_, 0.0, end_s) : end_s;
    const auto t = static_cast<std::int64_t>(to_s * 1e9);
    each([t](LiveRun& r) { r.run_to(t); });
  }
  ImGui::SameLine();
  if (ImGui::Button("Heal all")) each([](LiveRun& r) { r.heal_all(); });
  ImGui::Text("%s  seed %llu  t = %.3f / %.1f s  %s  %llu events  trace %016llx  %.2f sim s / wall s",
              config_->name.c_str(), static_cast<unsigned long long>(snap.seed),
              static_cast<double>(snap.now_ns) / 1e9, static_cast<double>(snap.end_ns) / 1e9,
              phase_name(snap.phase), static_cast<unsigned long long>(snap.events),
              static_cast<unsigned long long>(snap.trace_hash), snap.sim_seconds_per_wall_second);
  if (snap_b_ != nullptr) {
    ImGui::SameLine();
    ImGui::TextColored(ImVec4(0.75f, 0.85f, 1, 1), "| %s at %.3f s", snap_b_->label.c_str(),
                       static_cast<double>(snap_b_->now_ns) / 1e9);
  }
  if (!status_.empty()) ImGui::TextColored(ImVec4(1, 0.4f, 0.4f, 1), "%s", status_.c_str());
  if (!snap.error.empty()) ImGui::TextColored(ImVec4(1, 0.4f, 0.4f, 1), "%s", snap.error.c_str());
  ImGui::Separator();
}

void Workbench::draw_knobs() {
  Knobs k = knobs_;
  if (k.has_storage) {
    int e = static_cast<int>(k.ensemble);
    int qw = static_cast<int>(k.write_quorum);
    int qa = static_cast<int>(k.ack_quorum);
    ImGui::SetNextItemWidth(120);
    ImGui::SliderInt("E (ensemble)", &e, 1, std::max(1, static_cast<int>(k.bookies)));
    ImGui::SetNextItemWidth(120);
    ImGui::SliderInt("Qw (write quorum)", &qw, 1, std::max(1, e));
    ImGui::SetNextItemWidth(120);
    ImGui::SliderInt("Qa (ack quorum)", &qa, 1, std::max(1, std::min(qw, e)));
    k.ensemble = static_cast<std::uint32_t>(e);
    k.write_quorum = static_cast<std::uint32_t>(std::min(qw, e));
    k.ack_quorum = static_cast<std::uint32_t>(std::min<int>(qa, static_cast<int>(k.write_quorum)));
  }
  ImGui::Checkbox(k.has_storage ? "journal fsync" : "fsync", &k.fsync);
  if (k.has_producers) {
    float linger_ms = static_cast<float>(static_cast<double>(k.linger_ns) / 1e6);
    ImGui::SetNextItemWidth(120);
    ImGui::SliderFloat("linger (batching delay)", &linger_ms, 0.0f, 50.0f, "%.1f ms");
    k.linger_ns = static_cast<std::int64_t>(static_cast<double>(linger_ms) * 1e6);
  }
  if (k.has_dedup) ImGui::Checkbox("dedup", &k.dedup);
  if (k.has_storage) {
    ImGui::SameLine();
    ImGui::Checkbox("recovery fencing", &k.recovery_fencing);
    ImGui::SameLine();
    ImGui::Checkbox("enforce placement", &k.enforce_placement);
  }
  const bool released = !ImGui::IsAnyItemActive();
  if (!(k == knobs_)) {
    knobs_ = k;
    knobs_pending_ = true;
  }
  if (knobs_pending_ && released) {
    knobs_pending_ = false;
    const std::string change = describe_change(base_knobs_, knobs_);
    // A change takes effect in a fresh pair of runs from the same seed: like with like.
    auto text = apply_knobs(proto_, knobs_);
    if (change.empty()) {
      variant_config_.reset();
    } else if (!text) {
      status_ = "knobs: " + text.error();
    } else if (auto config = workloads::parse_scenario(text.value(), file_ + " (variant)");
               !config) {
      status_ = "knobs: " + config.error();
    } else {
      status_.clear();
      variant_config_ = std::make_unique<workloads::ScenarioConfig>(std::move(config.value()));
      variant_text_ = std::move(text.value());
      variant_label_ = change;
      start_runs(true);
    }
    if (change.empty() && b_ != nullptr) start_runs(false);
  }
  if (snap_b_ != nullptr && ImGui::Button("Drop run B")) {
    knobs_ = base_knobs_;
    variant_config_.reset();
    start_runs(false);
  }
  if (snap_b_ != nullptr) {
    ImGui::TextWrapped("Both runs restarted from seed %llu; charts show A solid and B pale. "
                       "B reproduces with: streamlab run %s --seed %llu",
                       static_cast<unsigned long long>(seed_), b_->spec().scenario_file.c_str(),
                       static_cast<unsigned long long>(seed_));
  }
}

// A chart's lines, held without allocating: at most six.
class Lines {
 public:
  void add(const char* label, const Points& points, ImU32 color) {
    SL_ASSERT_LT(size_, lines_.size());
    lines_[size_++] = ChartLine{label, &points, color};
  }
  std::span<const ChartLine> view() const { return {lines_.data(), size_}; }

 private:
  std::array<ChartLine, 6> lines_{};
  std::size_t size_ = 0;
};

void Workbench::draw_charts() {
  const Snapshot& a = *snap_a_;
  const Snapshot* b = snap_b_.get();
  const ChartFrame frame{a.end_ns, &a.faults, &cursor_ns_, &scratch_};
  const workloads::LiveCharts& charts = workloads::system_adapter(config_->system).live_charts();
  {
    Lines l;
    const ImU32 colors[2][2] = {{kBlue, kPaleBlue}, {kGreen, kPaleGreen}};
    for (int i = 0; i < 2; ++i) {
      const workloads::LiveSeries& t = charts.throughput[i];
      if (t.series != nullptr) l.add(t.label_a, series_of(a, t.series), colors[i][0]);
    }
    for (int i = 0; i < 2 && b != nullptr; ++i) {
      const workloads::LiveSeries& t = charts.throughput[i];
      if (t.series != nullptr) l.add(t.label_b, series_of(*b, t.series), colors[i][1]);
    }
    draw_chart("Throughput", "/s", l.view(), frame, kChartHeight);
  }
  for (const workloads::LiveLatency& latency : charts.latency) {
    if (latency.title == nullptr) continue;
    const char* prefix = latency.prefix;
    Lines l;
    l.add("A p50", series_ending(a, prefix, "_p50"), kGreen);
    l.add("A p99", series_ending(a, prefix, "_p99"), kOrange);
    l.add("A p99.9", series_ending(a, prefix, "_p999"), kRed);
    if (b != nullptr) {
      l.add("B p50", series_ending(*b, prefix, "_p50"), kPaleGreen);
      l.add("B p99", series_ending(*b, prefix, "_p99"), kPaleOrange);
      l.add("B p99.9", series_ending(*b, prefix, "_p999"), kPaleRed);
    }
    draw_chart(latency.title, "ms", l.view(), frame, kChartHeight);
  }
  if (charts.backlog.series != nullptr) {
    Lines backlog;
    backlog.add(charts.backlog.label_a, series_of(a, charts.backlog.series), kPurple);
    if (b != nullptr) {
      backlog.add(charts.backlog.label_b, series_of(*b, charts.backlog.series), kPaleBlue);
    }
    draw_chart("Backlog", "msgs", backlog.view(), frame, kChartHeight * 0.8f);
  }
  {
    const char* lost = charts.lost_series;
    Lines l;
    l.add("A lost", series_of(a, lost), kRed);
    l.add("A dup", series_of(a, "duplicate_total"), kOrange);
    if (charts.quorums) {
      l.add("A <Qw", a.below_write_quorum, kPurple);
      l.add("A <Qa", a.below_ack_quorum, kBlue);
    }
    if (b != nullptr) {
      l.add("B lost", series_of(*b, lost), kPaleRed);
      l.add("B dup", series_of(*b, "duplicate_total"), kPaleOrange);
    }
    draw_chart("Durability: acked then lost, duplicates, entries below Qw / Qa", "", l.view(),
               frame, kChartHeight);
  }
  ImGui::TextDisabled("fault marks: red injected, green lifted; click a chart to set the cursor");
}

void Workbench::draw_checker() {
  const Snapshot& a = *snap_a_;
  const auto show = [](const Snapshot& s) {
    ImGui::Text("%s: %s at %.3f s", s.label.c_str(),
                s.phase == RunPhase::finished ? "final verdict" : "so far (provisional)",
                static_cast<double>(s.checked_at_ns) / 1e9);
    if (s.check.anomalies.empty()) ImGui::TextColored(ImVec4(0.4f, 0.9f, 0.5f, 1), "  no anomaly");
    for (const auto& [name, count] : s.check.anomalies) {
      ImGui::TextColored(ImVec4(1, 0.45f, 0.45f, 1), "  %s x%llu", name.c_str(),
                         static_cast<unsigned long long>(count));
      const auto example = s.check.examples.find(name);
      if (example != s.check.examples.end()) {
        ImGui::Indent();
        ImGui::TextWrapped("%s", example->second.c_str());
        ImGui::Unindent();
      }
    }
    for (const std::string& failed : s.failed_expectations) {
      ImGui::TextColored(ImVec4(1, 0.3f, 0.3f, 1), "  FAILED %s", failed.c_str());
    }
    ImGui::TextUnformatted("  reproduce:");
    ImGui::SameLine();
    ImGui::TextUnformatted(s.reproduce_command.c_str());
    if (!s.recorded_faults.empty()) {
      ImGui::TextDisabled("  faults injected here, as scenario lines:");
      for (const std::string& line : s.recorded_faults) {
        ImGui::TextDisabled("    %s", line.c_str());
      }
    }
  };
  show(a);
  if (snap_b_ != nullptr) show(*snap_b_);
}

void Workbench::draw_event_log() {
  const Snapshot& a = *snap_a_;
  ImGui::SetNextItemWidth(140);
  const char* node_preview =
      filter_node_ < 0 ? "every node" : a.nodes[static_cast<std::size_t>(filter_node_)].name.c_str();
  if (ImGui::BeginCombo("##node", node_preview)) {
    if (ImGui::Selectable("every node", filter_node_ < 0)) {
      filter_node_ = -1;
      refilter_ = true;
    }
    for (std::size_t i = 0; i < a.nodes.size(); ++i) {
      if (ImGui::Selectable(a.nodes[i].name.c_str(), filter_node_ == static_cast<int>(i))) {
        filter_node_ = static_cast<int>(i);
        refilter_ = true;
      }
    }
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(120);
  const char* kind_preview =
      filter_kind_ < 0 ? "every kind" : sim::to_string(static_cast<sim::TraceKind>(filter_kind_));
  if (ImGui::BeginCombo("##kind", kind_preview)) {
    if (ImGui::Selectable("every kind", filter_kind_ < 0)) {
      filter_kind_ = -1;
      refilter_ = true;
    }
    for (int k = static_cast<int>(sim::TraceKind::drop); k <= static_cast<int>(sim::TraceKind::note);
         ++k) {
      const auto kind = static_cast<sim::TraceKind>(k);
      if (kind >= sim::TraceKind::disk_write && kind <= sim::TraceKind::disk_truncate) continue;
      if (ImGui::Selectable(sim::to_string(kind), filter_kind_ == k)) {
        filter_kind_ = k;
        refilter_ = true;
      }
    }
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(160);
  if (ImGui::InputTextWithHint("##text", "topic or words", filter_text_, sizeof filter_text_)) {
    refilter_ = true;
  }
  if (filter_node_ >= static_cast<int>(a.nodes.size())) {
    filter_node_ = -1;
    refilter_ = true;
  }
  if (refilter_) {
    shown_.clear();
    filtered_up_to_ = 0;
    refilter_ = false;
  }
  // Only the events that came since the last frame: the log holds up to 200,000.
  if (filtered_up_to_ < events_.size()) {
    const std::string_view text(filter_text_);
    for (std::size_t i = filtered_up_to_; i < events_.size(); ++i) {
      const LogEvent& e = events_[i];
      if (filter_node_ >= 0 && e.node != static_cast<std::uint32_t>(filter_node_) &&
          e.peer != static_cast<std::uint32_t>(filter_node_)) {
        continue;
      }
      if (filter_kind_ >= 0 && static_cast<int>(e.kind) != filter_kind_) continue;
      if (!text.empty() && e.text.find(text) == std::string::npos) continue;
      shown_.push_back(static_cast<int>(i));
    }
    filtered_up_to_ = events_.size();
  }
  ImGui::SameLine();
  ImGui::Text("%zu of %zu", shown_.size(), events_.size());
  if (a.events_not_kept > 0) {
    ImGui::SameLine();
    ImGui::TextColored(ImVec4(1, 0.7f, 0.3f, 1), "(log full: %llu later events not kept; "
                       "streamlab replay lists them all)",
                       static_cast<unsigned long long>(a.events_not_kept));
  }
  ImGui::BeginChild("events", ImVec2(0, 0), true);
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(shown_.size()));
  while (clipper.Step()) {
    for (int row = clipper.DisplayStart; row < clipper.DisplayEnd; ++row) {
      const LogEvent& e = events_[static_cast<std::size_t>(shown_[static_cast<std::size_t>(row)])];
      const char* node = e.node < a.nodes.size() ? a.nodes[e.node].name.c_str() : "(run)";
      const char* peer = e.peer < a.nodes.size() ? a.nodes[e.peer].name.c_str() : "";
      char line[96];
      std::snprintf(line, sizeof line, "%10.6f  %-10s %-9s %s%s",
                    static_cast<double>(e.time_ns) / 1e9, node, sim::to_string(e.kind),
                    peer[0] != 0 ? "-> " : "", peer);
      ImGui::PushID(row);
      if (ImGui::Selectable(line, cursor_ns_ == e.time_ns)) cursor_ns_ = e.time_ns;
      ImGui::PopID();
      ImGui::SameLine();
      ImGui::TextUnformatted(e.text.c_str());
    }
  }
  ImGui::EndChild();
}

}  // namespace streamlab::viz
