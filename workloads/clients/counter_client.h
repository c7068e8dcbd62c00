#pragma once

// An open-loop client of the counter service: it sends adds at a set rate (constant or
// Poisson arrivals) between start and stop (and up to a count, if set), with a bound on
// adds in flight, and records
// every add in the history. It never retries: without deduplication a retry could apply
// an add twice, and this client exists to judge the server, not to hide its failures.

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "broker/demo/counter.pb.h"
#include "runtime/runtime.h"
#include "workloads/history/history.h"

namespace streamlab::workloads {

struct CounterClientConfig {
  std::string server;
  double rate_per_s = 100;
  bool poisson = false;
  std::int64_t amount = 1;
  std::int64_t timeout_ns = 1'000'000'000;
  std::uint32_t max_in_flight = 1'000;
  std::int64_t start_ns = 0;
  std::int64_t stop_ns = INT64_MAX;
  std::uint64_t max_adds = 0;  // Stop after sending this many; 0: no limit.
};

class CounterClient final : public Node {
 public:
  CounterClient(Runtime& runtime, CounterClientConfig config, History& history);
  ~CounterClient() override;

  void on_start() override;
  void on_message(NodeId from, std::span<const std::uint8_t> bytes) override;
  void on_connection_broken(NodeId peer) override;

 private:
  struct InFlight {
    TimerId timeout;
  };

  void schedule_next();
  void send_one();
  void timed_out(std::uint64_t request_id);
  std::int64_t gap_ns();

  Runtime& rt_;
  CounterClientConfig config_;
  History& history_;
  NodeId server_;
  // Request ids start from a random base so a restarted client never reuses one.
  std::uint64_t next_request_id_;
  std::uint64_t sent_ = 0;
  std::map<std::uint64_t, InFlight> in_flight_;
  std::int64_t started_at_ns_ = 0;
  demo::CounterMessage message_;
  std::vector<std::uint8_t> send_buffer_;
};

}  // namespace streamlab::workloads
