// The simulated disk's write and fsync path: a node appends 4 KiB records to a log,
// fsyncing every `sync_every` writes. items_per_second = completed writes per second of
// wall time.

#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "runtime/runtime.h"
#include "sim/world.h"

namespace streamlab::sim {
namespace {

class Appender final : public Node {
 public:
  Appender(Runtime& rt, std::uint64_t sync_every, std::uint64_t* writes)
      : rt_(rt), sync_every_(sync_every), writes_(writes) {}
  void on_start() override { append(); }
  void on_message(NodeId, std::span<const std::uint8_t>) override {}
  void on_connection_broken(NodeId) override {}

 private:
  void append() {
    rt_.disk_write("log", offset_, record_, [this](IoStatus) {
      offset_ += record_.size();
      // Wrap around so the file stays small: the benchmark measures the path, not memory.
      if (offset_ >= (64u << 20)) offset_ = 0;
      if (++*writes_ % sync_every_ == 0) {
        rt_.disk_fsync("log", [this](IoStatus) { append(); });
      } else {
        append();
      }
    });
  }

  Runtime& rt_;
  std::uint64_t sync_every_;
  std::uint64_t* writes_;
  std::uint64_t offset_ = 0;
  std::vector<std::uint8_t> record_ = std::vector<std::uint8_t>(4096, 1);
};

void BM_disk_write_fsync(benchmark::State& state) {
  Topology t;
  t.regions.push_back({"r"});
  t.zones.push_back({"a", 0});
  t.nodes.push_back(NodeSpec{"n0", "", 0, {}, 0, 0});
  World world(t, 1);
  std::uint64_t writes = 0;
  const auto sync_every = static_cast<std::uint64_t>(state.range(0));
  world.set_factory(0, [&writes, sync_every](Runtime& rt) {
    return std::make_unique<Appender>(rt, sync_every, &writes);
  });
  world.start();
  for (auto _ : state) {
    world.kernel().step();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(writes));
  state.SetBytesProcessed(static_cast<std::int64_t>(writes * 4096));
}
BENCHMARK(BM_disk_write_fsync)->Arg(1)->Arg(16);

}  // namespace
}  // namespace streamlab::sim
