#pragma once

// Counts the heap allocations the calling thread makes (operator new, and ImGui's
// allocator once install_imgui_counting() is called), so that streamlab-gui can show
// that an idle frame allocates nothing.

#include <cstdint>

namespace streamlab::viz {

std::uint64_t allocations_on_this_thread();
void install_imgui_counting();

}  // namespace streamlab::viz
