// Runs the built `streamlab` binary as a user would and checks exit codes and outputs.

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/command.h"
#include "tests/temp_path.h"

namespace {

using streamlab::test_util::Outcome;

Outcome run(const std::string& args) { return streamlab::test_util::run(STREAMLAB_BIN, args); }

std::string scenario(const std::string& name) { return std::string(STREAMLAB_SCENARIOS) + "/" + name; }

std::string temp_path(const std::string& name) {
  return streamlab::test_util::unique_temp_path(name);
}

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = temp_path(name);
  std::ofstream(path) << text;
  return path;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The power-loss scenario expecting the lost write it finds to be absent: a failing seed.
std::string expecting_no_lost_write() {
  std::string text = read_file(scenario("counter-no-fsync-power-loss.unsafe.textproto"));
  text.replace(text.find("anomaly: \"lost-write\" present: true"), 36,
               "anomaly: \"lost-write\" present: false");
  return text;
}

TEST(Cli, RunPrintsSummaryAndExitsZeroWhenExpectationsHold) {
  const Outcome o = run("run " + scenario("counter-basic.textproto"));
  EXPECT_EQ(o.exit_code, 0) << o.out;
  EXPECT_NE(o.out.find("trace "), std::string::npos);
  EXPECT_NE(o.out.find("expect     met"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("reproduce  streamlab run"), std::string::npos);
}

TEST(Cli, RunWritesJsonWithTheDocumentedKeys) {
  const std::string json = temp_path("run.json");
  const Outcome o = run("run " + scenario("counter-no-fsync-power-loss.unsafe.textproto") +
                        " --seed 3 --json " + json);
  EXPECT_EQ(o.exit_code, 0) << o.out;
  const std::string text = read_file(json);
  for (const char* key : {"\"seed\":3", "\"trace_hash\":\"", "\"sim_time_ns\":", "\"events\":",
                          "\"wall_time_s\":", "\"anomalies\":{\"lost-write\":",
                          "\"expectations\":{\"met\":true,\"failed\":[]}", "\"metrics\":{"}) {
    EXPECT_NE(text.find(key), std::string::npos) << key << " missing in " << text;
  }
}

TEST(Cli, FailedExpectationExitsOneAndSaysWhich) {
  const Outcome o = run("run " + write_temp("wrong.textproto", expecting_no_lost_write()));
  EXPECT_EQ(o.exit_code, 1) << o.out;
  EXPECT_NE(o.out.find("FAILED     expected no lost-write but found"), std::string::npos) << o.out;
}

TEST(Cli, BadScenarioExitsTwoWithFileAndLine) {
  const std::string path = write_temp("bad.textproto", "name: \"x\"\nduration: \"1s\"\nwat: 1\n");
  const Outcome o = run("run " + path);
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_NE(o.out.find(path + ":3:"), std::string::npos) << o.out;
  EXPECT_EQ(o.out.find("scenario "), std::string::npos) << "nothing may run on a bad scenario";
}

TEST(Cli, UsageErrorsExitTwo) {
  EXPECT_EQ(run("").exit_code, 2);
  EXPECT_EQ(run("frobnicate").exit_code, 2);
  EXPECT_EQ(run("run").exit_code, 2);
  EXPECT_EQ(run("run x.textproto --speed 3").exit_code, 2);
  EXPECT_EQ(run("run " + scenario("counter-basic.textproto") + " --seed zero").exit_code, 2);
  EXPECT_EQ(run("explore " + scenario("counter-basic.textproto")).exit_code, 2);
  EXPECT_EQ(run("explore " + scenario("counter-basic.textproto") + " --seeds 5..1").exit_code, 2);
  EXPECT_EQ(run("explore " + scenario("counter-basic.textproto") + " --seeds 1..2 --shard 2/2").exit_code, 2);
  EXPECT_EQ(run("shrink " + scenario("counter-basic.textproto")).exit_code, 2);
  EXPECT_EQ(run("shrink " + scenario("counter-basic.textproto") + " --seed 1 --jobs 0").exit_code, 2);
}

TEST(Cli, ShrinkWithNothingToKeepExitsTwoAndSaysSo) {
  const Outcome o = run("shrink " + scenario("counter-basic.textproto") + " --seed 1 --out " +
                        temp_path("never.textproto"));
  EXPECT_EQ(o.exit_code, 2) << o.out;
  EXPECT_NE(o.out.find("nothing to keep"), std::string::npos) << o.out;
}

// A capped shrink still writes a scenario that reproduces with the command it prints:
// the counter swarm with fsync off, whose seed 5 loses acknowledged adds.
TEST(Cli, ShrinkWritesAScenarioThatReproduces) {
  std::string text = read_file(scenario("counter-swarm.safe.textproto"));
  const std::string server = "server: \"server\" }";
  text.replace(text.find(server), server.size(), "server: \"server\" fsync: false }");
  const std::string out = temp_path("min.textproto");
  const Outcome o = run("shrink " + write_temp("swarm-no-fsync.textproto", text) +
                        " --seed 5 --jobs 2 --max-runs 3 --out " + out);
  EXPECT_EQ(o.exit_code, 0) << o.out;
  EXPECT_NE(o.out.find("wrote " + out), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("the run cap (3) was reached"), std::string::npos) << o.out;
  EXPECT_NE(read_file(out).find("# Reproduce: streamlab run " + out + " --seed 5"),
            std::string::npos);
  const Outcome again = run("run " + out + " --seed 5");
  EXPECT_EQ(again.exit_code, 1) << again.out;
  EXPECT_NE(again.out.find("FAILED     expected no lost-write"), std::string::npos) << again.out;
}

TEST(Cli, EveryCommandHasHelp) {
  for (const char* command :
       {"--help", "run --help", "explore --help", "shrink --help", "list --help"}) {
    const Outcome o = run(command);
    EXPECT_EQ(o.exit_code, 0) << command;
    EXPECT_NE(o.out.find("usage: streamlab"), std::string::npos) << command << o.out;
  }
}

TEST(Cli, CheckDeterminismPasses) {
  const Outcome o = run("run " + scenario("counter-basic.textproto") + " --check-determinism");
  EXPECT_EQ(o.exit_code, 0) << o.out;
  EXPECT_NE(o.out.find("determinism: both runs executed"), std::string::npos) << o.out;
}

TEST(Cli, ListShowsShippedScenarios) {
  const Outcome o = run("list");
  EXPECT_EQ(o.exit_code, 0) << o.out;
  EXPECT_NE(o.out.find("counter-basic.textproto"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("counter-no-fsync-power-loss.unsafe.textproto"), std::string::npos);
  EXPECT_NE(o.out.find("long/broker-long.textproto"), std::string::npos) << o.out;
}

TEST(Cli, ExploreListsFailingSeedsWithReproduceCommands) {
  const std::string path = write_temp("explore.textproto", expecting_no_lost_write());
  const Outcome o = run("explore " + path + " --seeds 1..4 --jobs 2");
  EXPECT_EQ(o.exit_code, 1) << o.out;
  EXPECT_NE(o.out.find("explored 4 seeds"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("reproduce: streamlab run " + path + " --seed 3"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("replay:    streamlab replay " + path + " --seed 3 --events seed3.events.jsonl"),
            std::string::npos) << o.out;
  EXPECT_NE(o.out.find("shrink:    streamlab shrink " + path + " --seed 3 --out seed3.min.textproto"),
            std::string::npos) << o.out;
  EXPECT_NE(o.out.find("report:    streamlab run " + path + " --seed 3 --report seed3.html"),
            std::string::npos) << o.out;
}

// A long run without a long variant of the file: the flag replaces the duration, what
// ends with the run runs on to it, and every command that reproduces the run repeats it.
TEST(Cli, DurationFlagLengthensTheRunAndTheReproduceCommandsRepeatIt) {
  const Outcome o = run("run " + scenario("counter-basic.textproto") + " --duration 45s");
  EXPECT_EQ(o.exit_code, 0) << o.out;
  EXPECT_NE(o.out.find("45.000 s simulated"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("--seed 1 --duration 45s"), std::string::npos) << o.out;
  const std::string json = temp_path("long.json");
  ASSERT_EQ(run("run " + scenario("counter-basic.textproto") + " --duration 45s --json " + json)
                .exit_code,
            0);
  EXPECT_NE(read_file(json).find("\"sim_time_ns\":45000000000"), std::string::npos);

  const std::string path = write_temp("explore-long.textproto", expecting_no_lost_write());
  const Outcome e = run("explore " + path + " --seeds 3..3 --duration 25s");
  EXPECT_EQ(e.exit_code, 1) << e.out;
  EXPECT_NE(e.out.find("reproduce: streamlab run " + path + " --seed 3 --duration 25s"),
            std::string::npos) << e.out;
  EXPECT_NE(e.out.find("replay:    streamlab replay " + path + " --seed 3 --duration 25s"),
            std::string::npos) << e.out;
  EXPECT_NE(e.out.find("shrink:    streamlab shrink " + path + " --seed 3 --duration 25s"),
            std::string::npos) << e.out;

  for (const char* bad : {"0s", "-5s", "soon"}) {
    const Outcome b = run("run " + scenario("counter-basic.textproto") + " --duration " + bad);
    EXPECT_EQ(b.exit_code, 2) << bad;
    EXPECT_NE(b.out.find("--duration needs a simulated time > 0"), std::string::npos) << b.out;
  }
  // A file's fixed times that no longer fit are the file's errors, and the flag is named.
  const Outcome s = run("run " + scenario("counter-no-fsync-power-loss.unsafe.textproto") +
                        " --duration 1s");
  EXPECT_EQ(s.exit_code, 2) << s.out;
  EXPECT_NE(s.out.find("(the run's duration is --duration 1s)"), std::string::npos) << s.out;
}

TEST(Cli, ExploreShardRunsItsShareOnly) {
  const Outcome o = run("explore " + scenario("counter-basic.textproto") + " --seeds 1..5 --shard 1/2");
  EXPECT_EQ(o.exit_code, 0) << o.out;
  EXPECT_NE(o.out.find("explored 2 seeds of 1..5 (shard 1/2)"), std::string::npos) << o.out;
}

}  // namespace
