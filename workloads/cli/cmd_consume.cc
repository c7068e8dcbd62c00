// `streamlab consume`: a consumer process of a local real-mode cluster (DESIGN.md
// section 7), the queue workload's consumer (workloads/queue_client.h) on the real
// runtime, its history streamed to a file for `streamlab cluster check`.

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>

#include "workloads/cli/client_command.h"

namespace streamlab::cli {

namespace {

constexpr std::int64_t kDefaultIdleNs = 10'000'000'000;
constexpr std::int64_t kDefaultTimeoutNs = 300'000'000'000;

constexpr const char* kConsumeUsage = R"(usage: streamlab consume DIR --topic T --subscription S [--type TYPE] [--count N]
                         [--idle D] [--history FILE] [--as SLOT] [--timeout D]

Joins the local cluster in DIR (started by `streamlab cluster up`) in one of its client
slots, subscribes to topic T as subscription S through the client library, with the
scenario's client settings, and takes messages one at a time from the earliest,
acknowledging each. It stops once N distinct messages came (redeliveries count once),
after D without a delivery, at the timeout or on SIGINT / SIGTERM, and prints the
counts. Every delivery and ack is recorded in the history file (JSON lines, times in
CLOCK_MONOTONIC ns); end-to-end latency needs the producers' histories too:
`streamlab cluster check DIR PRODUCE.jsonl CONSUME.jsonl`.

  --topic T             a topic of the cluster's scenario (required)
  --subscription S      the subscription's name (required); the checker takes its type
                        from the scenario, and a subscription the scenario does not name
                        as shared (no order to check)
  --type TYPE           exclusive, failover, shared or key_shared (default exclusive)
  --count N             stop once N distinct messages came
  --idle D              stop after D without a delivery, counted from the last one, or
                        from the start while none came (default 10s)
  --history FILE        where the history goes (default DIR/<slot>-consume.jsonl;
                        emptied first)
  --as SLOT             the client slot to take, e.g. client-2 (default: the first free)
  --timeout D           stop after D in any case (default 300s)

exit codes: 0 --count was reached (without --count: it stopped on --idle), 1 it stopped
            before that (idle, timeout, signal), 2 bad input or usage
)";

const std::map<std::string, pulsar::SubscriptionType>& subscription_types() {
  static const std::map<std::string, pulsar::SubscriptionType> types = {
      {"exclusive", pulsar::EXCLUSIVE},
      {"failover", pulsar::FAILOVER},
      {"shared", pulsar::SHARED},
      {"key_shared", pulsar::KEY_SHARED}};
  return types;
}

struct ConsumeFlags {
  std::string subscription;
  std::string type_name = "exclusive";
  pulsar::SubscriptionType type = pulsar::EXCLUSIVE;
  std::uint64_t count = 0;  // 0: no count.
  std::int64_t idle_ns = kDefaultIdleNs;
};

// The consume-only flags; false after printing a usage error.
bool parse_consume_flags(const Args& args, ConsumeFlags* out) {
  const auto bad = [](const std::string& message) {
    usage_error("consume", message, kConsumeUsage);
    return false;
  };
  if (!args.flags.contains("--subscription") || args.flags.at("--subscription").empty()) {
    return bad("missing --subscription");
  }
  out->subscription = args.flags.at("--subscription");
  if (args.flags.contains("--type")) {
    out->type_name = args.flags.at("--type");
    const auto it = subscription_types().find(out->type_name);
    if (it == subscription_types().end()) {
      return bad("--type must be exclusive, failover, shared or key_shared, got \"" +
                 out->type_name + "\"");
    }
    out->type = it->second;
  }
  if (args.flags.contains("--count") &&
      (!parse_u64(args.flags.at("--count"), &out->count) || out->count == 0)) {
    return bad("--count must be a number >= 1, got \"" + args.flags.at("--count") + "\"");
  }
  return duration_flag("consume", args, "--idle", kDefaultIdleNs, kConsumeUsage, &out->idle_ns);
}

workloads::QueueClientConfig consumer_config(const ClientCommand& c, const ConsumeFlags& flags) {
  workloads::QueueConsumerConfig q;
  q.consumer.topic = c.topic;
  q.consumer.subscription = flags.subscription;
  q.consumer.type = flags.type;
  q.consumer.name = c.slot.name + "-consumer";
  workloads::QueueClientConfig config;
  config.client = c.scenario.pulsar.client;
  config.consumers.push_back(std::move(q));
  return config;
}

bool reached(const cluster::ClientTally& tally, std::uint64_t count) {
  return count > 0 && tally.distinct_delivered() >= count;
}

// Idle: nothing delivered for idle_ns, since the last delivery or since the start.
bool idle(const cluster::ClientProgress& p, std::int64_t idle_ns) {
  return p.now_ns - std::max(p.started_ns, p.tally.last_delivery_ns()) >= idle_ns;
}

void print_consume_summary(const cluster::ClientOutcome& o, const ConsumeFlags& flags,
                           const std::string& history, std::int64_t timeout_ns) {
  const cluster::ClientTally& t = o.tally;
  std::printf("deliveries %llu (%llu distinct messages, %llu repeated), %llu acks\n",
              static_cast<unsigned long long>(t.deliveries()),
              static_cast<unsigned long long>(t.distinct_delivered()),
              static_cast<unsigned long long>(t.repeated_deliveries()),
              static_cast<unsigned long long>(t.acks()));
  if (t.first_delivery_ns() >= 0) {
    const double span = seconds(t.last_delivery_ns() - t.first_delivery_ns());
    std::printf("timing     first delivery %.3f s after the start, then %.3f s to the last",
                seconds(t.first_delivery_ns() - o.started_ns), span);
    if (span > 0) std::printf(" (%.0f msg/s)", static_cast<double>(t.deliveries()) / span);
    std::printf("\n");
  }
  std::string why = stop_words(o, timeout_ns);
  if (o.stop == cluster::ClientStop::done) {
    why = reached(t, flags.count) ? "--count reached" : "idle (--idle)";
  }
  std::printf("stopped    %s after %.3f s\n", why.c_str(), seconds(o.stopped_ns - o.started_ns));
  std::printf("history    %s\n", history.c_str());
}

}  // namespace

int cmd_consume(int argc, char** argv) {
  std::vector<std::string> with_value = kClientFlags;
  with_value.insert(with_value.end(), {"--subscription", "--type", "--count", "--idle"});
  std::string error;
  const auto args = parse_args(argc, argv, with_value, {}, &error);
  if (!args) return usage_error("consume", error, kConsumeUsage);
  if (args->help) {
    std::fputs(kConsumeUsage, stdout);
    return kExitOk;
  }
  ConsumeFlags flags;
  if (!parse_consume_flags(*args, &flags)) return kExitBadInput;
  std::optional<ClientCommand> c =
      prepare_client_command("consume", *args, kConsumeUsage, kDefaultTimeoutNs);
  if (!c) return kExitBadInput;
  std::printf("consume    \"%s\" as subscription \"%s\" (%s) as %s\n", c->topic.c_str(),
              flags.subscription.c_str(), flags.type_name.c_str(), c->slot.name.c_str());
  std::fflush(stdout);
  const std::string history = c->history.path();
  cluster::ClientRunOptions options;
  options.timeout_ns = c->timeout_ns;
  options.label = "streamlab consume";
  options.done = [count = flags.count, idle_ns = flags.idle_ns](const cluster::ClientProgress& p) {
    return reached(p.tally, count) || idle(p, idle_ns);
  };
  workloads::QueueClientConfig config = consumer_config(*c, flags);
  const Result<cluster::ClientOutcome> outcome = cluster::run_client_process(
      std::move(c->slot), std::move(config), std::move(c->history), options);
  if (!outcome) {
    std::fprintf(stderr, "streamlab consume: %s\n", outcome.error().c_str());
    return kExitExpectationFailed;
  }
  print_consume_summary(outcome.value(), flags, history, options.timeout_ns);
  const cluster::ClientOutcome& o = outcome.value();
  const bool ok = flags.count > 0 ? reached(o.tally, flags.count)
                                  : o.stop == cluster::ClientStop::done;
  return ok ? kExitOk : kExitExpectationFailed;
}

}  // namespace streamlab::cli
