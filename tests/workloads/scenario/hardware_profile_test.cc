// Hardware files: a scenario's hardware entry takes a profile file's settings, then its
// own; errors in the file name the file and its line.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "workloads/scenario/scenario_loader.h"

namespace streamlab::workloads {
namespace {

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = (std::filesystem::path(testing::TempDir()) / name).string();
  std::ofstream(path) << text;
  return path;
}

Result<ScenarioConfig> scenario_with(const std::string& hardware_entry) {
  const std::string path = write_temp(
      "hw-scenario.textproto",
      "name: \"hw\"\nduration: \"1s\"\n"
      "topology {\n  zone { name: \"a\" nodes: [\"c\"] node { name: \"s\" hardware: \"big\" } }\n"
      "  hardware { name: \"big\" " + hardware_entry + " }\n}\n"
      "system { counter { server: \"s\" } }\n"
      "workload { counter_client { node: \"c\" rate: \"10/s\" } }\n");
  return load_scenario(path);
}

TEST(HardwareProfile, EntryTakesTheFileThenItsOwnSettings) {
  write_temp("big.textproto",
             "# A test profile.\ncores: 16\nnic: \"10Gbit\"\n"
             "disk { write: \"500MB/s\" fsync: \"40us\" }\n"
             "journal_disk { write: \"200MB/s\" }\n"
             "cost { work: \"journal_append\" per_message: \"1.5us\" per_byte: \"80ps\" }\n"
             "cost { work: \"receive\" per_message: \"800ns\" }\n");
  const Result<ScenarioConfig> c = scenario_with("profile: \"big.textproto\" cores: 4");
  ASSERT_TRUE(c.ok()) << c.error();
  const sim::HardwareProfile& hw = c.value().topology.nodes[1].hardware;
  EXPECT_EQ(hw.cpu.cores, 4u);
  EXPECT_EQ(hw.nic_bytes_per_s, 10'000'000'000 / 8);
  EXPECT_EQ(hw.disk.write_bytes_per_s, 500'000'000);
  ASSERT_TRUE(hw.journal_disk.has_value());
  EXPECT_EQ(hw.journal_disk->write_bytes_per_s, 200'000'000);
  EXPECT_EQ(hw.journal_disk->fsync_latency_ns, 40'000);  // The main disk's, unless stated.
  EXPECT_EQ(hw.cpu.of(Work::journal_append).per_message_ns, 1'500);
  EXPECT_EQ(hw.cpu.of(Work::journal_append).per_byte_ps, 80);
  EXPECT_EQ(hw.cpu.of(Work::receive).per_message_ns, 800);
  EXPECT_EQ(hw.cpu.of(Work::receive).per_byte_ps, 100);  // The default, unless stated.
  const Result<ScenarioConfig> shared = scenario_with("profile: \"big.textproto\" journal: \"shared\"");
  ASSERT_TRUE(shared.ok()) << shared.error();
  EXPECT_FALSE(shared.value().topology.nodes[1].hardware.journal_disk.has_value());
}

TEST(HardwareProfile, ErrorsInTheFileNameTheFileAndLine) {
  const std::string file = write_temp(
      "typo.textproto", "cores: 8\ncost { work: \"jurnal_append\" per_message: \"1us\" }\n");
  const Result<ScenarioConfig> c = scenario_with("profile: \"typo.textproto\"");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().find(file + ":2: work: unknown kind \"jurnal_append\"; known: send,"),
            std::string::npos)
      << c.error();
  write_temp("nested.textproto", "profile: \"big.textproto\"\n");
  const Result<ScenarioConfig> nested = scenario_with("profile: \"nested.textproto\"");
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.error().find("nested.textproto:1: profile: a hardware file cannot name another"),
            std::string::npos)
      << nested.error();
  const Result<ScenarioConfig> missing = scenario_with("profile: \"absent.textproto\"");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("hw-scenario.textproto:5: profile: cannot read"), std::string::npos)
      << missing.error();
  const Result<ScenarioConfig> journal = scenario_with("journal: \"separate\"");
  ASSERT_FALSE(journal.ok());
  EXPECT_NE(journal.error().find("journal: expected \"shared\" or \"dedicated\""), std::string::npos);
}

TEST(HardwareProfile, ShippedProfilesLoad) {
  const std::filesystem::path dir = std::filesystem::path(STREAMLAB_SOURCE_DIR) / "workloads/hardware";
  int profiles = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const Result<ScenarioConfig> c = scenario_with("profile: \"" + entry.path().string() + "\"");
    EXPECT_TRUE(c.ok()) << entry.path() << ": " << (c.ok() ? "" : c.error());
    ++profiles;
  }
  EXPECT_GE(profiles, 2);
}

}  // namespace
}  // namespace streamlab::workloads
