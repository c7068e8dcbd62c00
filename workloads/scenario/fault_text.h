#pragma once

// Scheduled faults back to scenario text: the inverse of the loader's fault section
// (load_faults.cc), so that a swarm's draw can be written out as scripted faults that
// run exactly the same (times to the nanosecond, nodes and zones by name, every field the
// loader reads).

#include <string>

#include "sim/faults.h"
#include "sim/topology.h"
#include "workloads/scenario/scenario.pb.h"

namespace streamlab::workloads {

// `fault` must name nodes and zones of `topology`. Loading the result gives back `fault`
// field for field, except its origin (a scripted fault's origin is its line).
scenario::Fault fault_to_proto(const sim::Fault& fault, const sim::Topology& topology);

// The same as one scenario line, "fault { at: ... }", to append to a scenario's text.
std::string fault_line(const sim::Fault& fault, const sim::Topology& topology);

}  // namespace streamlab::workloads
