// `streamlab replay`: the structured event log of a run, filtered, of the very run that
// was judged (same trace hash), with the nodes' notes telling what they did.

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "tests/command.h"
#include "tests/temp_path.h"

namespace {

using streamlab::test_util::Outcome;

Outcome run(const std::string& args) { return streamlab::test_util::run(STREAMLAB_BIN, args); }

std::string scenario(const std::string& name) {
  return std::string(STREAMLAB_SCENARIOS) + "/" + name;
}

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The fencing-off ledger pair: writer-2 recovers writer-1's ledger without fencing while
// writer-1 is paused; the log shows the recovery and the zombie's later acks.
TEST(Replay, WritesTheEventLogOfTheSameRun) {
  const std::string path = streamlab::test_util::unique_temp_path("replay.jsonl");
  const Outcome o = run("replay " + scenario("ledger-fencing.unsafe.textproto") +
                        " --seed 1 --events " + path + " --to 14s");
  ASSERT_EQ(o.exit_code, 0) << o.out;
  const std::size_t at = o.out.find("trace      run ");
  ASSERT_NE(at, std::string::npos) << o.out;
  const std::string hashes = o.out.substr(at, o.out.find('\n', at) - at);
  const std::string run_hash = hashes.substr(15, 16);
  EXPECT_TRUE(contains(hashes, "replay " + run_hash)) << hashes;
  EXPECT_TRUE(contains(o.out, "anomaly    split-brain")) << o.out;

  const std::vector<std::string> lines = lines_of(path);
  ASSERT_GT(lines.size(), 1000u);
  bool recovered = false, fault = false, send = false, fsync = false;
  for (const std::string& line : lines) {
    ASSERT_EQ(line.front(), '{');
    ASSERT_EQ(line.back(), '}');
    ASSERT_TRUE(contains(line, "\"t\":") && contains(line, "\"kind\":")) << line;
    recovered = recovered || (contains(line, "\"note\"") && contains(line, "recovered, closed"));
    fault = fault || (contains(line, "\"fault\"") && contains(line, "inject pause"));
    send = send || (contains(line, "\"send\"") && contains(line, "\"what\":\"add_entry {"));
    fsync = fsync || (contains(line, "\"disk_fsync\"") && contains(line, "\"file\":\"journal.000001\""));
  }
  EXPECT_TRUE(recovered);
  EXPECT_TRUE(fault);
  EXPECT_TRUE(send);
  EXPECT_TRUE(fsync);
  EXPECT_TRUE(contains(lines.back(), "\"time\":\"13.") || contains(lines.back(), "\"time\":\"14."))
      << lines.back();
}

TEST(Replay, FiltersByNodeAndTime) {
  const std::string path = streamlab::test_util::unique_temp_path("replay-node.jsonl");
  const Outcome o = run("replay " + scenario("counter-basic.textproto") + " --events " + path +
                        " --node server --from 1s --to 2s");
  ASSERT_EQ(o.exit_code, 0) << o.out;
  const std::vector<std::string> lines = lines_of(path);
  ASSERT_FALSE(lines.empty());
  for (const std::string& line : lines) {
    EXPECT_TRUE(contains(line, "\"node\":\"server\"") || contains(line, "\"peer\":\"server\"") ||
                contains(line, "\"node\":\"run\""))
        << line;
    EXPECT_TRUE(contains(line, "\"time\":\"1.") || contains(line, "\"time\":\"2.000000s\""))
        << line;
  }
}

TEST(Replay, BadInputNamesTheProblem) {
  const Outcome node = run("replay " + scenario("counter-basic.textproto") + " --node nobody");
  EXPECT_EQ(node.exit_code, 2);
  EXPECT_TRUE(contains(node.out, "no node named \"nobody\"")) << node.out;
  const Outcome window =
      run("replay " + scenario("counter-basic.textproto") + " --from 5s --to 1s");
  EXPECT_EQ(window.exit_code, 2);
  EXPECT_TRUE(contains(window.out, "--from is after --to")) << window.out;
  const Outcome time = run("replay " + scenario("counter-basic.textproto") + " --from soon");
  EXPECT_EQ(time.exit_code, 2);
  EXPECT_TRUE(contains(time.out, "--from")) << time.out;
}

}  // namespace
