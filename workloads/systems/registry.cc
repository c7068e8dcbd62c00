#include "workloads/systems/registry.h"

#include <array>

#include "base/assert.h"

namespace streamlab::workloads {

const SystemAdapter& system_adapter(SystemKind kind) {
  // One line per system, in SystemKind's order.
  static const std::array<const SystemAdapter*, 3> adapters = {
      &counter_adapter(), &bookkeeper_adapter(), &pulsar_adapter()};
  const auto index = static_cast<std::size_t>(kind);
  SL_ASSERT_LT(index, adapters.size());
  const SystemAdapter& adapter = *adapters[index];
  SL_ASSERT_EQ(adapter.kind(), kind);
  return adapter;
}

}  // namespace streamlab::workloads
