// streamlab-gui: the workbench window (Dear ImGui over GLFW and OpenGL 3), or, with
// --screenshot, one frame of it rendered offscreen to a PNG after running the scenario to
// a time (for tests and docs; under xvfb-run on a machine without a display).

#include <GLFW/glfw3.h>
#include <stb_image_write.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "imgui.h"
#include "imgui_impl_glfw.h"
#include "imgui_impl_opengl3.h"
#include "viz/alloc_count.h"
#include "viz/workbench.h"
#include "workloads/scenario/scenario_loader.h"
#include "workloads/scenario/units.h"

namespace {

using namespace streamlab;

constexpr const char* kUsage = R"(usage: streamlab-gui [SCENARIO] [--seed N]
       streamlab-gui SCENARIO [--seed N] --run-until T --screenshot OUT.png [--size WxH]

The streamlab workbench: runs SCENARIO (a .textproto; or pick a shipped one in the window)
in the simulator and shows the cluster, throughput, latency, durability, the checker's
verdict and the event log as the run goes. Play, pause, step, set the pace or run to a
time; right-click a node or a zone to inject a fault, drag from one node to another to
partition them; move a knob to compare a second run from the same seed. What the
window does is written as scenario files in the current directory, so `streamlab run`
replays it: NAME.gui-seedN.textproto (the scenario plus the faults injected from the
window) and NAME.variant.textproto (the scenario with the knobs moved).

  --seed N          use seed N instead of the scenario's own
  --run-until T     start by running to simulated time T ("30s", "1500ms")
  --screenshot OUT  render one frame offscreen after --run-until to OUT (PNG) and exit;
                    prints the idle frame's allocations and the frame rate while running
  --size WxH        window or screenshot size in pixels (default 1600x1000)

exit codes: 0 ok, 2 bad input, 4 no display / OpenGL
)";

struct Args {
  std::string scenario;
  std::uint64_t seed = 0;
  std::int64_t run_until_ns = -1;
  std::string screenshot;
  int width = 1600;
  int height = 1000;
};

int bad_input(const std::string& why) {
  std::fprintf(stderr, "streamlab-gui: %s\n\n%s", why.c_str(), kUsage);
  return 2;
}

// Parses argv into `args`; returns an exit code for a bad command line or --help, -1 to
// go on.
int parse(int argc, char** argv, Args& args) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (a == "--seed") {
      const char* v = value();
      char* end = nullptr;
      if (v == nullptr || (args.seed = std::strtoull(v, &end, 10)) == 0 || *end != 0) {
        return bad_input("--seed needs a positive integer");
      }
    } else if (a == "--run-until") {
      const char* v = value();
      if (v == nullptr) return bad_input("--run-until needs a time, such as 30s");
      const auto t = workloads::parse_duration_ns(v);
      if (!t) return bad_input("--run-until: " + t.error());
      args.run_until_ns = t.value();
    } else if (a == "--screenshot") {
      const char* v = value();
      if (v == nullptr) return bad_input("--screenshot needs a file name");
      args.screenshot = v;
    } else if (a == "--size") {
      const char* v = value();
      if (v == nullptr || std::sscanf(v, "%dx%d", &args.width, &args.height) != 2 ||
          args.width < 320 || args.height < 240 || args.width > 8192 || args.height > 8192) {
        return bad_input("--size needs WxH, each from 320x240 to 8192x8192");
      }
    } else if (!a.empty() && a[0] == '-') {
      return bad_input("unknown option " + a);
    } else if (args.scenario.empty()) {
      args.scenario = a;
    } else {
      return bad_input("one scenario at most");
    }
  }
  if (!args.screenshot.empty() && (args.scenario.empty() || args.run_until_ns < 0)) {
    return bad_input("--screenshot needs a SCENARIO and --run-until");
  }
  return -1;
}

void render(GLFWwindow* window, viz::Workbench& bench) {
  glfwPollEvents();
  ImGui_ImplOpenGL3_NewFrame();
  ImGui_ImplGlfw_NewFrame();
  ImGui::NewFrame();
  bench.frame();
  ImGui::Render();
  int w = 0;
  int h = 0;
  glfwGetFramebufferSize(window, &w, &h);
  glViewport(0, 0, w, h);
  glClearColor(0.09f, 0.09f, 0.11f, 1);
  glClear(GL_COLOR_BUFFER_BIT);
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
}

bool write_png(const std::string& path, int w, int h) {
  std::vector<unsigned char> pixels(static_cast<std::size_t>(w) * h * 4);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadBuffer(GL_BACK);
  glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE, pixels.data());
  // OpenGL's rows run bottom-up, PNG's top-down.
  std::vector<unsigned char> flipped(pixels.size());
  const std::size_t row = static_cast<std::size_t>(w) * 4;
  for (int y = 0; y < h; ++y) {
    std::memcpy(&flipped[static_cast<std::size_t>(y) * row],
                &pixels[static_cast<std::size_t>(h - 1 - y) * row], row);
  }
  return stbi_write_png(path.c_str(), w, h, 4, flipped.data(), static_cast<int>(row)) != 0;
}

// Runs the scenario to the time, measuring the frame rate meanwhile, waits for the
// verdict at that time, counts an idle frame's allocations, and saves the frame.
int screenshot(GLFWwindow* window, viz::Workbench& bench, const Args& args) {
  viz::LiveRun* run = bench.run_a();
  run->run_to(args.run_until_ns);
  const auto start = std::chrono::steady_clock::now();
  int frames = 0;
  for (;;) {
    render(window, bench);
    glfwSwapBuffers(window);
    ++frames;
    const auto snap = run->snapshot();
    const bool there = snap->now_ns >= std::min(args.run_until_ns, snap->end_ns);
    if (there && snap->phase != viz::RunPhase::playing && snap->checked_at_ns == snap->now_ns) {
      break;
    }
  }
  const double running_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  constexpr int kWarmFrames = 10;
  constexpr int kIdleFrames = 60;
  for (int i = 0; i < kWarmFrames; ++i) {
    render(window, bench);
    glfwSwapBuffers(window);
  }
  const std::uint64_t before = viz::allocations_on_this_thread();
  const auto idle_start = std::chrono::steady_clock::now();
  for (int i = 0; i < kIdleFrames; ++i) {
    render(window, bench);
    glfwSwapBuffers(window);
  }
  const double idle_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - idle_start).count();
  const std::uint64_t idle_allocations = viz::allocations_on_this_thread() - before;
  render(window, bench);
  int w = 0;
  int h = 0;
  glfwGetFramebufferSize(window, &w, &h);
  if (!write_png(args.screenshot, w, h)) {
    std::fprintf(stderr, "streamlab-gui: cannot write %s\n", args.screenshot.c_str());
    return 2;
  }
  std::printf("streamlab-gui: wrote %s (%dx%d) at t=%.3f s\n", args.screenshot.c_str(), w, h,
              static_cast<double>(run->snapshot()->now_ns) / 1e9);
  std::printf("idle frame allocations: %llu over %d frames (%.1f frames/s)\n",
              static_cast<unsigned long long>(idle_allocations), kIdleFrames,
              kIdleFrames / idle_s);
  std::printf("frames while running: %d in %.2f s (%.1f frames/s)\n", frames, running_s,
              running_s > 0 ? frames / running_s : 0.0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (const int code = parse(argc, argv, args); code >= 0) return code;
  // A scenario that does not load is bad input, display or not.
  if (!args.scenario.empty()) {
    if (const auto config = workloads::load_scenario(args.scenario); !config) {
      std::fprintf(stderr, "streamlab-gui: %s\n", config.error().c_str());
      return 2;
    }
  }
  if (!glfwInit()) {
    std::fprintf(stderr, "streamlab-gui: no display (GLFW cannot start); for a screenshot "
                         "without one, run under xvfb-run -a\n");
    return 4;
  }
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  const bool offscreen = !args.screenshot.empty();
  if (offscreen) glfwWindowHint(GLFW_VISIBLE, GLFW_FALSE);
  GLFWwindow* window = glfwCreateWindow(args.width, args.height, "streamlab", nullptr, nullptr);
  if (window == nullptr) {
    std::fprintf(stderr, "streamlab-gui: cannot open an OpenGL 3.3 window\n");
    glfwTerminate();
    return 4;
  }
  glfwMakeContextCurrent(window);
  glfwSwapInterval(offscreen ? 0 : 1);
  viz::install_imgui_counting();
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui::GetIO().IniFilename = nullptr;
  ImGui::StyleColorsDark();
  ImGui_ImplGlfw_InitForOpenGL(window, true);
  ImGui_ImplOpenGL3_Init("#version 330");
  int code = 0;
  {
    viz::WorkbenchOptions options;
    options.scenario_dir = STREAMLAB_SCENARIO_DIR;
    if (const char* env = std::getenv("STREAMLAB_SCENARIO_DIR")) options.scenario_dir = env;
    viz::Workbench bench(options);
    if (!args.scenario.empty()) {
      if (const std::string error = bench.open(args.scenario, args.seed); !error.empty()) {
        std::fprintf(stderr, "streamlab-gui: %s\n", error.c_str());
        code = 2;
      }
    }
    if (code == 0 && offscreen) {
      code = screenshot(window, bench, args);
    } else if (code == 0) {
      if (args.run_until_ns >= 0 && bench.run_a() != nullptr) bench.run_a()->run_to(args.run_until_ns);
      while (!glfwWindowShouldClose(window)) {
        render(window, bench);
        glfwSwapBuffers(window);
      }
    }
  }
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(window);
  glfwTerminate();
  return code;
}
