#pragma once

// The workbench's UI: one ImGui frame at a time over the runs it drives. It holds only
// UI state (what is selected, typed, filtered) and the newest snapshot of each run; the
// runs live on their own threads (viz/live_run.h). Run A is the scenario as written,
// run B the same seed with the knobs changed, drawn together on every chart.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "imgui.h"
#include "viz/knobs.h"
#include "viz/live_run.h"
#include "workloads/scenario/scenario.pb.h"

namespace streamlab::viz {

struct WorkbenchOptions {
  std::string scenario_dir;  // The shipped scenarios, listed in the open menu.
  std::string recording_dir = ".";  // Where scenarios with the UI's faults are written.
};

class Workbench {
 public:
  explicit Workbench(WorkbenchOptions options);
  ~Workbench();

  // Loads the scenario and starts run A paused at 0 (seed 0: the scenario's own). On
  // an error the workbench keeps what it had and shows why; returns it too.
  std::string open(const std::string& file, std::uint64_t seed);
  LiveRun* run_a() { return a_.get(); }

  void frame();

 private:
  void start_runs(bool with_variant);
  void take_snapshots();
  void draw_controls();
  void draw_knobs();
  void draw_cluster();
  void draw_charts();
  void draw_checker();
  void draw_event_log();
  void act(const sim::Fault& fault);
  void node_menu(std::uint32_t node);
  void zone_menu(std::uint32_t zone);
  // Steps of draw_cluster (viz/cluster_view.cc).
  void forget_gone_picks(std::uint32_t nodes, std::uint32_t zones);
  void drag_to_partition(ImDrawList* draw, ImVec2 mouse, int hovered_node);
  void cluster_menus(int hovered_node, int hovered_zone);

  WorkbenchOptions options_;
  std::vector<std::string> shipped_;
  int shipped_index_ = -1;
  char path_[512] = "";
  std::string file_;
  std::string text_;
  scenario::Scenario proto_;
  std::unique_ptr<workloads::ScenarioConfig> config_;
  std::uint64_t seed_ = 0;
  char seed_text_[24] = "";
  std::string status_;

  Knobs base_knobs_;
  Knobs knobs_;
  bool knobs_pending_ = false;  // Changed since the last variant run started.
  std::unique_ptr<workloads::ScenarioConfig> variant_config_;
  std::string variant_text_;
  std::string variant_label_;

  std::unique_ptr<LiveRun> a_;
  std::unique_ptr<LiveRun> b_;
  std::shared_ptr<const Snapshot> snap_a_;
  std::shared_ptr<const Snapshot> snap_b_;

  float pace_ = 1.0f;
  bool full_speed_ = false;
  float run_to_s_ = 10.0f;

  std::vector<LogEvent> events_;  // Run A's log, as fetched so far.
  std::vector<int> shown_;        // Indices of events_ the filters let through.
  bool refilter_ = true;
  std::size_t filtered_up_to_ = 0;  // events_ before this went through the filters.
  int filter_node_ = -1;
  int filter_kind_ = -1;
  char filter_text_[64] = "";
  std::int64_t cursor_ns_ = -1;

  std::vector<ImVec2> scratch_;
  int drag_from_ = -1;
  int menu_node_ = -1;
  int menu_zone_ = -1;
};

}  // namespace streamlab::viz
