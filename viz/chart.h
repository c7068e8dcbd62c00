#pragma once

// A time-series chart drawn with ImGui's draw lists (no plotting library is packaged
// for Debian): lines over the run's simulated time [0, end], y from 0 to the largest
// value shown, fault events as marks on the time axis, and a cursor the user moves by
// clicking (or by picking an event in the log). Draws without allocating once the
// caller's scratch buffer has grown.

#include <cstdint>
#include <span>
#include <vector>

#include "imgui.h"
#include "viz/snapshot.h"

namespace streamlab::viz {

struct ChartLine {
  const char* label;
  const Points* points;
  ImU32 color;
};

struct ChartFrame {
  std::int64_t end_ns = 0;
  const std::vector<FaultMark>* faults = nullptr;
  std::int64_t* cursor_ns = nullptr;  // In and out: -1 for none.
  std::vector<ImVec2>* scratch = nullptr;
};

// `unit` follows the y values in the legend and hover text ("msg/s", "ms").
void draw_chart(const char* title, const char* unit, std::span<const ChartLine> lines,
                const ChartFrame& frame, float height);

}  // namespace streamlab::viz
