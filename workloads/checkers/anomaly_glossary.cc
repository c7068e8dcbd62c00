#include "workloads/checkers/anomaly_glossary.h"

#include <algorithm>
#include <iterator>

namespace streamlab::workloads {

namespace {

struct Meaning {
  std::string_view anomaly;
  std::string_view meaning;
};

// workloads/counter_checker.h
constexpr Meaning kCounter[] = {
    {"lost-write", "an add acknowledged ok is not in the server's log"},
    {"duplicate", "an add appears in the server's log more than once"},
    {"unexpected", "the server's log holds an add no client ever invoked"},
    {"not-recovered",
     "in a liveness run, an add invoked after the recovery deadline did not complete ok"},
};

// workloads/ledger_checker.h
constexpr Meaning kLedger[] = {
    {"lost-write",
     "an append acknowledged ok is not in its ledger as a reader finds it: the ledger is "
     "gone or no log lists it, it was closed before the entry, no bookie of the entry's write "
     "set holds it, or the entry holds another append"},
    {"duplicate", "one append appears at more than one place in the logs' ledgers"},
    {"unexpected", "a ledger holds an append no writer invoked"},
    {"split-brain",
     "an append was acknowledged to a writer although it was invoked after another writer's "
     "recovery of that ledger had completed, or a log's ledger was followed by the next while "
     "still open: two writers accepted at once"},
};

// workloads/queue_checker.h
constexpr Meaning kQueue[] = {
    {"lost-write",
     "a send acknowledged ok whose message is nowhere in its partition's log, or whose "
     "acknowledged position holds another message; or a transaction's commit that returned "
     "ok while one of its acknowledged messages is invisible (its partition has no commit "
     "marker of it) or the transaction was aborted somewhere"},
    {"duplicate",
     "a message stored at more than one position of its partition's log that readers are "
     "given (one per extra copy), or one input a pipeline transformed twice: two visible "
     "output messages made from it"},
    {"duplicate-delivery",
     "a message delivered to a subscription after that subscription had acknowledged it"},
    {"unseen",
     "a message acknowledged and stored (in a transaction: and committed), yet never delivered "
     "to any subscription of its topic (recent sends and commits, still in flight, excepted)"},
    {"poll-skip",
     "exclusive and failover subscriptions: a consumer's consecutive first-time deliveries "
     "jumped over a message the subscription never received"},
    {"nonmonotonic-poll",
     "exclusive and failover subscriptions: a first-time delivery came from a log position "
     "before the previous first-time delivery's to the same consumer"},
    {"nonmonotonic-send",
     "consecutive acknowledged sends of one producer to one partition are stored in the "
     "opposite order"},
    {"inconsistent-offsets", "one log position was reported for two different messages"},
    {"unexpected",
     "the log holds a message no send invoked, or an entry that is neither a batch nor a "
     "transaction's control entry"},
    {"split-brain",
     "a broker acknowledged a send for a ledger after another broker had acknowledged one for "
     "a later ledger of the same partition: two owners accepted writes at once"},
    {"G1a",
     "aborted read: a consumer was given a message of a transaction that did not commit in its "
     "partition (an abort marker, or no marker at all, there)"},
    {"partial-txn",
     "a transaction committed in one partition and aborted in another, or a subscription got "
     "some but not all of a committed transaction's messages on the topics it reads (recent "
     "commits excepted)"},
};

template <std::size_t N>
std::string_view find(const Meaning (&table)[N], std::string_view anomaly) {
  const auto it = std::find_if(std::begin(table), std::end(table),
                               [&](const Meaning& m) { return m.anomaly == anomaly; });
  return it == std::end(table) ? std::string_view() : it->meaning;
}

}  // namespace

template <std::size_t N>
std::vector<std::string> names(const Meaning (&table)[N]) {
  std::vector<std::string> out;
  for (const Meaning& m : table) out.emplace_back(m.anomaly);
  return out;
}

std::vector<std::string> checker_anomalies(std::string_view checker) {
  if (checker == "counter") return names(kCounter);
  if (checker == "ledger") return names(kLedger);
  if (checker == "queue") return names(kQueue);
  return {};
}

std::string_view anomaly_meaning(std::string_view checker, std::string_view anomaly) {
  if (checker == "counter") return find(kCounter, anomaly);
  if (checker == "ledger") return find(kLedger, anomaly);
  if (checker == "queue") return find(kQueue, anomaly);
  return {};
}

}  // namespace streamlab::workloads
