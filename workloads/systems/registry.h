#pragma once

// Each system's adapter (workloads/systems/<system>/), for registry.cc.

#include "workloads/systems/system_adapter.h"

namespace streamlab::workloads {

const SystemAdapter& counter_adapter();
const SystemAdapter& bookkeeper_adapter();
const SystemAdapter& pulsar_adapter();

}  // namespace streamlab::workloads
