// streamlab-gui as a user runs it: a screenshot of a shipped scenario, rendered offscreen
// under Xvfb with Mesa, is the size asked for and shows the workbench (not a blank or
// single-colour frame); an idle frame allocates nothing; bad command lines get a clear
// error and exit 2 without needing a display.

#include <gtest/gtest.h>
#include <stb_image.h>

#include <cstdio>
#include <filesystem>
#include <set>
#include <string>

#include "tests/command.h"

namespace streamlab::viz {
namespace {

using test_util::run;

const std::string kGui = STREAMLAB_GUI_BIN;

std::string scenario(const std::string& name) { return std::string(STREAMLAB_SCENARIOS) + "/" + name; }

// Sanitizer builds: Mesa and X11 keep allocations to exit, which are not ours.
const std::string kEnv = "ASAN_OPTIONS=detect_leaks=0 ";

TEST(GuiScreenshot, AShippedScenarioRendersAtTheSizeAskedAndIsNotBlank) {
  const std::string out =
      (std::filesystem::temp_directory_path() / "streamlab-gui-test.png").string();
  std::filesystem::remove(out);
  const auto r = run(kEnv + "xvfb-run -a " + kGui,
                     scenario("zombie-broker-gc-pause.unsafe.textproto") +
                         " --seed 1 --run-until 30s --screenshot " + out + " --size 1200x800");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("wrote " + out + " (1200x800) at t=30.000 s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("idle frame allocations: 0 over"), std::string::npos) << r.out;

  int w = 0;
  int h = 0;
  int channels = 0;
  unsigned char* pixels = stbi_load(out.c_str(), &w, &h, &channels, 4);
  ASSERT_NE(pixels, nullptr) << "not a PNG: " << out;
  EXPECT_EQ(w, 1200);
  EXPECT_EQ(h, 800);
  // The workbench draws text, charts and nodes in many colours over a dark background.
  std::set<unsigned> colours;
  std::size_t lit = 0;
  for (int i = 0; i < w * h; ++i) {
    const unsigned char* p = pixels + 4 * static_cast<std::size_t>(i);
    colours.insert(static_cast<unsigned>(p[0]) << 16 | static_cast<unsigned>(p[1]) << 8 | p[2]);
    if (p[0] + p[1] + p[2] > 120) ++lit;
  }
  stbi_image_free(pixels);
  EXPECT_GT(colours.size(), 100u);
  EXPECT_GT(lit, static_cast<std::size_t>(w * h) / 50);
}

TEST(GuiCommandLine, BadInputExitsTwoWithTheReason) {
  const auto unknown = run(kGui, "--frobnicate");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.out.find("unknown option --frobnicate"), std::string::npos) << unknown.out;
  const auto size = run(kGui, scenario("counter-basic.textproto") +
                                  " --run-until 1s --screenshot x.png --size 10x10");
  EXPECT_EQ(size.exit_code, 2);
  EXPECT_NE(size.out.find("--size"), std::string::npos) << size.out;
  const auto missing = run(kGui, "no-such-scenario.textproto");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.out.find("no-such-scenario.textproto"), std::string::npos) << missing.out;
  const auto shot = run(kGui, "--screenshot x.png");
  EXPECT_EQ(shot.exit_code, 2);
  EXPECT_NE(shot.out.find("needs a SCENARIO and --run-until"), std::string::npos) << shot.out;
  const auto help = run(kGui, "--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("usage: streamlab-gui"), std::string::npos);
}

}  // namespace
}  // namespace streamlab::viz
