// The ledger client (broker/storage/ledger_client.h) against a real metadata store and
// real bookies in a simulated world: striping and ordered acknowledgement, quorum and
// placement checks at creation, ensemble changes after a crash or an add timeout,
// fencing and recovery of another writer's ledger (REFERENCE.md "BookKeeper (storage)"),
// and the unsafe recovery_fencing = false knob that lets two writers acknowledge at once.
//
// Every check reads the outcome the way a checker would: adds and callbacks as the
// writer saw them (a log owned by the test, so it outlives crashed writers), the final
// ledger metadata from the store's log on disk, and entries from each bookie's journal.

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
#include "tests/sim/test_world.h"

namespace streamlab::storage {
namespace {

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

std::string payload_of(std::uint64_t token) { return "entry-" + std::to_string(token); }

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

ClusterSpec spec(std::vector<std::uint32_t> bookie_zones, int writers) {
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

  void start() {
    world_->set_factory(kStore, [this](Runtime& rt) {
      return std::make_unique<MetadataStore>(rt, MetadataStoreConfig{});
    });
    for (const NodeId b : bookies_) {
      world_->set_factory(b, [](Runtime& rt) {
        return std::make_unique<Bookie>(rt, BookieConfig{});
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
  JournalContents journal(NodeId bookie) {
    return parse_journal(world_->disk(bookie).contents(kJournalFile));
  }
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
  std::vector<NodeId> bookies_;
  std::vector<NodeId> writers_;
  std::vector<WriterLog> logs_;
};

// [SECTION] Helpers

LedgerOptions options(std::uint32_t e, std::uint32_t qw, std::uint32_t qa,
                      PlacementPolicy policy = PlacementPolicy::random, bool enforce = false) {
  LedgerOptions o;
  o.quorums = Quorums{e, qw, qa};
  o.placement.policy = policy;
  o.placement.enforce = enforce;
  return o;
}

std::vector<std::string> ensemble_of(const LedgerMetadata& m, int fragment) {
  const Fragment& f = m.fragments(fragment);
  return {f.bookies().begin(), f.bookies().end()};
}

// The bookies of entry e's write set, per the metadata's fragment that holds it.
std::vector<std::string> write_set(const LedgerMetadata& m, std::int64_t entry) {
  const Quorums q = quorums_of(m);
  const std::vector<std::string> ensemble = ensemble_of(m, fragment_of(m, entry));
  std::vector<std::string> out;
  for (std::uint32_t i = 0; i < q.write_quorum; ++i) {
    out.push_back(ensemble[write_set_member(entry, i, q)]);
  }
  return out;
}

// How many bookies of entry e's write set hold it.
std::uint32_t copies(const std::map<std::string, JournalContents>& journals,
                     const LedgerMetadata& m, std::uint64_t ledger, std::int64_t entry) {
  std::uint32_t n = 0;
  for (const std::string& b : write_set(m, entry)) {
    const auto it = journals.find(b);
    if (it != journals.end() && it->second.entries.contains({ledger, entry})) ++n;
  }
  return n;
}

// Acks of one writer, in callback order, must be ok, consecutive from 0 and in token order.
void expect_in_order(const WriterLog& log, std::size_t count) {
  ASSERT_EQ(log.adds.size(), count);
  for (std::size_t i = 0; i < log.adds.size(); ++i) {
    const AddResult& r = log.adds[i].result;
    EXPECT_EQ(r.error, LedgerError::ok) << "add " << i << ": " << to_string(r.error);
    EXPECT_EQ(r.entry_id, static_cast<std::int64_t>(i));
    EXPECT_EQ(r.token, i);
  }
}

// [SECTION] Writing: happy path, striping, creation checks

TEST(LedgerClientTest, HappyPathAcksEveryEntryInOrderAndCloses) {
  Cluster c(spec({0, 0, 0}, 1));
  c.start();
  const std::uint64_t id = c.create(0, options(3, 3, 2));
  ASSERT_NE(id, 0u);
  c.writer(0).append(id, 100, 1 * kMs);
  ASSERT_TRUE(c.run_until([&] { return c.log(0).adds.size() == 100; }, kSec));
  expect_in_order(c.log(0), 100);
  EXPECT_EQ(c.writer(0).ledger().lac(id), 99);

  for (const NodeId b : c.bookies()) {
    const JournalContents j = c.journal(b);
    for (std::int64_t e = 0; e < 100; ++e) {
      const auto it = j.entries.find({id, e});
      ASSERT_NE(it, j.entries.end()) << "bookie n" << b << " lacks entry " << e;
      EXPECT_EQ(it->second.payload, payload_of(static_cast<std::uint64_t>(e)));
    }
  }
  EXPECT_EQ(c.close(0, id), LedgerError::ok);
  const auto m = c.metadata(id);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->state(), CLOSED);
  EXPECT_EQ(m->last_entry_id(), 99);
  EXPECT_EQ(m->fragments_size(), 1);
  // Appends after the close fail with `closed`, without an entry id.
  c.writer(0).append(id, 1, kMs);
  ASSERT_TRUE(c.run_until([&] { return c.log(0).adds.size() == 101; }, 100 * kMs));
  EXPECT_NE(c.log(0).adds.back().result.error, LedgerError::ok);
  EXPECT_EQ(c.log(0).adds.back().result.entry_id, -1);
}

// Reads go to the entry's write set, falling back to the next bookie when one is down;
// a closed ledger ends at its last entry.
TEST(LedgerClientTest, ReadsFollowTheWriteSetAndSurviveABookieDown) {
  Cluster c(spec({0, 0, 0}, 1));
  c.start();
  const std::uint64_t id = c.create(0, options(3, 2, 2));
  ASSERT_NE(id, 0u);
  c.writer(0).append(id, 12, 1 * kMs);
  ASSERT_TRUE(c.run_until([&] { return c.log(0).adds.size() == 12; }, kSec));
  EXPECT_EQ(c.close(0, id), LedgerError::ok);
  const auto m = c.metadata(id);
  ASSERT_TRUE(m.has_value());
  // Down: the first member of entry 0's write set, so its read must fall back.
  c.world().crash(c.node(m->fragments(0).bookies(0)));

  struct Got {
    LedgerError error;
    std::string payload;
  };
  std::map<std::int64_t, Got> got;
  for (std::int64_t e = 0; e <= 12; ++e) {
    c.writer(0).ledger().read(id, e, [&got, e](LedgerError error, std::string_view payload) {
      got[e] = Got{error, std::string(payload)};
    });
  }
  ASSERT_TRUE(c.run_until([&] { return got.size() == 13; }, 5 * kSec));
  for (std::int64_t e = 0; e < 12; ++e) {
    EXPECT_EQ(got[e].error, LedgerError::ok) << "entry " << e << ": " << to_string(got[e].error);
    EXPECT_EQ(got[e].payload, payload_of(static_cast<std::uint64_t>(e))) << "entry " << e;
  }
  EXPECT_EQ(got[12].error, LedgerError::no_such_entry);
  std::optional<LedgerError> missing;
  c.writer(0).ledger().read(id + 2, 0, [&](LedgerError e, std::string_view) { missing = e; });
  ASSERT_TRUE(c.run_until([&] { return missing.has_value(); }, kSec));
  EXPECT_EQ(*missing, LedgerError::no_such_ledger);
}

// Deleting a ledger removes its metadata: opening it afterwards finds nothing.
TEST(LedgerClientTest, RemovedLedgerCannotBeOpened) {
  Cluster c(spec({0, 0, 0}, 1));
  c.start();
  const std::uint64_t id = c.create(0, options(3, 3, 2));
  ASSERT_NE(id, 0u);
  c.writer(0).append(id, 5, 1 * kMs);
  ASSERT_TRUE(c.run_until([&] { return c.log(0).adds.size() == 5; }, kSec));
  EXPECT_EQ(c.close(0, id), LedgerError::ok);
  std::optional<LedgerError> removed;
  c.writer(0).ledger().remove(id, [&](LedgerError e) { removed = e; });
  ASSERT_TRUE(c.run_until([&] { return removed.has_value(); }, kSec));
  EXPECT_EQ(*removed, LedgerError::ok);
  EXPECT_FALSE(c.metadata(id).has_value());
  c.writer(0).open(id, true);
  ASSERT_TRUE(c.run_until([&] { return !c.log(0).opens.empty(); }, kSec));
  EXPECT_EQ(c.log(0).opens.back().error, LedgerError::no_such_ledger);
  std::optional<LedgerError> again;
  c.writer(0).ledger().remove(id, [&](LedgerError e) { again = e; });
  ASSERT_TRUE(c.run_until([&] { return again.has_value(); }, kSec));
  EXPECT_EQ(*again, LedgerError::no_such_ledger);
}

// close() waits for the adds still pending and closes at the last of them.
TEST(LedgerClientTest, CloseWaitsForPendingAdds) {
  Cluster c(spec({0, 0, 0}, 1));
  c.start();
  const std::uint64_t id = c.create(0, options(3, 3, 2));
  ASSERT_NE(id, 0u);
  c.writer(0).append(id, 20, 10 * kUs);
  c.run_for(200 * kUs);
  ASSERT_TRUE(c.log(0).adds.empty());
  EXPECT_EQ(c.close(0, id), LedgerError::ok);
  expect_in_order(c.log(0), 20);
  const auto m = c.metadata(id);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->state(), CLOSED);
  EXPECT_EQ(m->last_entry_id(), 19);
}

TEST(LedgerClientTest, EntriesAreStripedOverTheEnsemble) {
  Cluster c(spec({0, 0, 0, 0}, 1));
  c.start();
  const std::uint64_t id = c.create(0, options(4, 2, 2));
  ASSERT_NE(id, 0u);
  c.writer(0).append(id, 40, 1 * kMs);
  ASSERT_TRUE(c.run_until([&] { return c.log(0).adds.size() == 40; }, kSec));
  expect_in_order(c.log(0), 40);
  const auto m = c.metadata(id);
  ASSERT_TRUE(m.has_value());
  ASSERT_EQ(m->fragments_size(), 1);
  const std::vector<std::string> ensemble = ensemble_of(*m, 0);
  ASSERT_EQ(ensemble.size(), 4u);
  const auto journals = c.journals();
  for (std::int64_t e = 0; e < 40; ++e) {
    std::set<std::string> holders;
    for (const auto& [name, j] : journals) {
      if (j.entries.contains({id, e})) holders.insert(name);
    }
    const std::set<std::string> expected = {ensemble[e % 4], ensemble[(e + 1) % 4]};
    EXPECT_EQ(holders, expected) << "entry " << e;
  }
}

TEST(LedgerClientTest, CreateChecksQuorumsAndPlacement) {
  Cluster c(spec({0, 0, 0}, 1));
  c.start();
  auto create_error = [&](const LedgerOptions& o) {
    const std::size_t before = c.log(0).creates.size();
    c.writer(0).create(o);
    // Completions never run inside the call that started them.
    EXPECT_EQ(c.log(0).creates.size(), before);
    EXPECT_TRUE(c.run_until([&] { return c.log(0).creates.size() > before; }, kSec));
    return c.log(0).creates.size() > before ? c.log(0).creates.back().error : LedgerError::ok;
  };
  EXPECT_EQ(create_error(options(3, 2, 3)), LedgerError::bad_config);  // Qa > Qw.
  EXPECT_EQ(create_error(options(2, 3, 2)), LedgerError::bad_config);  // Qw > E.
  EXPECT_EQ(create_error(options(3, 3, 0)), LedgerError::bad_config);  // Qa < 1.
  EXPECT_EQ(create_error(options(4, 3, 2)), LedgerError::not_enough_bookies);  // 3 bookies.
  // Every bookie in one zone: enforced zone-aware placement refuses, best effort accepts.
  EXPECT_EQ(create_error(options(3, 3, 2, PlacementPolicy::zone_aware, true)),
            LedgerError::not_enough_bookies);
  EXPECT_EQ(c.ledger_keys(), 0u) << "a refused create wrote metadata";
  EXPECT_EQ(create_error(options(3, 3, 2, PlacementPolicy::zone_aware, false)), LedgerError::ok);
  EXPECT_EQ(c.ledger_keys(), 1u);
  const auto id = static_cast<std::uint64_t>(c.log(0).creates.back().value);
  const auto m = c.metadata(id);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->state(), OPEN);
  EXPECT_EQ(m->ensemble_size(), 3u);
  EXPECT_EQ(m->write_quorum(), 3u);
  EXPECT_EQ(m->ack_quorum(), 2u);
  c.writer(0).append(id, 5, kMs);
  ASSERT_TRUE(c.run_until([&] { return c.log(0).adds.size() == 5; }, kSec));
  expect_in_order(c.log(0), 5);
}

// [SECTION] Ensemble changes

TEST(LedgerClientTest, CrashedBookieIsReplacedAndEveryAckedEntryKeepsAckQuorum) {
  Cluster c(spec({0, 0, 0, 0, 0}, 1));
  c.start();
  const std::uint64_t id = c.create(0, options(3, 3, 2));
  ASSERT_NE(id, 0u);
  const std::string victim = ensemble_of(*c.metadata(id), 0)[1];
  c.writer(0).append(id, 200, 1 * kMs);
  c.run_for(50 * kMs);
  c.world().crash(c.node(victim));
  ASSERT_TRUE(c.run_until([&] { return c.log(0).adds.size() == 200; }, 2 * kSec));
  expect_in_order(c.log(0), 200);
  ASSERT_EQ(c.close(0, id), LedgerError::ok);

  const auto m = c.metadata(id);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->state(), CLOSED);
  EXPECT_EQ(m->last_entry_id(), 199);
  ASSERT_EQ(m->fragments_size(), 2);
  EXPECT_GT(m->fragments(1).first_entry(), 0);
  EXPECT_LT(m->fragments(1).first_entry(), 199);
  const std::vector<std::string> second = ensemble_of(*m, 1);
  EXPECT_EQ(std::count(second.begin(), second.end(), victim), 0);
  EXPECT_EQ(std::set<std::string>(second.begin(), second.end()).size(), 3u);
  const auto journals = c.journals();
  for (std::int64_t e = 0; e <= 199; ++e) {
    EXPECT_GE(copies(journals, *m, id, e), 2u) << "entry " << e;
  }
}

// Ack quorum 1: an entry is acknowledged as soon as one bookie of its write set has it.
TEST(LedgerClientTest, AckQuorumOneAcksAfterOneBookie) {
  auto run = [](std::uint32_t qa, std::vector<std::int64_t>* latencies) {
    Cluster c(spec({0, 0}, 1));
    c.start();
    const std::uint64_t id = c.create(0, options(2, 2, qa));
    ASSERT_NE(id, 0u);
    const NodeId slow = c.node(ensemble_of(*c.metadata(id), 0)[1]);
    c.world().network().clog({c.writer_id(0)}, {slow}, 20 * kMs);
    c.writer(0).append(id, 20, 1 * kMs);
    if (qa == 1) {
      // At the first acknowledgement the slow bookie has not even received the entry.
      ASSERT_TRUE(c.run_until([&] { return !c.log(0).adds.empty(); }, kSec));
      EXPECT_FALSE(c.journal(slow).entries.contains({id, 0}));
    }
    ASSERT_TRUE(c.run_until([&] { return c.log(0).adds.size() == 20; }, kSec));
    expect_in_order(c.log(0), 20);
    for (const AddEvent& a : c.log(0).adds) {
      latencies->push_back(a.time_ns - c.log(0).appended_ns.at(a.result.token));
    }
  };
  std::vector<std::int64_t> one;
  std::vector<std::int64_t> two;
  run(1, &one);
  run(2, &two);
  ASSERT_EQ(one.size(), 20u);
  ASSERT_EQ(two.size(), 20u);
  EXPECT_LT(*std::max_element(one.begin(), one.end()), 5 * kMs);
  EXPECT_GE(*std::min_element(two.begin(), two.end()), 40 * kMs);
}

// A paused bookie keeps its connection: only the add timeout notices it.
void run_add_timeout(std::uint32_t qa) {
  Cluster c(spec({0, 0, 0}, 1));
  c.config(0).add_timeout_ns = 200 * kMs;
  c.start();
  const std::uint64_t id = c.create(0, options(2, 2, qa));
  ASSERT_NE(id, 0u);
  const std::string paused = ensemble_of(*c.metadata(id), 0)[1];
  c.writer(0).append(id, 200, 2 * kMs);
  c.run_for(40 * kMs);
  const std::int64_t paused_at = c.now();
  c.world().pause(c.node(paused), 3 * kSec);
  ASSERT_TRUE(c.run_until([&] { return c.log(0).adds.size() == 200; }, 2 * kSec));
  ASSERT_LT(c.now(), paused_at + 3 * kSec) << "finished only because the bookie resumed";
  expect_in_order(c.log(0), 200);

  const auto m = c.metadata(id);
  ASSERT_TRUE(m.has_value());
  ASSERT_EQ(m->fragments_size(), 2) << "the paused bookie was never replaced";
  const std::vector<std::string> second = ensemble_of(*m, 1);
  EXPECT_EQ(std::count(second.begin(), second.end(), paused), 0);
  // Entries of the new fragment have both copies, on bookies that are not paused.
  const auto journals = c.journals();
  for (std::int64_t e = m->fragments(1).first_entry(); e < 200; ++e) {
    EXPECT_EQ(copies(journals, *m, id, e), 2u) << "entry " << e;
  }
  if (qa == 2) {
    // Nothing appended after the pause is acknowledged before the add timeout.
    for (const AddEvent& a : c.log(0).adds) {
      if (c.log(0).appended_ns.at(a.result.token) <= paused_at) continue;
      EXPECT_GE(a.time_ns, paused_at + 200 * kMs) << "entry " << a.result.entry_id;
      break;
    }
  }
}

TEST(LedgerClientTest, AddTimeoutReplacesPausedBookie) { run_add_timeout(2); }

// With Qa < Qw the healthy bookies acknowledge every entry, so only a per-bookie add
// timeout (BookKeeper: addEntryTimeoutSec, per request to a bookie) notices the pause.
TEST(LedgerClientTest, AddTimeoutReplacesPausedBookieWithAckQuorumOne) {
  run_add_timeout(1);
}

// close() during an ensemble change waits for the change: the entry held back during it
// is sent to the new ensemble and acknowledged, and the close then ends the ledger after
// it. A second close() meanwhile is refused with `closed`. (It used to turn the change's
// state into `closing`: the change's reply was ignored, the held-back entry never sent, and
// the add monitor, still watching the replaced bookie, re-armed itself every nanosecond.)
TEST(LedgerClientTest, CloseDuringEnsembleChangeWaitsForTheChange) {
  Cluster c(spec({0, 0, 0, 0}, 1));
  c.config(0).add_timeout_ns = 200 * kMs;
  c.start();
  const std::uint64_t id = c.create(0, options(3, 3, 2));
  ASSERT_NE(id, 0u);
  c.writer(0).append(id, 10, 1 * kMs);
  ASSERT_TRUE(c.run_until([&] { return c.log(0).adds.size() == 10; }, kSec));
  const std::string paused = ensemble_of(*c.metadata(id), 0)[1];
  const NodeId store = c.node("n0");

  // Entry 10 is acked by the two healthy bookies; the paused one times out at t0 + 200 ms
  // and its replacement's compare-and-set waits for the paused store until t0 + 400 ms.
  const std::int64_t t0 = c.now();
  c.world().pause(c.node(paused), 3 * kSec);
  c.writer(0).append(id, 1, kMs);
  c.run_for(100 * kMs);
  ASSERT_EQ(c.log(0).adds.size(), 11u);
  c.world().pause(store, 300 * kMs);
  c.run_for(150 * kMs);
  ASSERT_TRUE(c.world().paused(store));
  ASSERT_EQ(c.metadata(id)->fragments_size(), 1) << "the change must still be in flight";

  // During the change: one more entry (held back), then two closes.
  c.writer(0).append(id, 1, kMs);
  c.writer(0).close(id);
  c.writer(0).close(id);
  const std::uint64_t events_before = c.world().kernel().events_executed();
  const std::int64_t until = c.now() + 2 * kSec;
  std::uint64_t events = 0;
  while (c.now() < until) {
    c.run_for(100 * kUs);  // Short steps: a spinning client is caught within ~100k events.
    events = c.world().kernel().events_executed() - events_before;
    if (events >= 2'000'000) break;
  }
  EXPECT_LT(events, 2'000'000u) << "the client spins";
  ASSERT_LT(c.now(), t0 + 3 * kSec) << "the paused bookie must not have resumed";

  // Each close completed exactly once: the second refused, the first ok.
  ASSERT_EQ(c.log(0).closes.size(), 2u);
  EXPECT_EQ(c.log(0).closes[0].error, LedgerError::closed) << to_string(c.log(0).closes[0].error);
  EXPECT_EQ(c.log(0).closes[1].error, LedgerError::ok) << to_string(c.log(0).closes[1].error);
  // The held-back entry was sent and acknowledged.
  expect_in_order(c.log(0), 12);

  const auto m = c.metadata(id);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->state(), CLOSED);
  EXPECT_EQ(m->last_entry_id(), 11);
  EXPECT_GE(m->last_entry_id(), c.log(0).max_acked());
  ASSERT_EQ(m->fragments_size(), 2);
  EXPECT_EQ(m->fragments(1).first_entry(), 11);
  const std::vector<std::string> second = ensemble_of(*m, 1);
  EXPECT_EQ(std::count(second.begin(), second.end(), paused), 0);
  const auto journals = c.journals();
  for (const AddEvent& a : c.log(0).ok_adds()) {
    EXPECT_GE(copies(journals, *m, id, a.result.entry_id), 2u) << "entry " << a.result.entry_id;
  }
}

// [SECTION] Fencing and recovery

struct FencingRun {
  DoneEvent recovered;
  std::optional<LedgerMetadata> metadata;
  WriterLog a;
  std::map<std::string, JournalContents> journals;
  std::uint64_t id = 0;
};

// Writer 0 writes `count` entries every interval_ns; 100 ms in, writer 1 opens the
// ledger with recovery. `pause_ns` > 0: writer 0 pauses 10 ms before the open.
void run_fencing(bool fencing, int count, std::int64_t interval_ns, std::int64_t pause_ns,
                 FencingRun* out) {
  Cluster c(spec({0, 0, 0}, 2));
  c.config(1).recovery_fencing = fencing;
  c.start();
  out->id = c.create(0, options(3, 3, 2));
  ASSERT_NE(out->id, 0u);
  c.writer(0).append(out->id, count, interval_ns);
  if (pause_ns > 0) {
    c.run_for(90 * kMs);
    c.world().pause(c.writer_id(0), pause_ns);
    c.run_for(10 * kMs);
  } else {
    c.run_for(100 * kMs);
  }
  out->recovered = c.open(1, out->id, true);
  if (pause_ns > 0) {
    ASSERT_TRUE(c.world().paused(c.writer_id(0)));
  }
  // Let writer 0 go on (or resume) well past the recovery.
  c.run_until([&] { return !c.world().paused(c.writer_id(0)); }, 2 * kSec);
  c.run_for(count * interval_ns);
  out->metadata = c.metadata(out->id);
  out->a = c.log(0);
  out->journals = c.journals();
}

void expect_recovery_safe(const FencingRun& r) {
  ASSERT_EQ(r.recovered.error, LedgerError::ok) << to_string(r.recovered.error);
  const std::int64_t last = r.recovered.value;
  ASSERT_TRUE(r.metadata.has_value());
  EXPECT_EQ(r.metadata->state(), CLOSED);
  EXPECT_EQ(r.metadata->last_entry_id(), last);
  // Property: if entry e was acknowledged, the closed ledger's last entry is >= e.
  EXPECT_GE(last, r.a.max_acked());
  for (const AddEvent& a : r.a.ok_adds()) {
    EXPECT_LE(a.result.entry_id, last) << "acked past the closed ledger's end";
  }
  for (std::int64_t e = 0; e <= last; ++e) {
    EXPECT_GE(copies(r.journals, *r.metadata, r.id, e), 2u) << "entry " << e;
  }
  // The old writer learned it was fenced, and acknowledged nothing after that.
  bool fenced = false;
  for (const AddEvent& a : r.a.adds) {
    if (a.result.error == LedgerError::fenced) fenced = true;
    if (fenced) {
      EXPECT_NE(a.result.error, LedgerError::ok) << "ack after fenced: " << a.result.entry_id;
    }
  }
  EXPECT_TRUE(fenced);
}

TEST(LedgerClientTest, RecoveryFencesTheOldWriter) {
  FencingRun r;
  run_fencing(true, 400, 1 * kMs, 0, &r);
  expect_recovery_safe(r);
  EXPECT_GT(r.a.ok_adds().size(), 50u);
  for (const AddEvent& a : r.a.ok_adds()) {
    EXPECT_LT(a.time_ns, r.recovered.time_ns) << "entry " << a.result.entry_id;
  }
  // Every append made after the recovery failed with fenced.
  std::size_t late = 0;
  for (const AddEvent& a : r.a.adds) {
    if (a.time_ns <= r.recovered.time_ns) continue;
    ++late;
    EXPECT_EQ(a.result.error, LedgerError::fenced) << to_string(a.result.error);
  }
  EXPECT_GT(late, 100u);
}

TEST(LedgerClientTest, RecoveryWithoutFencingLetsTheOldWriterAckPastTheEnd) {
  FencingRun r;
  // A slow writer, so the unfenced recovery reads reach the end of what it wrote.
  run_fencing(false, 60, 10 * kMs, 0, &r);
  ASSERT_EQ(r.recovered.error, LedgerError::ok) << to_string(r.recovered.error);
  ASSERT_TRUE(r.metadata.has_value());
  EXPECT_EQ(r.metadata->state(), CLOSED);
  const std::int64_t last = r.recovered.value;
  EXPECT_EQ(r.metadata->last_entry_id(), last);
  // Split brain: the old writer goes on acknowledging entries past the closed end.
  std::size_t lost = 0;
  for (const AddEvent& a : r.a.ok_adds()) {
    if (a.time_ns > r.recovered.time_ns && a.result.entry_id > last) ++lost;
  }
  EXPECT_GT(lost, 10u);
  EXPECT_EQ(r.a.ok_adds().size(), 60u);
}

TEST(LedgerClientTest, PausedWriterIsFencedWhenItResumes) {
  FencingRun r;
  run_fencing(true, 300, 1 * kMs, 500 * kMs, &r);
  expect_recovery_safe(r);
  // Adds appended after the resume all fail.
  bool any_late = false;
  for (const AddEvent& a : r.a.adds) {
    if (r.a.appended_ns.at(a.result.token) <= r.recovered.time_ns) continue;
    any_late = true;
    EXPECT_EQ(a.result.error, LedgerError::fenced) << to_string(a.result.error);
  }
  EXPECT_TRUE(any_late);
}

// Fencing reads of the LAC go to every bookie of the last fragment, not only to the write
// sets recovery reads later touch (E=4, Qw=2: those miss one bookie).
TEST(LedgerClientTest, RecoveryFencesEveryBookieOfTheLastFragment) {
  Cluster c(spec({0, 0, 0, 0}, 2));
  c.start();
  const std::uint64_t id = c.create(0, options(4, 2, 2));
  ASSERT_NE(id, 0u);
  // Slow appends: each entry carries the previous one as LAC, so the bookies' highest LAC
  // is 8 and recovery reads only entries 9 and 10, whose write sets miss one bookie.
  c.writer(0).append(id, 10, 10 * kMs);
  ASSERT_TRUE(c.run_until([&] { return c.log(0).adds.size() == 10; }, kSec));
  expect_in_order(c.log(0), 10);
  const DoneEvent opened = c.open(1, id, true);
  ASSERT_EQ(opened.error, LedgerError::ok) << to_string(opened.error);
  EXPECT_EQ(opened.value, 9);
  c.run_for(20 * kMs);
  const auto m = c.metadata(id);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->state(), CLOSED);
  EXPECT_EQ(m->last_entry_id(), 9);
  for (const std::string& b : ensemble_of(*m, 0)) {
    EXPECT_TRUE(c.journal(c.node(b)).fenced.contains(id)) << b << " was not fenced";
  }
  // The old writer, still alive, is refused and gives the ledger up.
  c.writer(0).append(id, 1, kMs);
  ASSERT_TRUE(c.run_until([&] { return c.log(0).adds.size() == 11; }, kSec));
  EXPECT_EQ(c.log(0).adds.back().result.error, LedgerError::fenced);
  EXPECT_EQ(c.close(0, id), LedgerError::fenced);
  EXPECT_EQ(c.metadata(id)->last_entry_id(), 9);
}

// A writer fenced by another client's recovery can itself recover its ledger: the replies
// to its recovery rewrites belong to the recovery, not to the failed writer object it
// still holds for the ledger (they used to be dropped there, so the rewrite timed out).
TEST(LedgerClientTest, FencedWriterRecoversItsOwnLedger) {
  Cluster c(spec({0, 0, 0}, 2));
  c.config(0).add_timeout_ns = 500 * kMs;  // Bounds the rewrite, were its replies lost.
  c.start();
  const std::uint64_t id = c.create(0, options(3, 3, 2));
  ASSERT_NE(id, 0u);
  // Slow appends: the bookies' highest LAC is 8, so entry 9 is beyond it.
  c.writer(0).append(id, 10, 10 * kMs);
  ASSERT_TRUE(c.run_until([&] { return c.log(0).adds.size() == 10; }, kSec));
  expect_in_order(c.log(0), 10);

  // Writer 1 marks the ledger IN_RECOVERY and fences the bookies, but is cut off from the
  // store before it can close the ledger.
  const NodeId store = c.node("n0");
  c.writer(1).open(id, true);
  auto fenced = [&] {
    for (const NodeId b : c.bookies()) {
      if (!c.journal(b).fenced.contains(id)) return false;
    }
    return true;
  };
  const std::int64_t limit = c.now() + 100 * kMs;
  while (!fenced() && c.now() < limit) c.world().run_until(c.now() + 20 * kUs);
  ASSERT_TRUE(fenced());
  ASSERT_EQ(c.metadata(id)->state(), IN_RECOVERY);
  const auto cut = c.world().network().partition({c.writer_id(1)}, {store}, /*one_way=*/false);
  c.run_for(50 * kMs);
  ASSERT_EQ(c.metadata(id)->state(), IN_RECOVERY) << "writer 1 must not have closed it";

  // Writer 0's next append is fenced: its writer object for the ledger has failed.
  c.writer(0).append(id, 1, kMs);
  ASSERT_TRUE(c.run_until([&] { return c.log(0).adds.size() == 11; }, kSec));
  ASSERT_EQ(c.log(0).adds.back().result.error, LedgerError::fenced);

  // Writer 0 now recovers the ledger itself: entry 9 is read and rewritten, then closed.
  const std::int64_t start = c.now();
  const DoneEvent opened = c.open(0, id, true);
  ASSERT_EQ(opened.error, LedgerError::ok) << to_string(opened.error);
  EXPECT_LT(opened.time_ns - start, kSec);
  EXPECT_EQ(opened.value, 9);
  EXPECT_GE(opened.value, c.log(0).max_acked());
  const auto m = c.metadata(id);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->state(), CLOSED);
  EXPECT_EQ(m->last_entry_id(), 9);
  const auto journals = c.journals();
  for (std::int64_t e = 0; e <= 9; ++e) {
    EXPECT_GE(copies(journals, *m, id, e), 2u) << "entry " << e;
  }

  // Writer 1, back in touch with the store, sees the same end.
  c.world().network().remove(cut);
  c.run_for(50 * kMs);
  const DoneEvent again = c.open(1, id, true);
  ASSERT_EQ(again.error, LedgerError::ok) << to_string(again.error);
  EXPECT_EQ(again.value, 9);
}

// With Qa = Qw a recovery cannot rewrite without every bookie of the write set: when one
// is gone for good, recovery replaces it (an ensemble change of the IN_RECOVERY ledger)
// instead of failing on every attempt, and reads still follow where the writer wrote.
TEST(LedgerClientTest, RecoveryReplacesABookieLostWhileRewriting) {
  Cluster c(spec({0, 0, 0}, 2));
  c.config(1).placement.policy = PlacementPolicy::random;
  c.start();
  const std::uint64_t id = c.create(0, options(2, 2, 2));
  ASSERT_NE(id, 0u);
  c.writer(0).append(id, 10, 1 * kMs);
  ASSERT_TRUE(c.run_until([&] { return c.log(0).adds.size() == 10; }, kSec));
  ASSERT_EQ(c.log(0).max_acked(), 9);
  // The bookies store the LAC each add carried, which lags the acknowledgements: the
  // last entries lie beyond every stored LAC and recovery must rewrite them.
  const auto before = c.metadata(id);
  ASSERT_TRUE(before.has_value());
  const NodeId lost = c.node(before->fragments(0).bookies(1));
  c.world().crash(c.writer_id(0));
  c.world().crash(lost, false, /*wipe=*/true);
  const DoneEvent opened = c.open(1, id, true);
  EXPECT_EQ(opened.error, LedgerError::ok) << to_string(opened.error);
  EXPECT_EQ(opened.value, 9);
  const auto after = c.metadata(id);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->state(), CLOSED);
  EXPECT_EQ(after->last_entry_id(), 9);
  ASSERT_EQ(after->fragments_size(), 2);
  const std::int64_t first = after->fragments(1).first_entry();
  EXPECT_GT(first, 0);
  EXPECT_LE(first, 9);
  for (const std::string& b : after->fragments(1).bookies()) EXPECT_NE(c.node(b), lost);
  // Every rewritten entry has both copies in its (new) write set.
  for (std::int64_t e = first; e <= 9; ++e) {
    int copies = 0;
    for (const std::string& b : after->fragments(1).bookies()) {
      copies += c.journal(c.node(b)).entries.count({id, e}) > 0 ? 1 : 0;
    }
    EXPECT_EQ(copies, 2) << "entry " << e;
  }
}

// An entry beyond the LAC that reached a single bookie is recovered: one positive reply
// suffices (REFERENCE: recovery).
TEST(LedgerClientTest, RecoveryKeepsAnEntryThatReachedOneBookie) {
  Cluster c(spec({0, 0, 0}, 2));
  c.start();
  const std::uint64_t id = c.create(0, options(3, 3, 2));
  ASSERT_NE(id, 0u);
  c.writer(0).append(id, 10, 1 * kMs);
  ASSERT_TRUE(c.run_until([&] { return c.log(0).adds.size() == 10; }, kSec));
  expect_in_order(c.log(0), 10);
  const std::vector<std::string> ensemble = ensemble_of(*c.metadata(id), 0);
  const NodeId keeper = c.node(ensemble[0]);
  const std::vector<NodeId> others = {c.node(ensemble[1]), c.node(ensemble[2])};
  const auto cut = c.world().network().partition({c.writer_id(0)}, others, /*one_way=*/true);
  c.writer(0).append(id, 1, kMs);
  c.run_for(5 * kMs);
  c.world().crash(c.writer_id(0));
  c.world().network().remove(cut);
  ASSERT_TRUE(c.journal(keeper).entries.contains({id, 10}));
  for (const NodeId b : others) ASSERT_FALSE(c.journal(b).entries.contains({id, 10}));
  // The "no such entry" replies come late, so the single positive one is decisive.
  c.world().network().clog({c.writer_id(1)}, others, 5 * kMs);

  const DoneEvent opened = c.open(1, id, true);
  ASSERT_EQ(opened.error, LedgerError::ok) << to_string(opened.error);
  EXPECT_EQ(opened.value, 10);
  const auto m = c.metadata(id);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->state(), CLOSED);
  EXPECT_EQ(m->last_entry_id(), 10);
  const auto journals = c.journals();
  EXPECT_GE(copies(journals, *m, id, 10), 2u) << "the recovered entry was not rewritten";
  for (const auto& [name, j] : journals) {
    if (j.entries.contains({id, 10})) {
      EXPECT_EQ(j.entries.at({id, 10}).payload, payload_of(10));
    }
  }
}

// The writer crashes at a random time; the recovered ledger must end at or after every
// entry it acknowledged, and every entry up to the end must have an ack quorum of copies.
TEST(LedgerClientTest, RecoveryNeverCutsAnAckedEntryAcrossSeeds) {
  int beyond_lac = 0;
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    sim::Rng rng(seed);
    sim::Jitter jitter;
    jitter.kind = sim::Jitter::Kind::uniform;
    jitter.high_ns = 300 * kUs;
    ClusterSpec s = spec({0, 0, 0, 0, 0}, 2);
    s.seed = seed;
    s.jitter = jitter;
    Cluster c(s);
    c.start();
    const std::uint64_t id = c.create(0, options(3 + static_cast<std::uint32_t>(seed % 2), 3, 2));
    ASSERT_NE(id, 0u);
    c.writer(0).append(id, 200, 500 * kUs);
    c.run_for(rng.uniform_i64(5 * kMs, 60 * kMs));
    c.world().crash(c.writer_id(0));
    const DoneEvent opened = c.open(1, id, true);
    ASSERT_EQ(opened.error, LedgerError::ok) << to_string(opened.error);
    const std::int64_t acked = c.log(0).max_acked();
    EXPECT_GE(opened.value, acked);
    if (opened.value > acked) ++beyond_lac;
    const auto m = c.metadata(id);
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->state(), CLOSED);
    EXPECT_EQ(m->last_entry_id(), opened.value);
    const auto journals = c.journals();
    for (std::int64_t e = 0; e <= opened.value; ++e) {
      EXPECT_GE(copies(journals, *m, id, e), 2u) << "entry " << e;
    }
  }
  // Coverage: some runs recovered entries the writer never acknowledged.
  EXPECT_GT(beyond_lac, 0);
}

// [SECTION] Zone-aware acknowledgement

// Bookies n1, n2 in zone 0 and n3 in zone 1; the writer in zone 2 reaches n3 slowly.
// Enforced, an entry waits for an ack from a second zone; best effort, it does not.
TEST(LedgerClientTest, EnforcedZoneAwareAcksSpanTwoZones) {
  auto run = [](bool enforce, std::vector<std::int64_t>* latencies) {
    ClusterSpec s = spec({0, 0, 1}, 1);
    s.zones = 3;
    s.client_zone = 2;
    Cluster c(s);
    c.start();
    const std::uint64_t id = c.create(0, options(3, 3, 2, PlacementPolicy::zone_aware, enforce));
    ASSERT_NE(id, 0u);
    c.world().network().clog({c.writer_id(0)}, {c.node("n3")}, 20 * kMs);
    c.writer(0).append(id, 20, 1 * kMs);
    ASSERT_TRUE(c.run_until([&] { return c.log(0).adds.size() == 20; }, kSec));
    expect_in_order(c.log(0), 20);
    for (const AddEvent& a : c.log(0).adds) {
      latencies->push_back(a.time_ns - c.log(0).appended_ns.at(a.result.token));
    }
  };
  std::vector<std::int64_t> enforced;
  std::vector<std::int64_t> best_effort;
  run(true, &enforced);
  run(false, &best_effort);
  ASSERT_EQ(enforced.size(), 20u);
  ASSERT_EQ(best_effort.size(), 20u);
  // Writer <-> n3: 1.5 ms + 20 ms each way.
  EXPECT_GE(*std::min_element(enforced.begin(), enforced.end()), 43 * kMs);
  EXPECT_LT(*std::max_element(best_effort.begin(), best_effort.end()), 10 * kMs);
}

}  // namespace
}  // namespace streamlab::storage
