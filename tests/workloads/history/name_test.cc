// Interned names (workloads/history/name.h): equal texts are one name, names order and
// hash by their text whatever order they were first seen in, and names made on several
// threads at once stay intact.

#include "workloads/history/name.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

namespace streamlab::workloads {
namespace {

TEST(Name, EqualTextsAreOneNameAndTheEmptyNameIsTheDefault) {
  const Name a("producer-1");
  const std::string text = "producer-1";
  EXPECT_EQ(a, Name(text));
  EXPECT_EQ(a, "producer-1");
  EXPECT_EQ(a.str(), text);
  EXPECT_NE(a, Name("producer-2"));
  EXPECT_TRUE(Name().empty());
  EXPECT_EQ(Name(""), Name());
  EXPECT_EQ(Name().str(), "");
  EXPECT_EQ("client-" + Name("a") + "-p0", "client-a-p0");
}

// Seen first "zeta" then "alpha": numbers go by first sight, order goes by text.
TEST(Name, OrdersAndHashesByTextNotByWhenItWasFirstSeen) {
  const Name zeta("zeta-order-test");
  const Name alpha("alpha-order-test");
  EXPECT_LT(alpha, zeta);
  std::map<Name, int> by_name{{zeta, 1}, {alpha, 2}};
  EXPECT_EQ(by_name.begin()->first, alpha);
  EXPECT_EQ(std::hash<Name>()(alpha), std::hash<std::string>()("alpha-order-test"));
  std::unordered_set<Name> set{alpha, zeta, Name("alpha-order-test")};
  EXPECT_EQ(set.size(), 2u);
}

TEST(Name, NamesMadeOnManyThreadsAtOnceStayIntact) {
  constexpr int kThreads = 4;
  constexpr int kNames = 20'000;  // Past several of the table's blocks.
  std::vector<std::vector<Name>> made(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &made] {
      for (int i = 0; i < kNames; ++i) {
        // Half the texts every thread makes, half its own.
        made[t].push_back(Name(i % 2 == 0 ? "shared-" + std::to_string(i)
                                          : "own-" + std::to_string(t) + "-" + std::to_string(i)));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kNames; ++i) {
      const std::string want = i % 2 == 0 ? "shared-" + std::to_string(i)
                                          : "own-" + std::to_string(t) + "-" + std::to_string(i);
      ASSERT_EQ(made[t][i].str(), want);
      if (i % 2 == 0) ASSERT_EQ(made[t][i], made[0][i]);
    }
  }
}

}  // namespace
}  // namespace streamlab::workloads
