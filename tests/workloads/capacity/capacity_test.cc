// The load test reproduces textbook limits of small clusters, judges bad inputs with
// file, line and field, and repeats itself exactly.

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "tests/command.h"
#include "workloads/capacity/capacity_sweep.h"
#include "tests/temp_path.h"

namespace streamlab::workloads {
namespace {

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = streamlab::test_util::unique_temp_path(name);
  std::ofstream(path) << text;
  return path;
}

// One broker, three bookies, one client per producer and consumer; everything fast but
// what the test names.
std::string cluster(const std::string& hardware, const std::string& storage, int brokers = 1) {
  std::string broker_list = "\"broker-1\"";
  std::string broker_nodes = "\"broker-1\"";
  for (int b = 2; b <= brokers; ++b) {
    broker_list += ", \"broker-" + std::to_string(b) + "\"";
    broker_nodes += ", \"broker-" + std::to_string(b) + "\"";
  }
  return "name: \"textbook\"\n"
         "topology {\n"
         "  zone { name: \"a\" nodes: [\"meta\", \"bookie-1\", " + broker_nodes + ", \"client-1\"] }\n"
         "  zone { name: \"b\" nodes: [\"bookie-2\", \"client-2\", \"client-3\"] }\n"
         "  zone { name: \"c\" nodes: [\"bookie-3\"] }\n"
         "  latency { within_zone: \"100us\" across_zones: \"500us\" }\n"
         "  hardware {\n    name: \"default\"\n    cores: 8\n" + hardware + "  }\n"
         "}\n"
         "system { pulsar {\n"
         "  storage { metadata: \"meta\" bookies: [\"bookie-1\", \"bookie-2\", \"bookie-3\"] " +
         storage + " }\n  brokers: [" + broker_list + "]\n} }\n";
}

constexpr const char* kFastDisk =
    "    disk { write: \"2GB/s\" read: \"2GB/s\" iops: 1000000 fsync: \"20us\" capacity: \"1TB\" }\n";

OmbWorkload workload(std::uint32_t subscriptions) {
  const std::string text =
      "name: textbook\ntopics: 1\npartitionsPerTopic: 8\nmessageSize: 1024\n"
      "payloadFile: payload/payload-1Kb.data\nsubscriptionsPerTopic: " +
      std::to_string(subscriptions) +
      "\nconsumerPerSubscription: 1\nproducersPerTopic: 1\nproducerRate: 0\n"
      "testDurationMinutes: 1\n";
  Result<OmbWorkload> w = parse_omb_workload(text, "textbook.yaml");
  EXPECT_TRUE(w.ok()) << (w.ok() ? "" : w.error());
  return w.value();
}

SweepSettings quick(double start_rate) {
  SweepSettings s;
  s.start_rate = start_rate;
  s.curve = {};
  s.jobs = 2;
  s.probe.warmup_ns = 500'000'000;
  s.probe.measure_ns = 1'000'000'000;
  return s;
}

// The ceiling: what the cluster publishes at most, once overloaded.
double published_mb_per_s(const SweepResult& r) { return r.peak_published_rate * 1024 / 1e6; }

SweepResult sweep_of(const std::string& cluster_text, const OmbWorkload& w, double start) {
  const std::string path = write_temp("cluster.textproto", cluster_text);
  Result<CapacityPlan> plan = load_capacity_plan(path, w);
  EXPECT_TRUE(plan.ok()) << (plan.ok() ? "" : plan.error());
  Result<SweepResult> r = sweep(plan.value(), quick(start));
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error());
  EXPECT_TRUE(r.value().found_max);
  return r.value();
}

// Every byte produced goes to the journal of each of the Qw = 3 bookies: a journal disk
// of W MB/s on each carries W MB/s of produce.
TEST(Capacity, JournalDiskOfWMegabytesPerSecondCarriesWOfProduceWithThreeCopies) {
  const SweepResult r = sweep_of(
      cluster(std::string("    nic: \"25Gbit\"\n") + kFastDisk + "    journal_disk { write: \"20MB/s\" }\n",
              "ensemble: 3 write_quorum: 3 ack_quorum: 3"),
      workload(1), 8000);
  EXPECT_NEAR(published_mb_per_s(r), 20.0, 2.0);
  EXPECT_NE(r.bottleneck.find("journal disk of bookie-"), std::string::npos) << r.bottleneck;
}

// Journal and entry log on one disk: each byte is written twice, so a shared disk of W
// carries W / 2 of produce. (Latency gives out sooner: journal writes queue behind the
// entry log's large ones.)
TEST(Capacity, SharedJournalAndLedgerDiskCarriesHalfItsBandwidth) {
  const SweepResult r = sweep_of(
      cluster("    nic: \"25Gbit\"\n"
              "    disk { write: \"40MB/s\" read: \"2GB/s\" iops: 1000000 fsync: \"20us\" }\n",
              "ensemble: 3 write_quorum: 3 ack_quorum: 3"),
      workload(1), 8000);
  EXPECT_NEAR(published_mb_per_s(r), 20.0, 2.0);
  EXPECT_NE(r.bottleneck.find("disk of bookie-"), std::string::npos) << r.bottleneck;
}

TEST(Capacity, ShippedClustersAndWorkloadsLoad) {
  const std::string root = STREAMLAB_SOURCE_DIR;
  for (const char* yaml : {"1-topic-1-partition-1kb.yaml", "1-topic-16-partitions-1kb.yaml",
                           "max-rate-1-topic-16-partitions-1kb.yaml", "1-topic-3-partitions-100b.yaml"}) {
    const Result<OmbWorkload> w = load_omb_workload(root + "/workloads/omb/" + yaml);
    ASSERT_TRUE(w.ok()) << w.error();
    const Result<CapacityPlan> plan =
        load_capacity_plan(root + "/workloads/clusters/3-brokers-3-bookies.textproto", w.value());
    ASSERT_TRUE(plan.ok()) << plan.error();
    EXPECT_EQ(plan.value().clients.size(), 3u);
    EXPECT_TRUE(load_point_scenario(plan.value(), 1000, 1'000'000'000, 100'000'000).ok());
  }
}

// The broker's NIC sends each produced byte to Qw bookies and to every subscription: a
// NIC of N carries N / (Qw + subscriptions) of produce.
TEST(Capacity, BrokerNicBoundsProduceByBandwidthOverReplicationPlusFanOut) {
  const std::string hw = std::string("    nic: \"1Gbit\"\n") + kFastDisk;
  const SweepResult one = sweep_of(cluster(hw, "ensemble: 3 write_quorum: 2 ack_quorum: 2"),
                                   workload(1), 20000);
  EXPECT_NEAR(published_mb_per_s(one), 125.0 / 3, 125.0 / 3 / 10);
  EXPECT_EQ(one.bottleneck.rfind("NIC out of broker-1", 0), 0u) << one.bottleneck;
  const SweepResult two = sweep_of(cluster(hw, "ensemble: 3 write_quorum: 2 ack_quorum: 2"),
                                   workload(2), 16000);
  EXPECT_NEAR(published_mb_per_s(two), 125.0 / 4, 125.0 / 4 / 10);
}

TEST(Capacity, ALoadPointRepeatsExactlyWithTheSameSeed) {
  const std::string path = write_temp(
      "cluster.textproto", cluster(std::string("    nic: \"10Gbit\"\n") + kFastDisk,
                                   "ensemble: 3 write_quorum: 3 ack_quorum: 2"));
  const Result<CapacityPlan> plan = load_capacity_plan(path, workload(1));
  ASSERT_TRUE(plan.ok()) << plan.error();
  ProbeSettings settings = quick(0).probe;
  const Result<LoadPoint> a = probe(plan.value(), 5000, settings);
  const Result<LoadPoint> b = probe(plan.value(), 5000, settings);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(a.value().sustainable) << a.value().verdict;
  EXPECT_EQ(a.value().events, b.value().events);
  EXPECT_EQ(a.value().measure.published, b.value().measure.published);
  EXPECT_EQ(a.value().measure.publish_latency.quantile(0.99),
            b.value().measure.publish_latency.quantile(0.99));
  ASSERT_EQ(a.value().utilisation.size(), b.value().utilisation.size());
  for (std::size_t i = 0; i < a.value().utilisation.size(); ++i) {
    EXPECT_EQ(a.value().utilisation[i].resource, b.value().utilisation[i].resource);
    EXPECT_EQ(a.value().utilisation[i].busy, b.value().utilisation[i].busy);
  }
}

TEST(Capacity, ClusterFileWithAWorkloadOrFaultsIsRefusedAtItsLine) {
  const std::string base = cluster(kFastDisk, "ensemble: 3 write_quorum: 2 ack_quorum: 2");
  const std::string path = write_temp(
      "bad-cluster.textproto",
      base + "workload { producer { node: \"client-1\" topic: \"t\" rate: \"1/s\" } }\n");
  const Result<CapacityPlan> plan = load_capacity_plan(path, workload(1));
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().find(path + ":17: workload: a cluster file has none"), std::string::npos)
      << plan.error();
}

TEST(Capacity, SettingsThatBreakTheClusterAreErrorsNamingThem) {
  const std::string path =
      write_temp("cluster.textproto", cluster(kFastDisk, "ensemble: 3 write_quorum: 2 ack_quorum: 2"));
  const Result<CapacityPlan> plan = load_capacity_plan(path, workload(1));
  ASSERT_TRUE(plan.ok()) << plan.error();
  const Result<CapacityPlan> quorum = with_setting(plan.value(), "ack_quorum", "3");
  ASSERT_FALSE(quorum.ok());
  EXPECT_NE(quorum.error().find("ack_quorum=3: the cluster no longer loads"), std::string::npos)
      << quorum.error();
  const Result<CapacityPlan> unknown = with_setting(plan.value(), "ack_qourum", "2");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().find("ack_qourum=2: unknown setting"), std::string::npos);
  const Result<CapacityPlan> path_typo = with_setting(plan.value(), "topology.hardware.nicc", "1Gbit");
  ASSERT_FALSE(path_typo.ok());
  EXPECT_NE(path_typo.error().find("no field \"nicc\" in Hardware"), std::string::npos)
      << path_typo.error();
  const Result<CapacityPlan> disk = with_setting(plan.value(), "journal_disk", "separate");
  EXPECT_FALSE(disk.ok());
  const Result<CapacityPlan> delay = with_setting(plan.value(), "batching_max_publish_delay", "10ms");
  ASSERT_TRUE(delay.ok()) << delay.error();
  EXPECT_EQ(delay.value().producer.batching_max_delay, "10ms");
  const Result<CapacityPlan> nic = with_setting(plan.value(), "topology.hardware.nic", "10Gbit");
  ASSERT_TRUE(nic.ok()) << nic.error();
  EXPECT_EQ(nic.value().cluster.topology().hardware(0).nic(), "10Gbit");
}

TEST(Capacity, ClusterWithoutClientNodesIsAnError) {
  std::string text = cluster(kFastDisk, "ensemble: 3 write_quorum: 2 ack_quorum: 2");
  for (const char* client : {", \"client-1\"", ", \"client-2\", \"client-3\""}) {
    text.erase(text.find(client), std::string(client).size());
  }
  const std::string path = write_temp("no-clients.textproto", text);
  const Result<CapacityPlan> plan = load_capacity_plan(path, workload(1));
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().find("no client node"), std::string::npos) << plan.error();
}

TEST(Capacity, BacklogDrainWorkloadsAreRefusedNotIgnored) {
  const std::string path =
      write_temp("cluster.textproto", cluster(kFastDisk, "ensemble: 3 write_quorum: 2 ack_quorum: 2"));
  OmbWorkload w = workload(1);
  w.file = "backlog.yaml";
  w.producer_rate = 1000;
  w.consumer_backlog_size_gb = 1;
  const Result<CapacityPlan> plan = load_capacity_plan(path, w);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().find("backlog.yaml: consumerBacklogSizeGB: "), std::string::npos)
      << plan.error();
}

TEST(Capacity, CommandWritesOmbShapedJsonAndAReportAndRefusesBadInput) {
  const std::string path = write_temp(
      "cluster.textproto", cluster(std::string("    nic: \"10Gbit\"\n") + kFastDisk,
                                   "ensemble: 3 write_quorum: 2 ack_quorum: 2"));
  const std::string yaml = write_temp(
      "fixed.yaml",
      "name: fixed\ntopics: 1\npartitionsPerTopic: 2\nmessageSize: 512\n"
      "useRandomizedPayloads: true\nrandomizedPayloadPoolSize: 10\nrandomBytesRatio: 0.5\n"
      "subscriptionsPerTopic: 1\nconsumerPerSubscription: 1\nproducersPerTopic: 1\n"
      "producerRate: 2000\ntestDurationMinutes: 1\n");
  const std::string json = streamlab::test_util::unique_temp_path("capacity.json");
  const std::string html = streamlab::test_util::unique_temp_path("capacity.html");
  const test_util::Outcome o =
      test_util::run(STREAMLAB_BIN, "capacity --workload " + yaml + " --cluster " + path +
                                        " --vary ack_quorum=1,2 --measure 1s --warmup 500ms "
                                        "--json " + json + " --report " + html);
  ASSERT_EQ(o.exit_code, 0) << o.out;
  EXPECT_NE(o.out.find("[ack_quorum=1] fixed rate"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("comparison:"), std::string::npos) << o.out;
  std::ifstream in(json);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const char* key : {"\"comparison\":[", "\"publishRate\":[", "\"consumeRate\":[",
                          "\"backlog\":[", "\"publishLatency50pct\":[", "\"publishLatency99pct\":[",
                          "\"publishLatency999pct\":[", "\"publishLatencyMax\":[",
                          "\"endToEndLatency99pct\":[", "\"aggregatedPublishLatency99pct\":",
                          "\"bottleneck\":", "\"utilisationAtMax\":["}) {
    EXPECT_NE(text.find(key), std::string::npos) << key;
  }
  std::ifstream report(html);
  const std::string page((std::istreambuf_iterator<char>(report)), std::istreambuf_iterator<char>());
  EXPECT_NE(page.find("<svg"), std::string::npos);
  const test_util::Outcome bad =
      test_util::run(STREAMLAB_BIN, "capacity --workload " + yaml + " --cluster " + path +
                                        " --vary ack_quorum=2,5");
  EXPECT_EQ(bad.exit_code, 2) << bad.out;
  EXPECT_NE(bad.out.find("ack_quorum=5"), std::string::npos) << bad.out;
  const test_util::Outcome missing = test_util::run(STREAMLAB_BIN, "capacity --cluster " + path);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.out.find("--workload and --cluster are required"), std::string::npos);
}

}  // namespace
}  // namespace streamlab::workloads
