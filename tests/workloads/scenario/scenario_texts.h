#pragma once

// Valid scenarios for the scenario loader's tests (scenario_loader_*_test.cc), one per
// system, which the tests break one line at a time: the errors name file and line, so the
// line numbers in the comments below are the ones the tests expect. Also the helpers that
// break a scenario and read the loader's error back.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "workloads/scenario/scenario_loader.h"

namespace streamlab::workloads::test {

// A valid counter-system scenario, with every kind of field.
inline const std::string kValid = R"pb(name: "t"
duration: "10s"
topology {
  zone { name: "a" nodes: ["server", "client"] }
  zone { name: "b" node { name: "other" clock_offset: "-5ms" clock_drift_ppm: 100 } }
  latency { within_zone: "100us" across_zones: "1ms" jitter: "uniform(0us,50us)" }
  hardware { name: "default" cores: 2 nic: "1Gbit" disk { fsync: "1ms" } }
}
system { counter { server: "server" fsync: false } }
workload { counter_client { node: "client" rate: "100/s" timeout: "200ms" } }
fault { at: "2s" for: "1s" crash { nodes: ["server"] torn: true } }
fault { at: "1s" for: "500ms" pause { nodes: ["other"] } }
expect { anomaly: "lost-write" present: true }
)pb";
// Lines: 2 duration, 6 latency, 7 hardware, 10 workload, 11-12 faults, 13 expect; a line a
// test appends is 14.

// A valid storage-system scenario; the line numbers in the comments are the ones the
// errors name.
inline const std::string kBookKeeper = R"pb(name: "bk"
duration: "10s"
topology {
  zone { name: "a" nodes: ["meta", "b1", "w1"] }
  zone { name: "b" nodes: ["b2", "w2"] }
  zone { name: "c" nodes: ["b3", "b4"] }
}
system {
  bookkeeper {
    metadata: "meta"
    bookies: ["b1", "b2", "b3"]
  }
}
workload { ledger_writer { node: "w1" rate: "100/s" } }
expect { anomaly: "split-brain" present: false }
)pb";
// Lines: 10 metadata, 11 bookies, 14 workload, 15 expect.

// A valid broker-system scenario; the line numbers in the comments are the ones the
// errors name.
inline const std::string kPulsar = R"pb(name: "q"
duration: "10s"
topology {
  zone { name: "a" nodes: ["meta", "bk1", "br1", "c1"] }
  zone { name: "b" nodes: ["bk2", "br2", "c2", "bk3"] }
}
system {
  pulsar {
    storage { metadata: "meta" bookies: ["bk1", "bk2"] }
    brokers: ["br1", "br2"]
    topic { name: "orders" partitions: 2 }
    topic { name: "events" }
  }
}
workload {
  producer { node: "c1" topic: "orders" rate: "100/s" }
  consumer { node: "c2" topic: "orders" type: SHARED }
}
expect { anomaly: "duplicate-delivery" present: false }
)pb";
// Lines: 9 storage, 10 brokers, 11-12 topics, 16 producer, 17 consumer, 19 expect.

// The loader's error for `text`, which must not load ("" when it does, and the test fails).
inline std::string error_of(const std::string& text) {
  const auto r = parse_scenario(text, "s.textproto");
  EXPECT_FALSE(r.ok()) << "expected an error for:\n" << text;
  return r.ok() ? "" : r.error();
}

// `text` with the first `from` in it replaced by `to` (the test fails if there is none).
inline std::string replace(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

// A scenario broken one way, and a part of what the loader must say about it (file:line:
// field: why).
struct BrokenScenario {
  std::string text;
  std::string says;
};

// Expects each scenario to be refused with an error that says its part.
inline void expect_errors(const std::vector<BrokenScenario>& cases) {
  for (const BrokenScenario& c : cases) {
    const std::string e = error_of(c.text);
    EXPECT_NE(e.find(c.says), std::string::npos) << "wanted \"" << c.says << "\" in: " << e;
  }
}

}  // namespace streamlab::workloads::test
