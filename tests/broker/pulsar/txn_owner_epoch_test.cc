// Transactions at the broker (REFERENCE.md "Pulsar transactions (PIP-31)"): owner epochs,
// Kafka's transactional.id fencing of zombies. A new instance of an owner fences the
// earlier one and aborts its open transaction, the epochs survive a coordinator failover,
// and with fencing off a stale epoch is accepted (the unsafe mode).

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "broker/pulsar/wire.h"
#include "tests/broker/pulsar/txn_world.h"

namespace streamlab::pulsar {
namespace {

// ---- Owner epochs ---------------------------------------------------------------------------

// Kafka's transactional.id fencing: a new instance of "app" takes a higher epoch; the
// old epoch is refused and its open transaction is aborted.
TEST_F(TxnTest, ANewOwnerEpochFencesTheEarlierInstanceAndAbortsItsTxn) {
  take_coordinator(kBrokerA, 1);
  create_producer(kBrokerA, "t", 1, "p", 2);
  subscribe(kBrokerA, "t", "s", 7, 3, 100);
  run_for(300 * kMs);
  init_owner(kBrokerA, 10, "app");
  run_for(300 * kMs);
  const std::optional<TxnResponse> first = txn_response(10);
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first->error(), NO_ERROR);
  const std::uint64_t e1 = first->epoch();
  new_txn(kBrokerA, 11, kLongTimeoutNs, "app", e1);
  run_for(300 * kMs);
  const std::optional<TxnResponse> opened = txn_response(11);
  ASSERT_TRUE(opened.has_value());
  ASSERT_EQ(opened->error(), NO_ERROR);
  const TxnId zombie = opened->txn();
  add_part(kBrokerA, 12, zombie, "t", "", e1);
  run_for(300 * kMs);
  ASSERT_EQ(txn_error(12), NO_ERROR);
  publish_txn(kBrokerA, 1, "p", 0, zombie);
  run_for(300 * kMs);

  init_owner(kBrokerA, 20, "app");
  run_for(500 * kMs);
  const std::optional<TxnResponse> second = txn_response(20);
  ASSERT_TRUE(second.has_value());
  ASSERT_EQ(second->error(), NO_ERROR);
  const std::uint64_t e2 = second->epoch();
  EXPECT_GT(e2, e1);

  new_txn(kBrokerA, 21, kLongTimeoutNs, "app", e1);
  end_txn(kBrokerA, 22, zombie, true, e1);
  end_txn(kBrokerA, 23, zombie, true, e2);
  new_txn(kBrokerA, 24, kLongTimeoutNs, "app", e2);
  publish_txn(kBrokerA, 1, "p", 1, zombie);
  publish(kBrokerA, 1, "p", 2);
  run_for(500 * kMs);
  EXPECT_EQ(txn_error(21), TXN_FENCED);
  EXPECT_EQ(txn_error(22), TXN_FENCED);
  EXPECT_EQ(txn_error(23), TXN_NOT_OPEN) << "the second init aborted it";
  EXPECT_EQ(txn_error(24), NO_ERROR);
  EXPECT_EQ(send_errors(1), std::vector<ServerError>{TXN_NOT_OPEN});
  EXPECT_EQ(delivered(7), Payloads{"m2"});
}

TEST_F(TxnTest, WithoutZombieFencingAStaleTxnEpochIsAccepted) {
  BrokerConfig unsafe;
  unsafe.txn_zombie_fencing = false;
  log_.clear();
  build_with_transactions(unsafe);
  take_coordinator(kBrokerA, 1);
  create_producer(kBrokerA, "t", 1, "p", 2);
  subscribe(kBrokerA, "t", "s", 7, 3, 100);
  run_for(300 * kMs);
  init_owner(kBrokerA, 10, "app");
  run_for(300 * kMs);
  const std::uint64_t e1 = txn_response(10).value_or(TxnResponse{}).epoch();
  new_txn(kBrokerA, 11, kLongTimeoutNs, "app", e1);
  run_for(300 * kMs);
  const TxnId zombie = txn_response(11).value_or(TxnResponse{}).txn();
  add_part(kBrokerA, 12, zombie, "t", "", e1);
  run_for(300 * kMs);
  publish_txn(kBrokerA, 1, "p", 0, zombie);
  run_for(300 * kMs);
  init_owner(kBrokerA, 20, "app");
  run_for(500 * kMs);
  EXPECT_EQ(txn_error(20), NO_ERROR);

  new_txn(kBrokerA, 21, kLongTimeoutNs, "app", e1);
  end_txn(kBrokerA, 22, zombie, true, e1);
  run_for(500 * kMs);
  EXPECT_EQ(txn_error(21), NO_ERROR) << "the stale epoch is accepted: that is the zombie";
  EXPECT_EQ(txn_error(22), NO_ERROR) << "the zombie's transaction commits";
  EXPECT_EQ(delivered(7), Payloads{"m0"});
}

// The epochs are in the coordinator's log: the next coordinator keeps fencing.
TEST_F(TxnTest, OwnerEpochsSurviveACoordinatorFailover) {
  take_coordinator(kBrokerA, 1);
  init_owner(kBrokerA, 10, "app");
  run_for(300 * kMs);
  init_owner(kBrokerA, 11, "app");
  run_for(300 * kMs);
  const std::uint64_t e2 = txn_response(11).value_or(TxnResponse{}).epoch();
  ASSERT_EQ(txn_error(11), NO_ERROR);

  world_->crash(kBrokerA);
  run_for(3 * kSec);
  take_coordinator(kBrokerB, 20);
  ASSERT_EQ(lookup_response(20).value_or(LookupResponse{}).broker(), "n5");
  new_txn(kBrokerB, 21, kLongTimeoutNs, "app", e2 - 1);
  new_txn(kBrokerB, 22, kLongTimeoutNs, "app", e2);
  init_owner(kBrokerB, 23, "app");
  run_for(500 * kMs);
  EXPECT_EQ(txn_error(21), TXN_FENCED);
  EXPECT_EQ(txn_error(22), NO_ERROR);
  EXPECT_EQ(txn_error(23), NO_ERROR);
  EXPECT_GT(txn_response(23).value_or(TxnResponse{}).epoch(), e2);
}

}  // namespace
}  // namespace streamlab::pulsar
