#include "workloads/systems/storage_nodes.h"

#include "broker/storage/bookie.h"
#include "broker/storage/metadata_state.h"
#include "broker/storage/metadata_store.h"

namespace streamlab::workloads {

void install_storage(const BookKeeperSystemConfig& bk, sim::World& world) {
  const storage::MetadataStoreConfig store_config = bk.store;
  world.set_factory(bk.metadata, [store_config](Runtime& rt) {
    return std::make_unique<storage::MetadataStore>(rt, store_config);
  });
  const storage::BookieConfig bookie_config = bk.bookie;
  for (const std::uint32_t b : bk.bookies) {
    world.set_factory(b, [bookie_config](Runtime& rt) {
      return std::make_unique<storage::Bookie>(rt, bookie_config);
    });
  }
}

void storage_knobs(const storage::LedgerOptions& options, const storage::LedgerClientConfig& client,
                   Knobs& k) {
  k.has_storage = true;
  k.ensemble = options.quorums.ensemble;
  k.write_quorum = options.quorums.write_quorum;
  k.ack_quorum = options.quorums.ack_quorum;
  k.enforce_placement = options.placement.enforce;
  k.recovery_fencing = client.recovery_fencing;
}

Result<StorageViews> storage_views(const ScenarioConfig& config, NodeFiles& files) {
  StorageViews views;
  Result<std::span<const std::uint8_t>> log =
      files.file(config.bookkeeper.metadata, storage::kMetadataLogFile);
  if (!log) return Error{log.error()};
  views.metadata_log = log.value();
  for (const std::uint32_t b : config.bookkeeper.bookies) {
    Result<std::vector<std::string>> names = files.names(b);
    if (!names) return Error{names.error()};
    storage::BookieFiles& mine = views.bookie_files[config.topology.nodes[b].name];
    for (const std::string& name : names.value()) {
      Result<std::span<const std::uint8_t>> bytes = files.file(b, name);
      if (!bytes) return Error{bytes.error()};
      mine[name] = bytes.value();
    }
  }
  return views;
}

std::function<std::string(std::uint32_t)> process_names(const ScenarioConfig& config) {
  return [&config](std::uint32_t id) {
    return id < config.topology.nodes.size() ? config.topology.nodes[id].name
                                             : "process " + std::to_string(id);
  };
}

}  // namespace streamlab::workloads
