#include "viz/chart.h"

#include <algorithm>
#include <cstdio>

namespace streamlab::viz {

namespace {

constexpr ImU32 kAxis = IM_COL32(150, 150, 150, 255);
constexpr ImU32 kGrid = IM_COL32(70, 70, 70, 255);
constexpr ImU32 kFaultOn = IM_COL32(230, 80, 80, 200);
constexpr ImU32 kFaultOff = IM_COL32(80, 200, 120, 160);
constexpr ImU32 kCursor = IM_COL32(250, 220, 60, 255);
constexpr float kLeft = 56;
constexpr float kBottom = 18;

// A round step near range / 4 (1, 2 or 5 times a power of ten).
double nice_step(double range) {
  double step = 1;
  while (step * 10 <= range / 4) step *= 10;
  while (step > range / 4 && step > 1e-9) step /= 10;
  if (step * 5 <= range / 4) return step * 5;
  if (step * 2 <= range / 4) return step * 2;
  return step;
}

}  // namespace

void draw_chart(const char* title, const char* unit, std::span<const ChartLine> lines,
                const ChartFrame& frame, float height) {
  ImGui::PushID(title);
  ImGui::TextUnformatted(title);
  for (const ChartLine& line : lines) {
    ImGui::SameLine();
    const double last = line.points->empty() ? 0.0 : line.points->back().second;
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(line.color), "  %s %.4g %s", line.label,
                       last, unit);
  }
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const float width = std::max(100.0f, ImGui::GetContentRegionAvail().x);
  ImGui::InvisibleButton("plot", ImVec2(width, height));
  const bool hovered = ImGui::IsItemHovered();
  ImDrawList* draw = ImGui::GetWindowDrawList();
  const ImVec2 p0(origin.x + kLeft, origin.y);
  const ImVec2 p1(origin.x + width, origin.y + height - kBottom);
  const double end = static_cast<double>(std::max<std::int64_t>(frame.end_ns, 1));
  double top = 0;
  for (const ChartLine& line : lines) {
    for (const auto& [t, v] : *line.points) top = std::max(top, v);
  }
  top = top <= 0 ? 1 : top * 1.1;
  const auto x_of = [&](double t) { return p0.x + static_cast<float>(t / end) * (p1.x - p0.x); };
  const auto y_of = [&](double v) { return p1.y - static_cast<float>(v / top) * (p1.y - p0.y); };

  draw->AddRect(p0, p1, kAxis);
  char label[32];
  const double y_step = nice_step(top);
  for (double v = 0; v <= top; v += y_step) {
    draw->AddLine(ImVec2(p0.x, y_of(v)), ImVec2(p1.x, y_of(v)), kGrid);
    std::snprintf(label, sizeof label, "%.4g", v);
    draw->AddText(ImVec2(origin.x, y_of(v) - 7), kAxis, label);
  }
  const double t_step = nice_step(end / 1e9) * 1e9;
  for (double t = 0; t <= end; t += t_step) {
    draw->AddLine(ImVec2(x_of(t), p1.y), ImVec2(x_of(t), p1.y + 4), kAxis);
    std::snprintf(label, sizeof label, "%.4gs", t / 1e9);
    const float w = ImGui::CalcTextSize(label).x;
    draw->AddText(ImVec2(std::min(x_of(t) - w / 2, p1.x - w), p1.y + 3), kAxis, label);
  }
  if (frame.faults != nullptr) {
    for (const FaultMark& f : *frame.faults) {
      const float x = x_of(static_cast<double>(f.time_ns));
      draw->AddLine(ImVec2(x, p0.y), ImVec2(x, p1.y), f.lifted ? kFaultOff : kFaultOn);
    }
  }
  draw->PushClipRect(p0, p1, true);
  for (const ChartLine& line : lines) {
    std::vector<ImVec2>& pts = *frame.scratch;
    pts.clear();
    for (const auto& [t, v] : *line.points) {
      pts.emplace_back(x_of(static_cast<double>(t)), y_of(v));
    }
    if (pts.size() >= 2) {
      draw->AddPolyline(pts.data(), static_cast<int>(pts.size()), line.color, 0, 1.5f);
    } else if (pts.size() == 1) {
      draw->AddCircleFilled(pts[0], 2.5f, line.color);
    }
  }
  draw->PopClipRect();
  if (frame.cursor_ns != nullptr) {
    if (hovered && ImGui::IsMouseClicked(ImGuiMouseButton_Left)) {
      const double at = (ImGui::GetIO().MousePos.x - p0.x) / (p1.x - p0.x) * end;
      *frame.cursor_ns = static_cast<std::int64_t>(std::clamp(at, 0.0, end));
    }
    if (*frame.cursor_ns >= 0) {
      const float x = x_of(static_cast<double>(*frame.cursor_ns));
      draw->AddLine(ImVec2(x, p0.y), ImVec2(x, p1.y), kCursor, 1.5f);
    }
  }
  if (hovered) {
    const double at = (ImGui::GetIO().MousePos.x - p0.x) / (p1.x - p0.x) * end;
    ImGui::BeginTooltip();
    ImGui::Text("t = %.3f s", at / 1e9);
    for (const ChartLine& line : lines) {
      const Points& pts = *line.points;
      const auto it = std::lower_bound(pts.begin(), pts.end(), static_cast<std::int64_t>(at),
                                       [](const auto& p, std::int64_t t) { return p.first < t; });
      if (it != pts.end()) ImGui::Text("%s: %.4g %s", line.label, it->second, unit);
    }
    if (frame.faults != nullptr) {
      const float mouse_x = ImGui::GetIO().MousePos.x;
      for (const FaultMark& f : *frame.faults) {
        if (std::abs(x_of(static_cast<double>(f.time_ns)) - mouse_x) < 3) {
          ImGui::Text("%.3f s %s %s", static_cast<double>(f.time_ns) / 1e9,
                      f.lifted ? "lifted" : "fault", f.text.c_str());
        }
      }
    }
    ImGui::EndTooltip();
  }
  ImGui::PopID();
}

}  // namespace streamlab::viz
