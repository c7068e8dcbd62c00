#pragma once

// The ledger client tests' world: a metadata store, bookies and scripted writer nodes
// (each a MetadataClient and a LedgerClient), with what the writers saw kept in logs the
// test owns, and readers of the final metadata and journals.

#include "broker/storage/ledger_client.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "broker/storage/bookie.h"
#include "broker/storage/metadata_client.h"
#include "broker/storage/metadata_state.h"
#include "broker/storage/metadata_store.h"
#include "broker/storage/wire.h"
#include "sim/rng.h"
#include "sim/world.h"
#include "tests/broker/storage/stored_on_disk.h"
#include "tests/sim/test_world.h"

namespace streamlab::storage::ledger_test {

using sim::test_util::kMs;
using sim::test_util::kSec;
using sim::test_util::kUs;

// [SECTION] The writer node and its log

struct AddEvent {
  std::int64_t time_ns;  // Kernel time of the callback.
  AddResult result;
};

struct DoneEvent {
  std::int64_t time_ns;
  LedgerError error;
  std::int64_t value;  // create: the ledger id; open: the last entry id; close: unused.
};

// What one writer node saw, owned by the test.
struct WriterLog {
  std::vector<AddEvent> adds;
  std::map<std::uint64_t, std::int64_t> appended_ns;  // By token.
  std::vector<DoneEvent> creates;
  std::vector<DoneEvent> closes;
  std::vector<DoneEvent> opens;

  std::vector<AddEvent> ok_adds() const {
    std::vector<AddEvent> out;
    for (const AddEvent& a : adds) {
      if (a.result.error == LedgerError::ok) out.push_back(a);
    }
    return out;
  }
  std::int64_t max_acked() const {
    std::int64_t max = -1;
    for (const AddEvent& a : ok_adds()) max = std::max(max, a.result.entry_id);
    return max;
  }
};

inline std::string payload_of(std::uint64_t token) { return "entry-" + std::to_string(token); }

// A writer: a MetadataClient and a LedgerClient inside one node, scripted by the test.
class WriterNode final : public Node {
 public:
  WriterNode(Runtime& rt, const sim::Kernel& kernel, MetadataClientConfig metadata_config,
             LedgerClientConfig ledger_config, WriterLog& log)
      : rt_(rt),
        kernel_(kernel),
        log_(log),
        metadata_(rt, std::move(metadata_config)),
        ledger_(rt, metadata_, std::move(ledger_config), [this](const AddResult& r) {
          log_.adds.push_back({kernel_.now(), r});
        }) {}

  void on_start() override {
    metadata_.start([](SessionEvent) {}, [](const WatchEvent&) {});
  }
  void on_message(NodeId from, std::span<const std::uint8_t> bytes) override {
    StorageMessage message;
    if (!parse_message(bytes, &message)) return;
    if (!metadata_.handle(from, message)) ledger_.handle(from, message);
  }
  void on_connection_broken(NodeId peer) override {
    metadata_.on_connection_broken(peer);
    ledger_.on_connection_broken(peer);
  }

  bool has_session() const { return metadata_.has_session(); }
  LedgerClient& ledger() { return ledger_; }

  void create(const LedgerOptions& options) {
    ledger_.create(options, [this](LedgerError e, std::uint64_t id) {
      log_.creates.push_back({kernel_.now(), e, static_cast<std::int64_t>(id)});
    });
  }
  // Appends `count` entries to `ledger`, the first now and then one every interval_ns.
  void append(std::uint64_t ledger, int count, std::int64_t interval_ns) {
    ledger_id_ = ledger;
    remaining_ = count;
    interval_ns_ = interval_ns;
    append_next();
  }
  void close(std::uint64_t ledger) {
    ledger_.close(ledger, [this](LedgerError e) { log_.closes.push_back({kernel_.now(), e, 0}); });
  }
  void open(std::uint64_t ledger, bool recovery) {
    ledger_.open(ledger, recovery, [this](LedgerError e, std::int64_t last) {
      log_.opens.push_back({kernel_.now(), e, last});
    });
  }

 private:
  void append_next() {
    if (remaining_ <= 0) return;
    --remaining_;
    const std::uint64_t token = next_token_++;
    log_.appended_ns[token] = kernel_.now();
    ledger_.append(ledger_id_, payload_of(token), token);
    if (remaining_ > 0) rt_.after(interval_ns_, [this] { append_next(); });
  }

  Runtime& rt_;
  const sim::Kernel& kernel_;
  WriterLog& log_;
  MetadataClient metadata_;
  LedgerClient ledger_;
  std::uint64_t ledger_id_ = 0;
  int remaining_ = 0;
  std::int64_t interval_ns_ = 0;
  std::uint64_t next_token_ = 0;
};

// [SECTION] The cluster

struct ClusterSpec {
  std::vector<std::uint32_t> bookie_zones = {0, 0, 0};  // One per bookie.
  std::uint32_t zones = 1;
  std::uint32_t client_zone = 0;  // The store's and the writers' zone.
  int writers = 2;
  std::uint64_t seed = 7;
  sim::Jitter jitter;
};

inline ClusterSpec spec(std::vector<std::uint32_t> bookie_zones, int writers) {
  ClusterSpec s;
  s.bookie_zones = std::move(bookie_zones);
  s.writers = writers;
  return s;
}

// Node 0 is the metadata store, then the bookies, then the writers; names n0, n1, ...
class Cluster {
 public:
  explicit Cluster(const ClusterSpec& spec) : spec_(spec) {
    std::vector<std::uint32_t> node_zones = {spec.client_zone};
    for (const std::uint32_t z : spec.bookie_zones) node_zones.push_back(z);
    for (int w = 0; w < spec.writers; ++w) node_zones.push_back(spec.client_zone);
    sim::Topology topology =
        sim::test_util::make_topology(node_zones, std::vector<std::uint32_t>(spec.zones, 0));
    topology.latency.jitter = spec.jitter;
    world_ = std::make_unique<sim::World>(std::move(topology), spec.seed);
    metadata_config_.store = "n0";
    LedgerClientConfig ledger_config;
    for (std::uint32_t i = 0; i < spec.bookie_zones.size(); ++i) {
      bookies_.push_back(1 + i);
      ledger_config.bookies.push_back(
          {"n" + std::to_string(1 + i), "z" + std::to_string(spec.bookie_zones[i])});
    }
    for (int w = 0; w < spec.writers; ++w) {
      writers_.push_back(static_cast<NodeId>(1 + spec.bookie_zones.size() + w));
      ledger_configs_.push_back(ledger_config);
    }
    logs_.resize(writers_.size());
  }

  // Per-writer client configuration; change before start().
  LedgerClientConfig& config(int w) { return ledger_configs_[w]; }
  // Every bookie's; change before start(). Garbage collection is off unless gc_metadata
  // names the store ("n0").
  BookieConfig& bookie_config() { return bookie_config_; }

  void start() {
    world_->set_factory(kStore, [this](Runtime& rt) {
      return std::make_unique<MetadataStore>(rt, MetadataStoreConfig{});
    });
    for (const NodeId b : bookies_) {
      world_->set_factory(b, [this](Runtime& rt) {
        return std::make_unique<Bookie>(rt, bookie_config_);
      });
    }
    for (std::size_t w = 0; w < writers_.size(); ++w) {
      world_->set_factory(writers_[w], [this, w](Runtime& rt) {
        return std::make_unique<WriterNode>(rt, world_->kernel(), metadata_config_,
                                            ledger_configs_[w], logs_[w]);
      });
    }
    world_->start();
    run_for(50 * kMs);
    ASSERT_TRUE(dynamic_cast<MetadataStore*>(world_->actor(kStore))->serving());
    for (const NodeId b : bookies_) ASSERT_TRUE(dynamic_cast<Bookie*>(world_->actor(b))->serving());
    for (std::size_t w = 0; w < writers_.size(); ++w) ASSERT_TRUE(writer(w).has_session());
  }

  sim::World& world() { return *world_; }
  std::int64_t now() const { return world_->kernel().now(); }
  void run_for(std::int64_t ns) { world_->run_until(now() + ns); }
  // Runs in 1 ms steps until `done` holds or `limit_ns` has passed; whether it held.
  bool run_until(const std::function<bool()>& done, std::int64_t limit_ns) {
    const std::int64_t end = now() + limit_ns;
    while (!done() && now() < end) run_for(kMs);
    return done();
  }

  NodeId writer_id(int w) const { return writers_[w]; }
  WriterNode& writer(int w) { return *dynamic_cast<WriterNode*>(world_->actor(writers_[w])); }
  WriterLog& log(int w) { return logs_[w]; }
  const std::vector<NodeId>& bookies() const { return bookies_; }
  NodeId node(const std::string& name) const { return world_->node_id(name); }

  // Creates a ledger from writer w and returns its id (0 on failure).
  std::uint64_t create(int w, const LedgerOptions& options) {
    const std::size_t before = log(w).creates.size();
    writer(w).create(options);
    EXPECT_TRUE(run_until([&] { return log(w).creates.size() > before; }, kSec));
    if (log(w).creates.size() <= before) return 0;
    const DoneEvent& done = log(w).creates.back();
    EXPECT_EQ(done.error, LedgerError::ok) << to_string(done.error);
    return done.error == LedgerError::ok ? static_cast<std::uint64_t>(done.value) : 0;
  }
  LedgerError close(int w, std::uint64_t ledger) {
    const std::size_t before = log(w).closes.size();
    writer(w).close(ledger);
    EXPECT_TRUE(run_until([&] { return log(w).closes.size() > before; }, 2 * kSec));
    return log(w).closes.size() > before ? log(w).closes.back().error : LedgerError::metadata_error;
  }
  // Opens from writer w and runs until the open completes.
  DoneEvent open(int w, std::uint64_t ledger, bool recovery) {
    const std::size_t before = log(w).opens.size();
    writer(w).open(ledger, recovery);
    EXPECT_TRUE(run_until([&] { return log(w).opens.size() > before; }, 5 * kSec));
    if (log(w).opens.size() <= before) return {now(), LedgerError::recovery_failed, -2};
    return log(w).opens.back();
  }

  // The ledger's metadata as the store's log on disk holds it.
  std::optional<LedgerMetadata> metadata(std::uint64_t ledger) {
    const ReplayedLog replayed = replay_store_log();
    const auto it = replayed.state.keys.find(ledger_key(ledger));
    if (it == replayed.state.keys.end()) return std::nullopt;
    LedgerMetadata m;
    if (!m.ParseFromString(it->second.value)) return std::nullopt;
    return m;
  }
  std::size_t ledger_keys() {
    const ReplayedLog replayed = replay_store_log();
    std::size_t n = 0;
    for (const auto& [key, value] : replayed.state.keys) n += key.starts_with("/ledgers/") ? 1 : 0;
    return n;
  }
  ReplayedLog replay_store_log() {
    return replay_metadata_log(world_->disk(kStore).contents(kMetadataLogFile));
  }
  // What the bookie holds, read from its files as its restart would.
  JournalContents journal(NodeId bookie) { return stored_on_disk(world_->disk(bookie)); }
  std::map<std::string, JournalContents> journals() {
    std::map<std::string, JournalContents> out;
    for (const NodeId b : bookies_) out["n" + std::to_string(b)] = journal(b);
    return out;
  }

 private:
  static constexpr NodeId kStore = 0;

  ClusterSpec spec_;
  std::unique_ptr<sim::World> world_;
  MetadataClientConfig metadata_config_;
  std::vector<LedgerClientConfig> ledger_configs_;
  BookieConfig bookie_config_;
  std::vector<NodeId> bookies_;
  std::vector<NodeId> writers_;
  std::vector<WriterLog> logs_;
};

// [SECTION] Helpers

inline LedgerOptions options(std::uint32_t e, std::uint32_t qw, std::uint32_t qa,
                      PlacementPolicy policy = PlacementPolicy::random, bool enforce = false) {
  LedgerOptions o;
  o.quorums = Quorums{e, qw, qa};
  o.placement.policy = policy;
  o.placement.enforce = enforce;
  return o;
}

inline std::vector<std::string> ensemble_of(const LedgerMetadata& m, int fragment) {
  const Fragment& f = m.fragments(fragment);
  return {f.bookies().begin(), f.bookies().end()};
}

// The bookies of entry e's write set, per the metadata's fragment that holds it.
inline std::vector<std::string> write_set(const LedgerMetadata& m, std::int64_t entry) {
  const Quorums q = quorums_of(m);
  const std::vector<std::string> ensemble = ensemble_of(m, fragment_of(m, entry));
  std::vector<std::string> out;
  for (std::uint32_t i = 0; i < q.write_quorum; ++i) {
    out.push_back(ensemble[write_set_member(entry, i, q)]);
  }
  return out;
}

// How many bookies of entry e's write set hold it.
inline std::uint32_t copies(const std::map<std::string, JournalContents>& journals,
                     const LedgerMetadata& m, std::uint64_t ledger, std::int64_t entry) {
  std::uint32_t n = 0;
  for (const std::string& b : write_set(m, entry)) {
    const auto it = journals.find(b);
    if (it != journals.end() && it->second.entries.contains({ledger, entry})) ++n;
  }
  return n;
}

// Acks of one writer, in callback order, must be ok, consecutive from 0 and in token order.
inline void expect_in_order(const WriterLog& log, std::size_t count) {
  ASSERT_EQ(log.adds.size(), count);
  for (std::size_t i = 0; i < log.adds.size(); ++i) {
    const AddResult& r = log.adds[i].result;
    EXPECT_EQ(r.error, LedgerError::ok) << "add " << i << ": " << to_string(r.error);
    EXPECT_EQ(r.entry_id, static_cast<std::int64_t>(i));
    EXPECT_EQ(r.token, i);
  }
}

}  // namespace streamlab::storage::ledger_test
