// The cluster view: zones as boxes (named with their region), nodes inside as discs in
// their state's colour, links between nodes by traffic, cut links in red. Right-click a
// node or a zone's title for its faults; drag from one node to another to partition
// them; every action becomes a fault injected now (Workbench::act).

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

#include "viz/workbench.h"

namespace streamlab::viz {

namespace {

constexpr float kRadius = 13;
constexpr float kCell = 78;
constexpr float kZoneTitle = 22;
constexpr float kStagger = 18;
constexpr float kRegionTitle = 20;
constexpr std::uint32_t kMaxZones = 64;
constexpr ImU32 kRegionBox = IM_COL32(80, 80, 95, 255);
constexpr ImU32 kZoneBox = IM_COL32(110, 110, 130, 255);
constexpr ImU32 kText = IM_COL32(230, 230, 230, 255);
constexpr ImU32 kDim = IM_COL32(160, 160, 160, 255);
constexpr ImU32 kCut = IM_COL32(235, 60, 60, 230);
constexpr ImU32 kRing = IM_COL32(255, 150, 40, 255);
constexpr ImU32 kFenced = IM_COL32(190, 110, 255, 255);

ImU32 look_colour(NodeLook look) {
  switch (look) {
    case NodeLook::idle: return IM_COL32(110, 110, 110, 255);
    case NodeLook::up: return IM_COL32(60, 180, 90, 255);
    case NodeLook::paused: return IM_COL32(230, 200, 50, 255);
    case NodeLook::crashed: return IM_COL32(200, 50, 50, 255);
  }
  return IM_COL32_WHITE;
}

const char* look_name(NodeLook look) {
  switch (look) {
    case NodeLook::idle: return "idle";
    case NodeLook::up: return "up";
    case NodeLook::paused: return "paused";
    case NodeLook::crashed: return "crashed";
  }
  return "?";
}

// Where the zones go: side by side, grouped by region, each as wide as the view allows
// and as tall as its fullest zone needs. Fixed-size arrays, so an idle frame allocates
// nothing.
struct Layout {
  ImVec2 origin;
  float width = 0;  // The view's: all the space the panel has.
  std::uint32_t shown_zones = 0;
  std::array<std::uint32_t, kMaxZones> order{};  // Zones from the left, by region.
  std::array<std::uint32_t, kMaxZones> slot{};   // slot[z] is zone z's place from the left.
  bool regions = false;  // More than one region, so each gets a box and a title.
  float top = 0;
  float zone_w = 0;
  float zone_h = 0;
  int per_row = 1;
};

float zone_x(const Layout& lay, std::uint32_t z) {
  return lay.origin.x + static_cast<float>(lay.slot[z]) * (lay.zone_w + 8);
}

void order_zones_by_region(const Snapshot& snap, Layout& lay) {
  for (std::uint32_t z = 0; z < lay.shown_zones; ++z) lay.order[z] = z;
  // Insertion sort: stable, and std::stable_sort would allocate every frame.
  for (std::uint32_t k = 1; k < lay.shown_zones; ++k) {
    for (std::uint32_t j = k;
         j > 0 && snap.zones[lay.order[j]].region < snap.zones[lay.order[j - 1]].region; --j) {
      std::swap(lay.order[j], lay.order[j - 1]);
    }
  }
  for (std::uint32_t k = 0; k < lay.shown_zones; ++k) lay.slot[lay.order[k]] = k;
}

// The most nodes any shown zone holds (at least 1), which sets every zone's height.
std::uint32_t fullest_zone(const Snapshot& snap, std::uint32_t shown_zones) {
  std::uint32_t most = 1;
  for (std::uint32_t z = 0; z < shown_zones; ++z) {
    std::uint32_t count = 0;
    for (const NodeView& v : snap.nodes) count += v.zone == z ? 1 : 0;
    most = std::max(most, count);
  }
  return most;
}

Layout lay_out_zones(const Snapshot& snap, ImVec2 origin, ImVec2 avail) {
  Layout lay;
  lay.origin = origin;
  lay.width = avail.x;
  const auto zones = static_cast<std::uint32_t>(snap.zones.size());
  lay.shown_zones = std::min<std::uint32_t>(zones, kMaxZones);
  order_zones_by_region(snap, lay);
  const std::uint32_t last = lay.shown_zones - 1;
  lay.regions = lay.shown_zones > 0 &&
                snap.zones[lay.order[0]].region != snap.zones[lay.order[last]].region;
  lay.top = lay.regions ? kRegionTitle : 0;
  lay.zone_w = std::max(120.0f, (avail.x - 8 * static_cast<float>(lay.shown_zones - 1)) /
                                    static_cast<float>(lay.shown_zones));
  lay.per_row = std::max(1, static_cast<int>((lay.zone_w - 8) / kCell));
  const std::uint32_t most = fullest_zone(snap, lay.shown_zones);
  const int rows = static_cast<int>((most + lay.per_row - 1) / lay.per_row);
  lay.zone_h = kZoneTitle + static_cast<float>(rows) * kCell + kStagger + 8;
  return lay;
}

// Where each node sits: row by row in its zone (nodes of zones past the shown ones go to
// the last shown zone).
void place_nodes(const Snapshot& snap, const Layout& lay, std::vector<ImVec2>& at) {
  std::array<std::uint32_t, kMaxZones> placed_in_zone{};
  for (std::size_t i = 0; i < snap.nodes.size(); ++i) {
    const std::uint32_t z = std::min(snap.nodes[i].zone, lay.shown_zones - 1);
    const std::uint32_t k = placed_in_zone[z]++;
    // Every other node a little lower, so that links along a row do not hide each other.
    const float stagger = (k % 2 == 1) ? kStagger : 0;
    at[i] = ImVec2(zone_x(lay, z) + 8 + kCell / 2 + static_cast<float>(k % lay.per_row) * kCell,
                   lay.origin.y + lay.top + kZoneTitle + kRadius + 8 + stagger +
                       static_cast<float>(k / lay.per_row) * kCell);
  }
}

// The node whose disc the mouse is on, or -1; the last one drawn wins where two overlap.
int node_under(const std::vector<ImVec2>& at, std::uint32_t n, ImVec2 mouse) {
  int hovered = -1;
  for (std::uint32_t i = 0; i < n; ++i) {
    const float dx = mouse.x - at[i].x;
    const float dy = mouse.y - at[i].y;
    if (dx * dx + dy * dy <= kRadius * kRadius * 1.5f) hovered = static_cast<int>(i);
  }
  return hovered;
}

// The zone whose title bar the mouse is on, or -1.
int zone_title_under(const Layout& lay, ImVec2 mouse) {
  int hovered = -1;
  for (std::uint32_t z = 0; z < lay.shown_zones; ++z) {
    const ImVec2 p0(zone_x(lay, z), lay.origin.y + lay.top);
    const ImVec2 p1(p0.x + lay.zone_w, p0.y + lay.zone_h);
    if (mouse.x >= p0.x && mouse.x <= p1.x && mouse.y >= p0.y && mouse.y <= p0.y + kZoneTitle) {
      hovered = static_cast<int>(z);
    }
  }
  return hovered;
}

void draw_regions(ImDrawList* draw, const Snapshot& snap, const Layout& lay) {
  // A region's box spans its zones, which the order put next to each other.
  for (std::uint32_t k = 0; k < lay.shown_zones;) {
    const std::string& region = snap.zones[lay.order[k]].region;
    std::uint32_t j = k;
    while (j + 1 < lay.shown_zones && snap.zones[lay.order[j + 1]].region == region) ++j;
    const ImVec2 p0(zone_x(lay, lay.order[k]) - 3, lay.origin.y);
    const ImVec2 p1(zone_x(lay, lay.order[j]) + lay.zone_w + 3,
                    lay.origin.y + lay.top + lay.zone_h + 3);
    draw->AddRect(p0, p1, kRegionBox, 8, 0, 1.5f);
    draw->AddText(ImVec2(p0.x + 8, p0.y + 3), kDim, region.c_str());
    k = j + 1;
  }
}

void draw_zones(ImDrawList* draw, const Snapshot& snap, const Layout& lay) {
  for (std::uint32_t z = 0; z < lay.shown_zones; ++z) {
    const ImVec2 p0(zone_x(lay, z), lay.origin.y + lay.top);
    const ImVec2 p1(p0.x + lay.zone_w, p0.y + lay.zone_h);
    draw->AddRect(p0, p1, kZoneBox, 6, 0, 1.5f);
    draw->AddText(ImVec2(p0.x + 8, p0.y + 4), kDim, snap.zones[z].name.c_str());
  }
}

// Links: thickness and opacity by traffic both ways, on a log scale against the busiest.
void draw_traffic(ImDrawList* draw, const Snapshot& snap, const std::vector<ImVec2>& at) {
  const auto n = static_cast<std::uint32_t>(snap.nodes.size());
  double peak = 1;
  for (const float r : snap.link_bytes_per_s) peak = std::max(peak, static_cast<double>(r));
  for (std::uint32_t a = 0; a < n; ++a) {
    for (std::uint32_t b = a + 1; b < n; ++b) {
      const std::size_t ab = static_cast<std::size_t>(a) * n + b;
      const std::size_t ba = static_cast<std::size_t>(b) * n + a;
      const double rate = ab < snap.link_bytes_per_s.size()
                              ? snap.link_bytes_per_s[ab] + snap.link_bytes_per_s[ba]
                              : 0.0;
      if (rate <= 0) continue;
      const float share = static_cast<float>(std::log1p(rate) / std::log1p(peak));
      const auto alpha = static_cast<int>(40 + 200 * share);
      draw->AddLine(at[a], at[b], IM_COL32(90, 160, 255, alpha), 0.5f + 4 * share);
    }
  }
}

// Cut links: a faint red line with a red X at its middle, drawn over the traffic.
void draw_cuts(ImDrawList* draw, const Snapshot& snap, const std::vector<ImVec2>& at) {
  const auto n = static_cast<std::uint32_t>(snap.nodes.size());
  for (std::uint32_t a = 0; a < n; ++a) {
    for (std::uint32_t b = a + 1; b < n; ++b) {
      const std::size_t ab = static_cast<std::size_t>(a) * n + b;
      const std::size_t ba = static_cast<std::size_t>(b) * n + a;
      if (ab >= snap.link_blocked.size() || (!snap.link_blocked[ab] && !snap.link_blocked[ba])) {
        continue;
      }
      // A cut between two nodes that are both down changes nothing: not drawn.
      if (snap.nodes[a].look != NodeLook::up && snap.nodes[b].look != NodeLook::up) continue;
      const ImVec2 mid((at[a].x + at[b].x) / 2, (at[a].y + at[b].y) / 2);
      draw->AddLine(at[a], at[b], IM_COL32(235, 60, 60, 60), 1);
      draw->AddLine(ImVec2(mid.x - 4, mid.y - 4), ImVec2(mid.x + 4, mid.y + 4), kCut, 2);
      draw->AddLine(ImVec2(mid.x - 4, mid.y + 4), ImVec2(mid.x + 4, mid.y - 4), kCut, 2);
    }
  }
}

// One node: a disc in its state's colour, rings for partitioned and fenced, S for a slow
// disk, its name below and what it serves below that.
void draw_node(ImDrawList* draw, const NodeView& v, ImVec2 at) {
  draw->AddCircleFilled(at, kRadius, look_colour(v.look));
  if (v.partitioned) draw->AddCircle(at, kRadius + 3, kRing, 0, 2.5f);
  if (v.fenced) draw->AddCircle(at, kRadius + 6, kFenced, 0, 2);
  if (v.disk_slow) draw->AddText(ImVec2(at.x - 4, at.y - 7), IM_COL32_BLACK, "S");
  const ImVec2 size = ImGui::CalcTextSize(v.name.c_str());
  draw->AddText(ImVec2(at.x - size.x / 2, at.y + kRadius + 2), kText, v.name.c_str());
  if (v.owns.empty()) return;
  // One topic by name; more by count (the tooltip lists them), so labels stay apart.
  char count[32];
  std::snprintf(count, sizeof count, "%u topics", v.owns_count);
  const char* label = v.owns_count == 1 ? v.owns.c_str() : count;
  const ImVec2 s2 = ImGui::CalcTextSize(label);
  draw->AddText(ImVec2(at.x - s2.x / 2, at.y + kRadius + 15), kDim, label);
}

void node_tooltip(const NodeView& v) {
  ImGui::BeginTooltip();
  ImGui::Text("%s (%s): %s%s%s", v.name.c_str(), v.role.c_str(), look_name(v.look),
              v.partitioned ? ", partitioned" : "", v.fenced ? ", fenced" : "");
  if (!v.owns.empty()) ImGui::TextWrapped("serves %s", v.owns.c_str());
  ImGui::TextDisabled("right-click: faults; drag to another node: partition the two");
  ImGui::EndTooltip();
}

}  // namespace

void Workbench::draw_cluster() {
  const Snapshot& snap = *snap_a_;
  const auto n = static_cast<std::uint32_t>(snap.nodes.size());
  if (n == 0 || snap.zones.empty()) {
    ImGui::TextUnformatted("(no cluster yet)");
    return;
  }
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const Layout lay = lay_out_zones(snap, origin, avail);
  ImGui::InvisibleButton("cluster", ImVec2(lay.width, lay.top + lay.zone_h + 4));
  // Only the mouse over the view acts on it, not one over a popup or a scrolled-over panel.
  const bool over = ImGui::IsItemHovered();
  ImDrawList* draw = ImGui::GetWindowDrawList();
  forget_gone_picks(n, lay.shown_zones);
  scratch_.resize(n);
  place_nodes(snap, lay, scratch_);
  const ImVec2 mouse = ImGui::GetIO().MousePos;
  const int hovered_node = over ? node_under(scratch_, n, mouse) : -1;
  const int hovered_zone = over ? zone_title_under(lay, mouse) : -1;
  if (lay.regions) draw_regions(draw, snap, lay);
  draw_zones(draw, snap, lay);
  draw_traffic(draw, snap, scratch_);
  draw_cuts(draw, snap, scratch_);
  for (std::uint32_t i = 0; i < n; ++i) draw_node(draw, snap.nodes[i], scratch_[i]);

  if (hovered_node >= 0 && drag_from_ < 0) {
    node_tooltip(snap.nodes[static_cast<std::size_t>(hovered_node)]);
  }
  drag_to_partition(draw, mouse, hovered_node);
  cluster_menus(hovered_node, hovered_zone);
  ImGui::TextDisabled(
      "green up, yellow paused, red crashed, grey not started; orange ring partitioned, "
      "purple ring fenced, S slow disk; blue links by traffic, red X cut");
}

// A newer snapshot may have fewer nodes or zones than the one a drag or menu began on.
void Workbench::forget_gone_picks(std::uint32_t nodes, std::uint32_t zones) {
  if (drag_from_ >= static_cast<int>(nodes)) drag_from_ = -1;
  if (menu_node_ >= static_cast<int>(nodes)) menu_node_ = -1;
  if (menu_zone_ >= static_cast<int>(zones)) menu_zone_ = -1;
}

// A left press on a node starts a drag (a red line to the mouse); releasing it on
// another node partitions the two, anywhere else drops it.
void Workbench::drag_to_partition(ImDrawList* draw, ImVec2 mouse, int hovered_node) {
  if (ImGui::IsMouseClicked(ImGuiMouseButton_Left) && hovered_node >= 0) drag_from_ = hovered_node;
  if (drag_from_ < 0) return;
  draw->AddLine(scratch_[static_cast<std::size_t>(drag_from_)], mouse, kCut, 2);
  if (!ImGui::IsMouseReleased(ImGuiMouseButton_Left)) return;
  if (hovered_node >= 0 && hovered_node != drag_from_) {
    sim::Fault f;
    f.kind = sim::FaultKind::partition;
    f.nodes = {static_cast<std::uint32_t>(drag_from_)};
    f.peers = {static_cast<std::uint32_t>(hovered_node)};
    act(f);
  }
  drag_from_ = -1;
}

// A right click on a node opens its faults; on a zone's title, the zone's.
void Workbench::cluster_menus(int hovered_node, int hovered_zone) {
  if (ImGui::IsMouseClicked(ImGuiMouseButton_Right)) {
    if (hovered_node >= 0) {
      menu_node_ = hovered_node;
      ImGui::OpenPopup("node");
    } else if (hovered_zone >= 0) {
      menu_zone_ = hovered_zone;
      ImGui::OpenPopup("zone");
    }
  }
  if (ImGui::BeginPopup("node")) {
    if (menu_node_ >= 0) node_menu(static_cast<std::uint32_t>(menu_node_));
    ImGui::EndPopup();
  }
  if (ImGui::BeginPopup("zone")) {
    if (menu_zone_ >= 0) zone_menu(static_cast<std::uint32_t>(menu_zone_));
    ImGui::EndPopup();
  }
}

void Workbench::node_menu(std::uint32_t node) {
  const Snapshot& snap = *snap_a_;
  ImGui::TextUnformatted(snap.nodes[node].name.c_str());
  ImGui::Separator();
  sim::Fault f;
  f.nodes = {node};
  if (ImGui::MenuItem("Crash")) {
    f.kind = sim::FaultKind::crash;
    act(f);
  }
  if (ImGui::MenuItem("Crash, torn last write")) {
    f.kind = sim::FaultKind::crash;
    f.torn = true;
    act(f);
  }
  if (ImGui::MenuItem("Restart", nullptr, false, snap.nodes[node].look == NodeLook::crashed)) {
    f.kind = sim::FaultKind::restart;
    act(f);
  }
  if (ImGui::MenuItem("Pause 5 s")) {
    f.kind = sim::FaultKind::pause;
    f.duration_ns = 5'000'000'000;
    act(f);
  }
  if (ImGui::MenuItem("Isolate (until healed)")) {
    f.kind = sim::FaultKind::partition;
    act(f);
  }
  if (ImGui::MenuItem("Slow disk x20 for 10 s")) {
    f.kind = sim::FaultKind::disk_slow;
    f.factor = 20;
    f.duration_ns = 10'000'000'000;
    act(f);
  }
  if (ImGui::MenuItem("Jump clock +10 s")) {
    f.kind = sim::FaultKind::clock_jump;
    f.amount_ns = 10'000'000'000;
    act(f);
  }
}

void Workbench::zone_menu(std::uint32_t zone) {
  ImGui::TextUnformatted(snap_a_->zones[zone].name.c_str());
  ImGui::Separator();
  sim::Fault f;
  f.zone = zone;
  if (ImGui::MenuItem("Kill zone")) {
    f.kind = sim::FaultKind::zone_kill;
    act(f);
  }
  if (ImGui::MenuItem("Isolate zone")) {
    f.kind = sim::FaultKind::zone_isolate;
    act(f);
  }
  if (ImGui::MenuItem("Restore zone")) {
    f.kind = sim::FaultKind::zone_restore;
    act(f);
  }
}

}  // namespace streamlab::viz
