// The metadata store and its client together in a simulated world: compare-and-set,
// sessions kept alive and expired, ephemeral keys, watches, recovery from the log after a
// crash, a torn tail, a failing disk and a partition.

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "broker/storage/metadata_client.h"
#include "broker/storage/metadata_state.h"
#include "broker/storage/metadata_store.h"
#include "broker/storage/record_log.h"
#include "broker/storage/wire.h"
#include "tests/sim/test_world.h"

namespace streamlab::storage {
namespace {

using sim::test_util::kMs;
using sim::test_util::kSec;
using sim::test_util::make_topology;

constexpr NodeId kStore = 0;
constexpr NodeId kA = 1;
constexpr NodeId kB = 2;

// What a client node saw, owned by the test so it outlives crashed actors.
struct ClientRecord {
  std::vector<SessionEvent> sessions;
  std::vector<std::pair<std::string, bool>> watches;  // (key, deleted)
};

class TestClient final : public Node {
 public:
  TestClient(Runtime& runtime, MetadataClientConfig config, ClientRecord& record)
      : client_(runtime, std::move(config)), record_(record) {}

  void on_start() override {
    client_.start([this](SessionEvent e) { record_.sessions.push_back(e); },
                  [this](const WatchEvent& w) {
                    record_.watches.emplace_back(w.key(), w.deleted());
                  });
  }
  void on_message(NodeId from, std::span<const std::uint8_t> bytes) override {
    StorageMessage message;
    if (parse_message(bytes, &message)) client_.handle(from, message);
  }
  void on_connection_broken(NodeId peer) override { client_.on_connection_broken(peer); }

  MetadataClient& client() { return client_; }

 private:
  MetadataClient client_;
  ClientRecord& record_;
};

using Op = std::function<void(MetadataClient&, MetaCallback)>;

class MetadataTest : public ::testing::Test {
 protected:
  MetadataTest() : world_(make_topology({0, 0, 0}, {0}), /*seed=*/7) {
    client_config_.store = "n0";
    client_config_.session_timeout_ns = 300 * kMs;
    client_config_.request_timeout_ns = 500 * kMs;
    world_.set_factory(kStore, [this](Runtime& rt) {
      return std::make_unique<MetadataStore>(rt, store_config_);
    });
    for (const NodeId n : {kA, kB}) {
      world_.set_factory(n, [this, n](Runtime& rt) {
        return std::make_unique<TestClient>(rt, client_config_, records_[n]);
      });
    }
  }

  void start() {
    world_.start();
    run_for(50 * kMs);
    ASSERT_TRUE(store().serving());
    ASSERT_TRUE(client(kA).has_session());
    ASSERT_TRUE(client(kB).has_session());
  }
  void run_for(std::int64_t ns) { world_.run_until(world_.kernel().now() + ns); }
  MetadataStore& store() { return *dynamic_cast<MetadataStore*>(world_.actor(kStore)); }
  MetadataClient& client(NodeId n) { return dynamic_cast<TestClient*>(world_.actor(n))->client(); }

  // Issues one request and runs the world until it completes.
  MetaResult call(NodeId n, const Op& op) {
    auto result = std::make_shared<std::optional<MetaResult>>();
    op(client(n), [result](const MetaResult& r) {
      EXPECT_FALSE(result->has_value()) << "completed twice";
      *result = r;
    });
    EXPECT_FALSE(result->has_value()) << "completed inside the call that issued it";
    for (int i = 0; i < 2000 && !result->has_value(); ++i) run_for(kMs);
    EXPECT_TRUE(result->has_value()) << "never completed";
    return result->value_or(MetaResult{});
  }
  MetaResult create(NodeId n, const std::string& key, const std::string& value,
                    bool ephemeral = false) {
    return call(n, [&](MetadataClient& c, MetaCallback done) {
      c.create(key, value, ephemeral, std::move(done));
    });
  }
  MetaResult get(NodeId n, const std::string& key, bool watch = false) {
    return call(n, [&](MetadataClient& c, MetaCallback done) {
      c.get(key, watch, std::move(done));
    });
  }
  MetaResult set(NodeId n, const std::string& key, const std::string& value, std::int64_t v) {
    return call(n, [&](MetadataClient& c, MetaCallback done) {
      c.set(key, value, v, std::move(done));
    });
  }
  MetaResult remove(NodeId n, const std::string& key, std::int64_t v) {
    return call(n, [&](MetadataClient& c, MetaCallback done) {
      c.remove(key, v, std::move(done));
    });
  }

  MetadataStoreConfig store_config_;
  MetadataClientConfig client_config_;
  std::map<NodeId, ClientRecord> records_;
  sim::World world_;
};

// [SECTION] Keys

TEST_F(MetadataTest, CompareAndSetFollowsVersions) {
  start();
  EXPECT_EQ(create(kA, "/k", "a").status, META_OK);
  EXPECT_EQ(create(kB, "/k", "b").status, KEY_EXISTS);
  EXPECT_EQ(set(kA, "/k", "x", 5).status, BAD_VERSION);
  const MetaResult first = set(kA, "/k", "b", 0);
  EXPECT_EQ(first.status, META_OK);
  EXPECT_EQ(first.version, 1);
  EXPECT_EQ(set(kB, "/k", "c", -1).version, 2);
  const MetaResult read = get(kB, "/k");
  EXPECT_EQ(read.status, META_OK);
  EXPECT_EQ(read.value, "c");
  EXPECT_EQ(read.version, 2);
  EXPECT_EQ(remove(kA, "/k", 1).status, BAD_VERSION);
  EXPECT_EQ(remove(kA, "/k", 2).status, META_OK);
  EXPECT_EQ(get(kA, "/k").status, NO_KEY);
  EXPECT_EQ(set(kA, "/k", "d", -1).status, NO_KEY);
  EXPECT_EQ(remove(kA, "/k", -1).status, NO_KEY);
}

TEST_F(MetadataTest, ListReturnsSortedKeysUnderPrefix) {
  start();
  for (const char* key : {"/a/2", "/b/1", "/a/1", "/a"}) {
    ASSERT_EQ(create(kA, key, "").status, META_OK);
  }
  const MetaResult listed =
      call(kB, [](MetadataClient& c, MetaCallback done) { c.list("/a/", std::move(done)); });
  EXPECT_EQ(listed.status, META_OK);
  EXPECT_EQ(listed.keys, (std::vector<std::string>{"/a/1", "/a/2"}));
}

TEST_F(MetadataTest, WatchIsOneShotAndFiresOnCreateOfAbsentKey) {
  start();
  EXPECT_EQ(get(kB, "/w", /*watch=*/true).status, NO_KEY);
  ASSERT_EQ(create(kA, "/w", "1").status, META_OK);
  run_for(5 * kMs);
  ASSERT_EQ(set(kA, "/w", "2", -1).status, META_OK);  // No watch left: nothing fires.
  run_for(5 * kMs);
  EXPECT_EQ(records_[kB].watches, (std::vector<std::pair<std::string, bool>>{{"/w", false}}));
  EXPECT_TRUE(records_[kA].watches.empty());
}

// [SECTION] Sessions

TEST_F(MetadataTest, RequestWithoutSessionCompletesLaterWithSessionExpired) {
  world_.start();  // The clients' on_start has not run yet: no session.
  EXPECT_EQ(get(kA, "/k").status, SESSION_EXPIRED);
}

TEST_F(MetadataTest, HeartbeatsKeepEphemeralKeyAliveForManyTimeouts) {
  start();
  const std::uint64_t session = client(kA).session_id();
  ASSERT_EQ(create(kA, "/lock", "a", /*ephemeral=*/true).status, META_OK);
  run_for(20 * client_config_.session_timeout_ns);
  EXPECT_EQ(get(kB, "/lock").status, META_OK);
  EXPECT_EQ(client(kA).session_id(), session);
  EXPECT_EQ(records_[kA].sessions, std::vector<SessionEvent>{SessionEvent::established});
}

TEST_F(MetadataTest, PausedClientLosesSessionAndEphemeralKeyWatcherIsTold) {
  start();
  const std::uint64_t old_session = client(kA).session_id();
  ASSERT_EQ(create(kA, "/lock", "a", /*ephemeral=*/true).status, META_OK);
  ASSERT_EQ(get(kB, "/lock", /*watch=*/true).status, META_OK);
  world_.pause(kA, 2 * kSec);
  run_for(kSec);
  EXPECT_EQ(records_[kB].watches, (std::vector<std::pair<std::string, bool>>{{"/lock", true}}));
  EXPECT_EQ(get(kB, "/lock").status, NO_KEY);
  EXPECT_FALSE(store().state().sessions.contains(old_session));

  run_for(1500 * kMs);  // A resumes, heartbeats with its old session, and is told.
  EXPECT_EQ(records_[kA].sessions,
            (std::vector<SessionEvent>{SessionEvent::established, SessionEvent::expired,
                                       SessionEvent::established}));
  EXPECT_TRUE(client(kA).has_session());
  EXPECT_GT(client(kA).session_id(), old_session);
  EXPECT_EQ(create(kA, "/lock", "again", /*ephemeral=*/true).status, META_OK);
}

// [SECTION] Durability and recovery

TEST_F(MetadataTest, StoreRestartKeepsKeysAndGivesSessionsAFreshTimeout) {
  start();
  ASSERT_EQ(create(kA, "/p", "persistent").status, META_OK);
  ASSERT_EQ(create(kA, "/e", "ephemeral", /*ephemeral=*/true).status, META_OK);
  const std::uint64_t session_a = client(kA).session_id();
  const std::uint64_t session_b = client(kB).session_id();
  world_.crash(kA);  // Nobody heartbeats for A's session any more.
  world_.crash(kStore);
  run_for(2 * kSec);  // Far beyond the session timeout, but the store was down.
  world_.restart(kStore);
  run_for(20 * kMs);
  ASSERT_TRUE(store().serving());
  EXPECT_TRUE(store().state().sessions.contains(session_a));
  EXPECT_EQ(get(kB, "/e").value, "ephemeral");
  EXPECT_EQ(get(kB, "/p").value, "persistent");

  run_for(client_config_.session_timeout_ns);  // A's restored session times out afresh.
  EXPECT_FALSE(store().state().sessions.contains(session_a));
  EXPECT_EQ(get(kB, "/e").status, NO_KEY);
  EXPECT_EQ(get(kB, "/p").status, META_OK);
  // B kept heartbeating through the outage: disconnected is not expired.
  EXPECT_EQ(client(kB).session_id(), session_b);
  EXPECT_EQ(records_[kB].sessions, std::vector<SessionEvent>{SessionEvent::established});
}

std::vector<std::uint8_t> framed(const MetaLogRecord& record) {
  std::vector<std::uint8_t> body(record.ByteSizeLong());
  record.SerializeToArray(body.data(), static_cast<int>(body.size()));
  std::vector<std::uint8_t> out;
  append_framed(body, out);
  return out;
}

MetaLogRecord opened(std::uint64_t id, std::uint32_t owner) {
  MetaLogRecord r;
  r.mutable_session_opened()->set_session_id(id);
  r.mutable_session_opened()->set_owner(owner);
  r.mutable_session_opened()->set_timeout_ns(kSec);
  return r;
}

MetaLogRecord put(const std::string& key, std::int64_t version, std::uint64_t owner) {
  MetaLogRecord r;
  r.mutable_put()->set_key(key);
  r.mutable_put()->set_value("v" + std::to_string(version));
  r.mutable_put()->set_version(version);
  r.mutable_put()->set_ephemeral_owner(owner);
  return r;
}

TEST(MetadataStateTest, ReplayAppliesRecordsAndStopsAtTornTail) {
  std::vector<std::uint8_t> log;
  MetaLogRecord removed;
  removed.set_removed("/e");
  MetaLogRecord closed;
  closed.set_session_closed(3);
  for (const MetaLogRecord& r : {opened(3, 1), opened(9, 2), put("/e", 0, 3), put("/k", 0, 0),
                                 put("/k", 1, 0), removed, closed}) {
    const std::vector<std::uint8_t> bytes = framed(r);
    log.insert(log.end(), bytes.begin(), bytes.end());
  }
  const std::size_t whole = log.size();
  const std::vector<std::uint8_t> torn = framed(put("/lost", 0, 0));
  log.insert(log.end(), torn.begin(), torn.end() - 3);

  const ReplayedLog replayed = replay_metadata_log(log);
  EXPECT_EQ(replayed.valid_bytes, whole);
  EXPECT_EQ(replayed.state.max_session_id, 9u);
  EXPECT_FALSE(replayed.state.sessions.contains(3));
  EXPECT_EQ(replayed.state.sessions.at(9).owner, 2u);
  EXPECT_EQ(replayed.state.keys.size(), 1u);
  EXPECT_EQ(replayed.state.keys.at("/k").version, 1);
  EXPECT_EQ(replayed.state.keys.at("/k").value, "v1");

  // A record that does not fit the state (a misdirected write) changes nothing.
  MetadataState state = replayed.state;
  state.apply(removed);
  state.apply(closed);
  EXPECT_EQ(state.keys.size(), 1u);
  EXPECT_EQ(state.sessions.size(), 1u);
}

TEST_F(MetadataTest, TornTailIsCutAndSessionIdsAreNeverReused) {
  std::vector<std::uint8_t> log = framed(opened(5, kA));
  const std::vector<std::uint8_t> key = framed(put("/k", 0, 0));
  log.insert(log.end(), key.begin(), key.end());
  const std::size_t whole = log.size();
  const std::vector<std::uint8_t> torn = framed(put("/lost", 0, 0));
  log.insert(log.end(), torn.begin(), torn.begin() + 7);
  world_.disk(kStore).write(kMetadataLogFile, 0, log, [](IoStatus) {});
  world_.disk(kStore).fsync(kMetadataLogFile, [](IoStatus) {});
  run_for(kMs);
  ASSERT_EQ(world_.disk(kStore).durable_contents(kMetadataLogFile).size(), log.size());

  start();
  EXPECT_GT(client(kA).session_id(), 5u);
  EXPECT_GT(client(kB).session_id(), 5u);
  EXPECT_EQ(get(kA, "/k").version, 0);
  EXPECT_EQ(get(kA, "/lost").status, NO_KEY);
  ASSERT_EQ(create(kB, "/after", "x").status, META_OK);

  // The new records follow the intact prefix, so the whole log replays.
  const std::vector<std::uint8_t> now = world_.disk(kStore).durable_contents(kMetadataLogFile);
  const ReplayedLog replayed = replay_metadata_log(now);
  EXPECT_GT(now.size(), whole);
  EXPECT_EQ(replayed.valid_bytes, now.size());
  EXPECT_TRUE(replayed.state.keys.contains("/after"));
  EXPECT_FALSE(replayed.state.keys.contains("/lost"));
}

TEST_F(MetadataTest, FailedWriteStopsRepliesThenStoreRecovers) {
  start();
  ASSERT_EQ(get(kB, "/x", /*watch=*/true).status, NO_KEY);
  world_.disk(kStore).faults().full = true;
  EXPECT_EQ(create(kA, "/x", "lost").status, CONNECTION_LOSS);
  world_.disk(kStore).faults().full = false;
  run_for(200 * kMs);
  ASSERT_TRUE(store().serving());
  // The change may have reached the log, so the watcher is told once more; here it did not.
  EXPECT_EQ(records_[kB].watches, (std::vector<std::pair<std::string, bool>>{{"/x", true}}));
  EXPECT_EQ(get(kA, "/x").status, NO_KEY);
  EXPECT_EQ(create(kA, "/x", "kept").status, META_OK);
  EXPECT_EQ(records_[kA].sessions, std::vector<SessionEvent>{SessionEvent::established});
}

TEST_F(MetadataTest, RecoveringStoreAnswersNotReadyWhichTheClientRetries) {
  start();
  ASSERT_EQ(create(kA, "/k", "v").status, META_OK);
  world_.crash(kStore);
  world_.disk(kStore).faults().read_error_probability = 1.0;
  world_.restart(kStore);
  run_for(100 * kMs);
  EXPECT_FALSE(store().serving());
  // Retried on NOT_READY until the request timeout: the caller never sees NOT_READY.
  EXPECT_EQ(get(kA, "/k").status, CONNECTION_LOSS);
  auto late = std::make_shared<std::optional<MetaResult>>();
  client(kA).get("/k", false, [late](const MetaResult& r) { *late = r; });
  run_for(100 * kMs);
  world_.disk(kStore).faults().read_error_probability = 0;
  run_for(300 * kMs);
  ASSERT_TRUE(late->has_value());
  EXPECT_EQ((*late)->value, "v");
  EXPECT_EQ(records_[kA].sessions, std::vector<SessionEvent>{SessionEvent::established});
}

// [SECTION] Network

TEST_F(MetadataTest, RequestsDuringPartitionCompleteWithConnectionLoss) {
  client_config_.session_timeout_ns = 3 * kSec;
  start();
  ASSERT_EQ(create(kA, "/k", "v").status, META_OK);
  const sim::FaultHandle cut = world_.network().partition({kA}, {kStore}, /*one_way=*/false);
  EXPECT_EQ(get(kA, "/k").status, CONNECTION_LOSS);
  EXPECT_EQ(set(kA, "/k", "w", -1).status, CONNECTION_LOSS);
  EXPECT_TRUE(client(kA).has_session());
  world_.network().remove(cut);
  run_for(client_config_.session_timeout_ns / 3);  // A heartbeat gets through.
  EXPECT_EQ(get(kA, "/k").value, "v");
  EXPECT_EQ(records_[kA].sessions, std::vector<SessionEvent>{SessionEvent::established});
}

}  // namespace
}  // namespace streamlab::storage
