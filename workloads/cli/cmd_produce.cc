// `streamlab produce`: a producer process of a local real-mode cluster (DESIGN.md
// section 7), the queue workload's producer (workloads/queue_client.h) on the real
// runtime, its history streamed to a file for `streamlab cluster check`.

#include <cstdio>
#include <string>

#include "workloads/cli/client_command.h"
#include "workloads/scenario/units.h"

namespace streamlab::cli {

namespace {

constexpr std::uint64_t kDefaultCount = 1000;
constexpr double kDefaultRatePerS = 1000;
constexpr double kMaxRatePerS = 1e6;  // One tick per microsecond: beyond it the timer spins.
constexpr std::int64_t kDefaultSizeBytes = 1000;
// Inside the wire's 5 MiB frame bound (broker/pulsar/wire.h), with room for the key and
// the batch around the message.
constexpr std::int64_t kMaxSizeBytes = 1 << 20;
constexpr std::int64_t kDefaultBatchingDelayNs = 1'000'000;
constexpr std::int64_t kDefaultTimeoutNs = 120'000'000'000;

constexpr const char* kProduceUsage = R"(usage: streamlab produce DIR --topic T [--count N] [--rate R] [--size BYTES]
                         [--producer NAME] [--batching-delay D] [--history FILE]
                         [--as SLOT] [--timeout D]

Joins the local cluster in DIR (started by `streamlab cluster up`) in one of its client
slots and sends N messages to topic T at a constant rate through the client library,
with the scenario's client settings. While the producer's pending queue is full it
waits, as Pulsar's blockIfQueueFull does, so no send fails for want of room. It then
waits until every send completed (acknowledged, failed, or timed out after 30 s) and
prints the counts, the throughput and the publish latency. Every send is recorded in
the history file (JSON lines, times in CLOCK_MONOTONIC ns) for `streamlab cluster check`.

  --topic T             a topic of the cluster's scenario (required)
  --count N             messages to send (default 1000)
  --rate R              messages per second, e.g. 2000/s (default 1000/s, at most
                        1000000/s)
  --size BYTES          each message's size, e.g. 1KB or 512 (default 1KB; at least 8:
                        the payload starts with the message's number; at most 1MiB)
  --producer NAME       the producer's name (default <slot>-producer): deduplication
                        and the checker know messages by (producer, number), so give
                        each run against one cluster its own
  --batching-delay D    how long a batch waits for more messages (default 1ms; 0: no
                        batching)
  --history FILE        where the history goes (default DIR/<slot>-produce.jsonl;
                        emptied first)
  --as SLOT             the client slot to take, e.g. client-2 (default: the first free)
  --timeout D           stop after D even if sends are still pending (default 120s)

exit codes: 0 every send was acknowledged, 1 some send failed or is unknown, or the
            timeout or a signal came first, 2 bad input or usage
)";

struct ProduceFlags {
  std::uint64_t count = kDefaultCount;
  double rate_per_s = kDefaultRatePerS;
  std::int64_t size_bytes = kDefaultSizeBytes;
  std::int64_t batching_delay_ns = kDefaultBatchingDelayNs;
};

// The produce-only flags; false after printing a usage error.
bool parse_produce_flags(const Args& args, ProduceFlags* out) {
  const auto bad = [](const std::string& message) {
    usage_error("produce", message, kProduceUsage);
    return false;
  };
  if (args.flags.contains("--count") &&
      (!parse_u64(args.flags.at("--count"), &out->count) || out->count == 0)) {
    return bad("--count must be a number >= 1, got \"" + args.flags.at("--count") + "\"");
  }
  if (args.flags.contains("--rate")) {
    const Result<double> rate = workloads::parse_rate_per_s(args.flags.at("--rate"));
    if (!rate) return bad("--rate: " + rate.error());
    if (rate.value() > kMaxRatePerS) return bad("--rate must be at most 1000000/s");
    out->rate_per_s = rate.value();
  }
  if (args.flags.contains("--size")) {
    const Result<std::int64_t> size = workloads::parse_bytes(args.flags.at("--size"));
    if (!size) return bad("--size: " + size.error());
    if (size.value() < static_cast<std::int64_t>(workloads::kQueuePayloadHeader) ||
        size.value() > kMaxSizeBytes) {
      return bad("--size must be in [8, 1MiB] (8 bytes hold the message's number), got \"" +
                 args.flags.at("--size") + "\"");
    }
    out->size_bytes = size.value();
  }
  if (args.flags.contains("--batching-delay")) {
    const Result<std::int64_t> delay = workloads::parse_duration_ns(args.flags.at("--batching-delay"));
    if (!delay) return bad("--batching-delay: " + delay.error());
    out->batching_delay_ns = delay.value();
  }
  return true;
}

workloads::QueueClientConfig producer_config(const ClientCommand& c, const ProduceFlags& flags,
                                             const std::string& name) {
  workloads::QueueProducerConfig p;
  p.topic = c.topic;
  p.rate_per_s = flags.rate_per_s;
  p.size_min = p.size_max = static_cast<std::size_t>(flags.size_bytes);
  p.max_messages = flags.count;
  p.block_if_queue_full = true;
  p.catch_up_late_ticks = true;
  p.producer.name = name;
  p.producer.batching_max_publish_delay_ns = flags.batching_delay_ns;
  workloads::QueueClientConfig config;
  config.client = c.scenario.pulsar.client;
  config.producers.push_back(std::move(p));
  return config;
}

void print_produce_summary(const cluster::ClientOutcome& o, const ProduceFlags& flags,
                           const std::string& history, std::int64_t timeout_ns) {
  const cluster::ClientTally& t = o.tally;
  std::printf("sends      %llu ok, %llu failed, %llu unknown, of %llu sent (%llu asked for)\n",
              static_cast<unsigned long long>(t.sends_ok()),
              static_cast<unsigned long long>(t.sends_failed()),
              static_cast<unsigned long long>(t.sends_unknown()),
              static_cast<unsigned long long>(t.sends_invoked()),
              static_cast<unsigned long long>(flags.count));
  if (t.first_send_ns() >= 0 && t.last_send_completion_ns() > t.first_send_ns()) {
    const double s = seconds(t.last_send_completion_ns() - t.first_send_ns());
    const double ok = static_cast<double>(t.sends_ok());
    std::printf("throughput %.0f msg/s, %.2f MB/s over %.3f s (first send to last completion)\n",
                ok / s, ok * static_cast<double>(flags.size_bytes) / s / 1e6, s);
  }
  const workloads::LatencyHistogram& l = t.publish_latency();
  std::printf("publish    p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
              static_cast<double>(l.quantile(0.50)) / 1e6,
              static_cast<double>(l.quantile(0.99)) / 1e6, static_cast<double>(l.max()) / 1e6);
  std::printf("stopped    %s after %.3f s\n", stop_words(o, timeout_ns).c_str(),
              seconds(o.stopped_ns - o.started_ns));
  std::printf("history    %s\n", history.c_str());
}

}  // namespace

int cmd_produce(int argc, char** argv) {
  std::vector<std::string> with_value = kClientFlags;
  with_value.insert(with_value.end(),
                    {"--count", "--rate", "--size", "--producer", "--batching-delay"});
  std::string error;
  const auto args = parse_args(argc, argv, with_value, {}, &error);
  if (!args) return usage_error("produce", error, kProduceUsage);
  if (args->help) {
    std::fputs(kProduceUsage, stdout);
    return kExitOk;
  }
  ProduceFlags flags;
  if (!parse_produce_flags(*args, &flags)) return kExitBadInput;
  std::optional<ClientCommand> c =
      prepare_client_command("produce", *args, kProduceUsage, kDefaultTimeoutNs);
  if (!c) return kExitBadInput;
  const auto named = args->flags.find("--producer");
  const std::string name =
      named != args->flags.end() && !named->second.empty() ? named->second
                                                           : c->slot.name + "-producer";
  std::printf("produce    %llu messages of %lld B to \"%s\" at %.0f/s as %s, producer %s\n",
              static_cast<unsigned long long>(flags.count), static_cast<long long>(flags.size_bytes),
              c->topic.c_str(), flags.rate_per_s, c->slot.name.c_str(), name.c_str());
  std::fflush(stdout);
  const std::string history = c->history.path();
  const std::uint64_t count = flags.count;
  cluster::ClientRunOptions options;
  options.timeout_ns = c->timeout_ns;
  options.label = "streamlab produce";
  options.done = [count](const cluster::ClientProgress& p) {
    return p.tally.sends_invoked() == count && p.tally.sends_completed() == count;
  };
  workloads::QueueClientConfig config = producer_config(*c, flags, name);
  const Result<cluster::ClientOutcome> outcome = cluster::run_client_process(
      std::move(c->slot), std::move(config), std::move(c->history), options);
  if (!outcome) {
    std::fprintf(stderr, "streamlab produce: %s\n", outcome.error().c_str());
    return kExitExpectationFailed;
  }
  print_produce_summary(outcome.value(), flags, history, options.timeout_ns);
  return outcome.value().tally.sends_ok() == count ? kExitOk : kExitExpectationFailed;
}

}  // namespace streamlab::cli
