#include "workloads/run/saved_run.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "broker/demo/counter_log.h"
#include "broker/storage/bookie.h"
#include "broker/storage/metadata_state.h"
#include "workloads/checkers/counter_checker.h"
#include "workloads/history/history_io.h"
#include "workloads/checkers/ledger_checker.h"
#include "workloads/checkers/queue_checker.h"
#include "workloads/history/queue_history_io.h"

namespace streamlab::workloads {

namespace {

namespace fs = std::filesystem;

Result<std::vector<std::uint8_t>> read_node_file(const std::string& dir, const std::string& node,
                                                 const char* file) {
  const std::string path = (fs::path(dir) / node / file).string();
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read " + path + " (" + node + "'s file)"};
  std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in),
                                  std::istreambuf_iterator<char>()};
  if (in.bad()) return Error{"cannot read " + path};
  return bytes;
}

// Every file's ops, stable-sorted by time, so a process's ops keep their order.
template <typename T>
Result<std::vector<T>> merged(const std::vector<std::string>& paths,
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

// The storage layer's files: the metadata store's log and each bookie's journal.
struct StorageFiles {
  std::vector<std::uint8_t> metadata_log;
  std::map<std::string, std::vector<std::uint8_t>> journals;
};

Result<StorageFiles> read_storage(const ScenarioConfig& config, const std::string& dir) {
  const auto name = [&config](std::uint32_t id) { return config.topology.nodes[id].name; };
  StorageFiles files;
  Result<std::vector<std::uint8_t>> log =
      read_node_file(dir, name(config.bookkeeper.metadata), storage::kMetadataLogFile);
  if (!log) return Error{log.error()};
  files.metadata_log = std::move(log.value());
  for (const std::uint32_t b : config.bookkeeper.bookies) {
    Result<std::vector<std::uint8_t>> journal = read_node_file(dir, name(b), storage::kJournalFile);
    if (!journal) return Error{journal.error()};
    files.journals[name(b)] = std::move(journal.value());
  }
  return files;
}

}  // namespace

Result<std::monostate> save_node_files(sim::World& world, const ScenarioConfig& config,
                                       const std::string& dir) {
  for (std::uint32_t n = 0; n < world.node_count(); ++n) {
    const sim::SimDisk& disk = world.disk(n);
    for (const std::string& file : disk.file_names()) {
      const fs::path node_dir = fs::path(dir) / config.topology.nodes[n].name;
      std::error_code ec;
      fs::create_directories(node_dir, ec);
      if (ec) return Error{"cannot create " + node_dir.string() + ": " + ec.message()};
      const std::span<const std::uint8_t> bytes = disk.view(file);
      std::ofstream out(node_dir / file, std::ios::binary | std::ios::trunc);
      out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
      if (!out) return Error{"cannot write " + (node_dir / file).string()};
    }
  }
  return std::monostate{};
}

Result<CheckResult> check_saved_run(const ScenarioConfig& config,
                                    const std::vector<std::string>& histories,
                                    const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Error{dir + ": no such directory"};
  const auto process_name = [&config](std::uint32_t id) {
    return id < config.topology.nodes.size() ? config.topology.nodes[id].name
                                             : "process " + std::to_string(id);
  };
  switch (config.system) {
    case SystemKind::counter: {
      Result<std::vector<Op>> ops = merged<Op>(histories, read_counter_history);
      if (!ops) return Error{ops.error()};
      Result<std::vector<std::uint8_t>> log = read_node_file(
          dir, config.topology.nodes[config.counter.server].name, demo::kCounterLogFile);
      if (!log) return Error{log.error()};
      CounterCheckInput input;
      input.history = &ops.value();
      input.server_log = log.value();
      input.process_name = process_name;
      input.duration_ns = config.duration_ns;
      // As the run judged it (scenario_runner.cc): liveness runs must recover in time.
      if (config.has_swarm && config.swarm.liveness) {
        std::int64_t max_timeout_ns = 0;
        for (const ClientSpec& c : config.clients) {
          max_timeout_ns = std::max(max_timeout_ns, c.config.timeout_ns);
        }
        input.recover_by_ns = config.swarm.stop_ns + config.recovery_bound_ns;
        input.settle_by_ns = config.duration_ns - max_timeout_ns;
      }
      return check_counter(input);
    }
    case SystemKind::bookkeeper: {
      Result<std::vector<LedgerOp>> ops = merged<LedgerOp>(histories, read_ledger_history);
      if (!ops) return Error{ops.error()};
      Result<StorageFiles> files = read_storage(config, dir);
      if (!files) return Error{files.error()};
      LedgerCheckInput input;
      input.history = &ops.value();
      input.metadata_log = files.value().metadata_log;
      for (const auto& [name, bytes] : files.value().journals) input.journals[name] = bytes;
      input.process_name = process_name;
      input.duration_ns = config.duration_ns;
      return check_ledgers(input);
    }
    case SystemKind::pulsar: {
      Result<std::vector<QueueOp>> ops = merged<QueueOp>(histories, read_queue_history);
      if (!ops) return Error{ops.error()};
      Result<StorageFiles> files = read_storage(config, dir);
      if (!files) return Error{files.error()};
      QueueCheckInput input;
      input.history = &ops.value();
      input.metadata_log = files.value().metadata_log;
      for (const auto& [name, bytes] : files.value().journals) input.journals[name] = bytes;
      input.process_name = process_name;
      input.duration_ns = config.duration_ns;
      input.topics = config.pulsar.topics;
      input.subscriptions = config.pulsar.subscriptions;
      return check_queue(input);
    }
  }
  return Error{"unknown system"};
}

}  // namespace streamlab::workloads
