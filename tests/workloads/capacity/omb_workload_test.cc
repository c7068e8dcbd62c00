#include "workloads/capacity/omb_workload.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>

namespace streamlab::workloads {
namespace {

// The shipped OMB workloads sit next to the scenarios (STREAMLAB_SCENARIOS comes from
// tests/workloads/CMakeLists.txt).
std::string omb_dir() { return std::string(STREAMLAB_SCENARIOS) + "/../omb"; }

// A valid workload that sets every key; tests change one line of it at a time, so each
// key keeps its line number.
const std::string kValid = R"(# Every key.
name: test workload
topics: 2
partitionsPerTopic: 4
messageSize: 512
payloadFile: "payload/payload-512b.data"
useRandomizedPayloads: false
randomBytesRatio: 0.25
randomizedPayloadPoolSize: 100
subscriptionsPerTopic: 2
producersPerTopic: 3
consumerPerSubscription: 2
producerRate: 50000
producerStartRate: 1000
producerIncrementRate: 500
consumerBacklogSizeGB: 0
testDurationMinutes: 5
warmupDurationMinutes: 0.5
keyDistributor: RANDOM_NANO
)";

// The 1-based line of `key` in kValid.
int line_of(const std::string& key) {
  const auto at = kValid.find("\n" + key + ":");
  EXPECT_NE(at, std::string::npos) << key;
  return 2 + static_cast<int>(std::count(kValid.begin(), kValid.begin() + at, '\n'));
}

// `text` with the line of `key` replaced by `line` (which may be empty, or several lines).
std::string with(const std::string& key, const std::string& line, std::string text = kValid) {
  const auto at = text.find("\n" + key + ":") + 1;
  return text.replace(at, text.find('\n', at) - at, line);
}

std::string error_of(const std::string& text) {
  const auto r = parse_omb_workload(text, "w.yaml");
  EXPECT_FALSE(r.ok()) << "expected an error for:\n" << text;
  return r.ok() ? "" : r.error();
}

// The error of kValid with `key`'s line replaced: it must be on that line and name `key`.
void expect_error_at(const std::string& key, const std::string& line,
                     const std::string& words = "") {
  const std::string e = error_of(with(key, line));
  const auto at = e.find("w.yaml:" + std::to_string(line_of(key)) + ": ");
  ASSERT_NE(at, std::string::npos) << line << "\n" << e;
  const std::string message = e.substr(at, e.find('\n', at) - at);
  EXPECT_NE(message.find(key), std::string::npos) << line << "\n" << e;
  EXPECT_NE(message.find(words), std::string::npos) << line << "\n" << e;
}

OmbWorkload parsed(const std::string& text) {
  const auto r = parse_omb_workload(text, "w.yaml");
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? r.value() : OmbWorkload{};
}

TEST(OmbWorkload, ValidWorkloadLoadsEveryField) {
  const OmbWorkload w = parsed(kValid);
  EXPECT_EQ(w.file, "w.yaml");
  EXPECT_EQ(w.name, "test workload");
  EXPECT_EQ(w.topics, 2u);
  EXPECT_EQ(w.partitions_per_topic, 4u);
  EXPECT_EQ(w.message_size, 512u);
  EXPECT_EQ(w.payload_file, "payload/payload-512b.data");
  EXPECT_FALSE(w.use_randomized_payloads);
  EXPECT_DOUBLE_EQ(w.random_bytes_ratio, 0.25);
  EXPECT_EQ(w.randomized_payload_pool_size, 100u);
  EXPECT_EQ(w.subscriptions_per_topic, 2u);
  EXPECT_EQ(w.producers_per_topic, 3u);
  EXPECT_EQ(w.consumer_per_subscription, 2u);
  EXPECT_DOUBLE_EQ(w.producer_rate, 50000);
  EXPECT_DOUBLE_EQ(w.producer_start_rate, 1000);
  EXPECT_DOUBLE_EQ(w.producer_increment_rate, 500);
  EXPECT_DOUBLE_EQ(w.consumer_backlog_size_gb, 0);
  EXPECT_DOUBLE_EQ(w.test_duration_minutes, 5);
  EXPECT_DOUBLE_EQ(w.warmup_duration_minutes, 0.5);
  EXPECT_EQ(w.key_distributor, OmbKeyDistributor::random_nano);
}

TEST(OmbWorkload, ShippedWorkloadsAllLoad) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(omb_dir())) {
    if (entry.path().extension() != ".yaml") continue;
    const auto r = load_omb_workload(entry.path().string());
    EXPECT_TRUE(r.ok()) << entry.path() << ": " << r.error();
    ++count;
  }
  EXPECT_GE(count, 4);
}

TEST(OmbWorkload, ShippedStandardAndMaxRateWorkloads) {
  const auto standard = load_omb_workload(omb_dir() + "/1-topic-16-partitions-1kb.yaml");
  ASSERT_TRUE(standard.ok()) << standard.error();
  EXPECT_EQ(standard.value().partitions_per_topic, 16u);
  EXPECT_EQ(standard.value().message_size, 1024u);
  EXPECT_DOUBLE_EQ(standard.value().producer_rate, 50000);
  EXPECT_EQ(standard.value().payload_file, "payload/payload-1Kb.data");
  const auto max = load_omb_workload(omb_dir() + "/max-rate-1-topic-16-partitions-1kb.yaml");
  ASSERT_TRUE(max.ok()) << max.error();
  EXPECT_DOUBLE_EQ(max.value().producer_rate, 0);
  EXPECT_TRUE(max.value().use_randomized_payloads);
  const auto keyed = load_omb_workload(omb_dir() + "/1-topic-3-partitions-100b.yaml");
  ASSERT_TRUE(keyed.ok()) << keyed.error();
  EXPECT_EQ(keyed.value().key_distributor, OmbKeyDistributor::key_round_robin);
  EXPECT_EQ(keyed.value().producers_per_topic, 3u);
}

TEST(OmbWorkload, OptionalKeysTakeOmbDefaults) {
  const OmbWorkload w = parsed(
      "name: n\ntopics: 1\npartitionsPerTopic: 1\nmessageSize: 10\npayloadFile: p\n"
      "subscriptionsPerTopic: 1\nconsumerPerSubscription: 1\nproducersPerTopic: 1\n"
      "testDurationMinutes: 1\n");
  EXPECT_DOUBLE_EQ(w.producer_rate, 0);
  EXPECT_DOUBLE_EQ(w.warmup_duration_minutes, 1);
  EXPECT_EQ(w.key_distributor, OmbKeyDistributor::no_key);
  EXPECT_FALSE(w.use_randomized_payloads);
}

TEST(OmbWorkload, NumbersInEveryForm) {
  const std::string fixed = with("producerIncrementRate", "");  // No ramp to stay above.
  const auto rate = [&](const std::string& line) {
    return parsed(with("producerRate", line, fixed)).producer_rate;
  };
  EXPECT_DOUBLE_EQ(rate("producerRate: 50000"), 50000);
  EXPECT_DOUBLE_EQ(rate("producerRate: 1.5e5"), 150000);
  EXPECT_DOUBLE_EQ(rate("producerRate: 2.5"), 2.5);
  EXPECT_DOUBLE_EQ(rate("producerRate: 0"), 0);
  EXPECT_EQ(parsed(with("topics", "topics: 4294967295")).topics, 4294967295u);
  // Jackson coerces a quoted number, so OMB accepts one.
  EXPECT_EQ(parsed(with("messageSize", "messageSize: \"100\"")).message_size, 100u);
  expect_error_at("topics", "topics: 1.5", "whole number");
  expect_error_at("topics", "topics: 1e3", "whole number");
  expect_error_at("topics", "topics: 4294967296", "too large");
  expect_error_at("topics", "topics: ten", "whole number");
  expect_error_at("producerRate", "producerRate: 5O000", "expected a number");
  expect_error_at("producerRate", "producerRate: inf", "expected a number");
  expect_error_at("producerRate", "producerRate: 50_000", "expected a number");
}

TEST(OmbWorkload, CommentsQuotesAndLineEndings) {
  EXPECT_EQ(parsed(with("name", "name: a#b  # the comment")).name, "a#b");
  EXPECT_EQ(parsed(with("name", "name: 'x # y'  # comment")).name, "x # y");
  EXPECT_EQ(parsed(with("name", "name: \"1 producer / 1 consumer\"")).name,
            "1 producer / 1 consumer");
  EXPECT_EQ(parsed(with("topics", "  # an indented comment\ntopics: 3")).topics, 3u);
  std::string crlf;
  for (const char c : kValid) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  EXPECT_EQ(parsed(crlf).name, "test workload");
}

TEST(OmbWorkload, UnknownKeyListsTheKnownOnes) {
  const std::string e = error_of(with("topics", "topicCount: 2"));
  EXPECT_NE(e.find("w.yaml:3: unknown key \"topicCount\""), std::string::npos) << e;
  EXPECT_NE(e.find("known keys: name, topics, partitionsPerTopic"), std::string::npos) << e;
  EXPECT_NE(e.find("keyDistributor"), std::string::npos) << e;
  // Real OMB settings with no place here are named as such, not as typos.
  const std::string d = error_of(kValid + "backlogDrainRatio: 0.9\n");
  EXPECT_NE(d.find("w.yaml:20: backlogDrainRatio: an OMB setting"), std::string::npos) << d;
}

TEST(OmbWorkload, DuplicateKey) {
  const std::string e = error_of(with("producerRate", "producerRate: 1\nproducerRate: 2"));
  EXPECT_NE(e.find("w.yaml:14: producerRate: duplicate key (first set on line 13)"),
            std::string::npos)
      << e;
}

TEST(OmbWorkload, LinesThatAreNotKeyValue) {
  expect_error_at("topics", "topics:\n  count: 2", "no value");
  EXPECT_NE(error_of(with("topics", "topics:\n  count: 2")).find("w.yaml:4: indented line"),
            std::string::npos);
  expect_error_at("topics", "topics: [1, 2]", "lists");
  expect_error_at("topics", "topics: - 1", "lists");
  expect_error_at("topics", "topics:\t2", "tab");
  expect_error_at("topics", "topics:2", "key: value");
  expect_error_at("topics", "topics: ~", "null");
  expect_error_at("name", "name: a: b", "quote");
  expect_error_at("name", "name: \"open", "unterminated");
  expect_error_at("name", "name: \"a\\\"b\"", "escapes");
  expect_error_at("name", "name: 'it''s'", "after the closing quote");
  const std::string list = error_of(with("topics", "- topics: 2"));
  EXPECT_NE(list.find("w.yaml:3: expected \"key: value\""), std::string::npos) << list;
}

TEST(OmbWorkload, NegativeAndZeroValues) {
  expect_error_at("partitionsPerTopic", "partitionsPerTopic: -3", "negative");
  expect_error_at("producerRate", "producerRate: -1", "negative");
  expect_error_at("warmupDurationMinutes", "warmupDurationMinutes: -0.5", "negative");
  expect_error_at("topics", "topics: 0", "must be > 0");
  expect_error_at("partitionsPerTopic", "partitionsPerTopic: 0", "must be > 0");
  expect_error_at("messageSize", "messageSize: 0", "must be > 0");
  expect_error_at("producersPerTopic", "producersPerTopic: 0", "must be > 0");
  expect_error_at("testDurationMinutes", "testDurationMinutes: 0", "forever");
  expect_error_at("consumerPerSubscription", "consumerPerSubscription: 0", "must be > 0");
  EXPECT_DOUBLE_EQ(
      parsed(with("warmupDurationMinutes", "warmupDurationMinutes: 0")).warmup_duration_minutes, 0);
}

TEST(OmbWorkload, ProduceOnlyNeedsNoConsumers) {
  // OMB: subscriptionsPerTopic 0 creates no consumers and waits for none.
  std::string text = with("subscriptionsPerTopic", "subscriptionsPerTopic: 0");
  EXPECT_EQ(parsed(text).subscriptions_per_topic, 0u);
  text.replace(text.find("consumerPerSubscription: 2"), 26, "consumerPerSubscription: 0");
  EXPECT_EQ(parsed(text).consumer_per_subscription, 0u);
  text.replace(text.find("consumerPerSubscription: 0"), 26, "");
  EXPECT_EQ(parsed(text).subscriptions_per_topic, 0u);
  // With subscriptions, each needs a consumer.
  const std::string e = error_of(with("consumerPerSubscription", ""));
  EXPECT_NE(e.find("w.yaml:1: missing 'consumerPerSubscription'"), std::string::npos) << e;
}

TEST(OmbWorkload, RequiredKeys) {
  for (const char* key : {"name", "topics", "partitionsPerTopic", "messageSize",
                          "subscriptionsPerTopic", "producersPerTopic", "testDurationMinutes"}) {
    const std::string e = error_of(with(key, ""));
    EXPECT_NE(e.find("w.yaml:1: missing '" + std::string(key) + "'"), std::string::npos) << e;
  }
}

TEST(OmbWorkload, PayloadRules) {
  const std::string e = error_of(with("payloadFile", ""));
  EXPECT_NE(e.find("w.yaml:7: no payload: set payloadFile, or useRandomizedPayloads: true"),
            std::string::npos)
      << e;
  expect_error_at("payloadFile", "payloadFile: \"\"", "no payload");
  // Both: the randomized payloads win, as in OMB.
  const OmbWorkload both = parsed(with("useRandomizedPayloads", "useRandomizedPayloads: true"));
  EXPECT_TRUE(both.use_randomized_payloads);
  EXPECT_EQ(both.payload_file, "payload/payload-512b.data");
  std::string random = with("useRandomizedPayloads", "useRandomizedPayloads: true");
  random.replace(random.find("randomizedPayloadPoolSize: 100"), 30, "randomizedPayloadPoolSize: 0");
  const std::string pool = error_of(random);
  EXPECT_NE(pool.find("w.yaml:9: randomizedPayloadPoolSize: must be > 0"), std::string::npos)
      << pool;
  expect_error_at("randomBytesRatio", "randomBytesRatio: 1.5", "<= 1");
  expect_error_at("useRandomizedPayloads", "useRandomizedPayloads: yes", "true or false");
}

TEST(OmbWorkload, RateAndKeyRules) {
  expect_error_at("keyDistributor", "keyDistributor: ROUND_ROBIN", "KEY_ROUND_ROBIN");
  EXPECT_EQ(parsed(with("keyDistributor", "keyDistributor: \"NO_KEY\"")).key_distributor,
            OmbKeyDistributor::no_key);
  std::string backlog = with("consumerBacklogSizeGB", "consumerBacklogSizeGB: 1");
  EXPECT_DOUBLE_EQ(parsed(backlog).consumer_backlog_size_gb, 1);
  backlog.replace(backlog.find("producerRate: 50000"), 19, "producerRate: 0");
  const std::string e = error_of(backlog);
  EXPECT_NE(e.find("w.yaml:16: consumerBacklogSizeGB: needs a producerRate > 0"), std::string::npos)
      << e;
  // The ramp climbs from producerStartRate to producerRate.
  const std::string ramp = error_of(with("producerStartRate", "producerStartRate: 60000"));
  EXPECT_NE(ramp.find("w.yaml:15: producerIncrementRate: ramps"), std::string::npos) << ramp;
}

TEST(OmbWorkload, ReportsEveryProblem) {
  std::string text = with("topics", "topics: 0");
  text = text.replace(text.find("messageSize: 512"), 16, "messageSize: big");
  text += "bogus: 1\n";
  const std::string e = error_of(text);
  EXPECT_NE(e.find("w.yaml:3: topics: must be > 0"), std::string::npos) << e;
  EXPECT_NE(e.find("w.yaml:5: messageSize: expected a whole number"), std::string::npos) << e;
  EXPECT_NE(e.find("w.yaml:20: unknown key \"bogus\""), std::string::npos) << e;
  EXPECT_EQ(std::count(e.begin(), e.end(), '\n'), 2) << e;
}

TEST(OmbWorkload, UnreadableFile) {
  const auto missing = load_omb_workload("/nonexistent/w.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error(), "/nonexistent/w.yaml: cannot read: No such file or directory");
  const auto dir = load_omb_workload(omb_dir());
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.error().find(omb_dir() + ": cannot read: "), 0u) << dir.error();
}

TEST(OmbWorkload, KeyDistributorNames) {
  EXPECT_STREQ(to_string(OmbKeyDistributor::no_key), "NO_KEY");
  EXPECT_STREQ(to_string(OmbKeyDistributor::key_round_robin), "KEY_ROUND_ROBIN");
  EXPECT_STREQ(to_string(OmbKeyDistributor::random_nano), "RANDOM_NANO");
}

}  // namespace
}  // namespace streamlab::workloads
