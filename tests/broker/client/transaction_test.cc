// Acks inside transactions against a scripted fake broker whose fake coordinator takes
// every request: a batch is one entry and is acked inside one transaction, whole.

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "tests/broker/client/client_world.h"

namespace streamlab::client::test {
namespace {

using M = pulsar::PulsarMessage;

constexpr std::int64_t kConnectNs = 5 * kMs;

TxnRef begin(ClientWorld& w) {
  std::optional<TxnRef> txn;
  w.client().begin_transaction(10 * kSec, [&](TxnError e, TxnRef t) {
    EXPECT_EQ(e, TxnError::ok);
    txn = t;
  });
  w.run_for(kMs);
  EXPECT_TRUE(txn.has_value());
  return txn.value_or(kNoTxn);
}

std::vector<pulsar::TxnEnd> ends(const Script& script) {
  std::vector<pulsar::TxnEnd> out;
  for (const BrokerEvent& e : script.of(M::kTxnEnd)) out.push_back(e.message.txn_end());
  return out;
}

TEST(ClientTransactions, ABatchAckedInPartCannotCommitAndComesBack) {
  ClientWorld w;
  w.script().store("t", entry_of("prod", 0, {"a", "b"}));
  w.start();
  Consumer& c = w.consumer(consumer_config("t"));
  c.receive();
  w.run_for(kConnectNs);
  ASSERT_EQ(w.received().size(), 2u);
  const TxnRef txn = begin(w);
  std::optional<TxnError> acked;
  c.acknowledge(w.received()[0].id, txn, [&](TxnError e) { acked = e; });
  std::optional<TxnError> committed;
  w.client().commit(txn, [&](TxnError e) { committed = e; });
  w.run_for(5 * kMs);
  EXPECT_EQ(acked, TxnError::ok);
  // The entry's ack never went out, so the transaction holds nothing of it: it aborts.
  EXPECT_EQ(committed, TxnError::failed);
  EXPECT_TRUE(w.script().of(M::kAck).empty());
  const std::vector<pulsar::TxnEnd> e = ends(w.script());
  ASSERT_EQ(e.size(), 1u);
  EXPECT_FALSE(e[0].commit());
  // And the batch comes back whole for the next transaction.
  const auto redelivers = w.script().of(M::kRedeliver);
  ASSERT_EQ(redelivers.size(), 1u);
  EXPECT_EQ(redelivers[0].message.redeliver().message_ids(0).entry_id(), 0);
}

TEST(ClientTransactions, ABatchAckedInOneTransactionCommitsWithIt) {
  ClientWorld w;
  w.script().store("t", entry_of("prod", 0, {"a", "b"}));
  w.start();
  Consumer& c = w.consumer(consumer_config("t"));
  c.receive();
  w.run_for(kConnectNs);
  ASSERT_EQ(w.received().size(), 2u);
  const TxnRef txn = begin(w);
  c.acknowledge(w.received()[0].id, txn, [](TxnError) {});
  c.acknowledge(w.received()[1].id, txn, [](TxnError) {});
  std::optional<TxnError> committed;
  w.client().commit(txn, [&](TxnError e) { committed = e; });
  w.run_for(5 * kMs);
  EXPECT_EQ(committed, TxnError::ok);
  const auto a = w.script().of(M::kAck);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].message.ack().txn().least(), txn.least);
  const std::vector<pulsar::TxnEnd> e = ends(w.script());
  ASSERT_EQ(e.size(), 1u);
  EXPECT_TRUE(e[0].commit());
}

TEST(ClientTransactions, ABatchPartlyAckedByAnOpenTransactionConflictsInAnother) {
  ClientWorld w;
  w.script().store("t", entry_of("prod", 0, {"a", "b"}));
  w.start();
  Consumer& c = w.consumer(consumer_config("t"));
  c.receive();
  w.run_for(kConnectNs);
  ASSERT_EQ(w.received().size(), 2u);
  const TxnRef first = begin(w);
  const TxnRef second = begin(w);
  c.acknowledge(w.received()[0].id, first, [](TxnError) {});
  std::optional<TxnError> other;
  c.acknowledge(w.received()[1].id, second, [&](TxnError e) { other = e; });
  w.run_for(5 * kMs);
  EXPECT_EQ(other, TxnError::conflict);
  EXPECT_TRUE(w.script().of(M::kAck).empty());
}

}  // namespace
}  // namespace streamlab::client::test
