#pragma once

// Reads an OpenMessaging Benchmark (OMB) workload file, the YAML that OMB's
// `bin/benchmark` takes (github.com/openmessaging/benchmark, workloads/*.yaml), so the
// simulator can run the same experiments the field publishes numbers for.
//
// The files are flat maps of `key: value` lines, so the reader is a strict parser of just
// that subset of YAML: `#` comments, blank lines, and scalar values that are whole numbers,
// decimals (1.5, 1.5e5), `true`/`false`, or strings (bare, 'single' or "double" quoted,
// without escapes). Nested maps, lists, anchors, tags, block scalars, tabs, `null`, unknown
// and repeated keys are errors; so are OMB's backlogDrainRatio and messageSizeDistribution,
// which OmbWorkload has no field for. A quoted number is read as the number, as OMB's
// Jackson does. Every problem found is reported, each as "file:line: message" naming the
// key, joined by '\n'; a missing key is reported at line 1.
//
// Keys use OMB's names (Workload.java). OMB deserializes a missing key as Java's 0, which
// for most keys gives a run that fails or never ends; such keys are required here:
//   name, topics, partitionsPerTopic, messageSize, subscriptionsPerTopic,
//   producersPerTopic, testDurationMinutes, and consumerPerSubscription unless
//   subscriptionsPerTopic is 0 (a produce-only run, legal in OMB).
// So a loaded workload never holds the struct's defaults for them; those serve code that
// builds an OmbWorkload by hand. The optional keys take OMB's own defaults: producerRate 0
// (find the maximum sustainable rate), warmupDurationMinutes 1, keyDistributor NO_KEY, the
// rest 0 or empty.
// A payload is required: payloadFile, or useRandomizedPayloads: true (which wins when both
// are given, as in OMB's WorkloadGenerator; the file is then not read).
//
// Beyond OMB's own checks (consumerBacklogSizeGB needs producerRate > 0), values a run
// cannot use are errors: a zero topics, partitionsPerTopic, messageSize, producersPerTopic
// or testDurationMinutes (OMB would run forever), a zero consumerPerSubscription when there
// are subscriptions, randomBytesRatio above 1, a randomized pool of 0 payloads, and a
// producerIncrementRate without a producerRate >= producerStartRate (> 0) to ramp up to.
//
// Counts (topics, partitions, sizes, pool) must be whole numbers. The keys that OMB declares
// `int`/`long` but that are doubles here (the rates, consumerBacklogSizeGB, the durations)
// accept decimals, which a simulator can use (a 0.5-minute run); OMB would truncate them.

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace streamlab::workloads {

// How producers key messages (OMB's KeyDistributorType). NO_KEY spreads messages over
// partitions round-robin; KEY_ROUND_ROBIN cycles through a fixed key set; RANDOM_NANO
// keys each message with a random value.
enum class OmbKeyDistributor : std::uint8_t { no_key, key_round_robin, random_nano };

struct OmbWorkload {
  std::string file;  // As given to the loader.
  std::string name;
  std::uint32_t topics = 1;
  std::uint32_t partitions_per_topic = 1;
  std::uint64_t message_size = 1024;  // Bytes.
  std::string payload_file;           // As written in the YAML (not read).
  bool use_randomized_payloads = false;
  double random_bytes_ratio = 0;  // OMB's randomBytesRatio: the random share of each payload.
  std::uint32_t randomized_payload_pool_size = 0;
  std::uint32_t subscriptions_per_topic = 1;  // 0: produce only.
  std::uint32_t producers_per_topic = 1;
  std::uint32_t consumer_per_subscription = 1;
  double producer_rate = 0;            // Msg/s over all producers; 0 = find the maximum.
  double producer_start_rate = 0;      // 0 = unset.
  double producer_increment_rate = 0;  // 0 = unset.
  double consumer_backlog_size_gb = 0;
  double test_duration_minutes = 15;
  double warmup_duration_minutes = 1;
  OmbKeyDistributor key_distributor = OmbKeyDistributor::no_key;
};

// Reads and parses `path`; an unreadable file is "path: cannot read: <reason>".
Result<OmbWorkload> load_omb_workload(const std::string& path);
// Parses the text of a workload file; `file_name` prefixes every error.
Result<OmbWorkload> parse_omb_workload(std::string_view text, const std::string& file_name);

// OMB's spelling: "NO_KEY", "KEY_ROUND_ROBIN", "RANDOM_NANO".
const char* to_string(OmbKeyDistributor k);

}  // namespace streamlab::workloads
