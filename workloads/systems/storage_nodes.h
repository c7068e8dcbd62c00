#pragma once

// What the two storage-backed systems (bookkeeper, pulsar) share: the metadata store and
// bookie nodes, and the files their checkers read (the store's log, each bookie's files).

#include <algorithm>
#include <cstdint>
#include <functional>
#include <iterator>
#include <map>
#include <span>
#include <string>

#include "base/result.h"
#include "sim/world.h"
#include "workloads/scenario/scenario_config.h"
#include "broker/storage/ledger_client.h"
#include "workloads/systems/knobs.h"
#include "workloads/systems/node_files.h"

namespace streamlab::workloads {

void install_storage(const BookKeeperSystemConfig& bk, sim::World& world);

// The ledgers' knobs, as the writers (bookkeeper) or the brokers (pulsar) hold them.
void storage_knobs(const storage::LedgerOptions& options, const storage::LedgerClientConfig& client,
                   Knobs& k);

struct StorageViews {
  std::span<const std::uint8_t> metadata_log;
  std::map<std::string, storage::BookieFiles> bookie_files;  // By bookie name.
};
Result<StorageViews> storage_views(const ScenarioConfig& config, NodeFiles& files);

// A node's name for the checkers' examples; saved histories may name processes that are
// no node of the topology.
std::function<std::string(std::uint32_t)> process_names(const ScenarioConfig& config);

// Every file's ops, stable-sorted by time, so a process's ops keep their order.
template <typename T>
Result<std::vector<T>> merged_history(const std::vector<std::string>& paths,
                                      Result<std::vector<T>> (*read)(const std::string&)) {
  std::vector<T> ops;
  for (const std::string& path : paths) {
    Result<std::vector<T>> one = read(path);
    if (!one) return Error{one.error()};
    ops.insert(ops.end(), std::make_move_iterator(one.value().begin()),
               std::make_move_iterator(one.value().end()));
  }
  std::stable_sort(ops.begin(), ops.end(),
                   [](const T& a, const T& b) { return a.time_ns < b.time_ns; });
  return ops;
}

}  // namespace streamlab::workloads
