#pragma once

// The process's resident memory, for run budgets. Read from the OS: it decides only
// whether a run stops as a runaway, never anything inside the simulation.

#include <cstdint>

namespace streamlab::workloads {

// Resident set size in bytes; 0 when the OS does not say.
std::uint64_t resident_bytes();

}  // namespace streamlab::workloads
