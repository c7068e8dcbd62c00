#include "workloads/systems/chart_specs.h"

namespace streamlab::workloads {

namespace {

std::vector<ChartLineSpec> percentiles(const std::string& series) {
  return {{series + "_p50", "p50"}, {series + "_p99", "p99"}, {series + "_p999", "p99.9"}};
}

}  // namespace

// The queue checker's series (workloads/queue_metrics.cc).
std::vector<ChartSpec> queue_charts() {
  return {
      {"chart-throughput", "Throughput", "messages/s", false,
       {{"publish_rate", "published (send acknowledged)"}, {"consume_rate", "delivered"}},
       "Sends acknowledged and deliveries per second of simulated time, over each bucket."},
      {"chart-publish-latency", "Publish latency", "ms (log scale)", true,
       percentiles("publish"),
       "Percentiles, per bucket, of the time from a message's send to its first "
       "acknowledgement, placed at the acknowledgement. A gap: no send was acknowledged then."},
      {"chart-end-to-end-latency", "End-to-end latency", "ms (log scale)", true,
       percentiles("end_to_end"),
       "Percentiles, per bucket, of the time from a message's first send to its first "
       "delivery to any subscription, placed at the delivery. A gap: nothing was delivered."},
      {"chart-backlog", "Backlog", "messages", false,
       {{"backlog_peak", "peak within the bucket"}, {"backlog", "at the bucket's end"}},
       "Messages acknowledged to their producer and not yet acknowledged by a subscription: "
       "per subscription of its topic, each counts from its send's acknowledgement until the "
       "subscription first acknowledges it."},
      {"chart-durability", "Durability", "messages (running count)", false,
       {{"acked_not_in_log_total", "acknowledged, not in the log"},
        {"duplicate_total", "extra copies in the log"}},
       "Running counts by the time each message was first acknowledged (sent, for a "
       "duplicate never acknowledged): acknowledged messages their partition's log does not "
       "hold, which are lost writes (lost-write also counts an acknowledged position that "
       "holds another message, which this line leaves out), and copies stored beyond the "
       "first (duplicate). Duplicate deliveries and split brain are in the anomaly section "
       "only."},
  };
}

// The ledger and counter checkers' series (workloads/op_report.h report_timeline).
std::vector<ChartSpec> op_charts(const std::string& ops) {
  return {
      {"chart-throughput", "Throughput", ops + "/s", false,
       {{"ok_rate", ops + " acknowledged"}},
       "Operations acknowledged ok per second of simulated time, over each bucket."},
      {"chart-latency", "Latency", "ms (log scale)", true, percentiles("add_latency_ms"),
       "Percentiles, per bucket, of the time from invoke to ok, placed at the ok. A gap: "
       "nothing was acknowledged then."},
      {"chart-durability", "Durability", ops + " (running count)", false,
       {{"lost_write_total", "lost-write"}, {"duplicate_total", "duplicate"}},
       "Running counts of the lost-write and duplicate anomalies, each by the time its " + ops +
           " was acknowledged (invoked, for a duplicate never acknowledged)."},
  };
}

}  // namespace streamlab::workloads
