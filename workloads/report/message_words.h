#pragma once

// A message on the wire, in a few words, for the event log and the timeline: the
// envelope's body type and its small fields, with payloads shown by their size
// ("add_entry {ledger_id: 7 entry_id: 3 lac: 2 payload: <1034 bytes>}").

#include <cstdint>
#include <span>
#include <string>

#include "workloads/scenario/scenario_config.h"

namespace streamlab::workloads {

// How `system`'s nodes frame their messages (its adapter's parse_message) decides how the
// bytes are read; bytes that do not parse are "<N bytes, not a message>".
std::string describe_message(SystemKind system, std::span<const std::uint8_t> bytes);
// Just the body's type, e.g. "add_entry" or "send": a span's name on the timeline.
std::string message_kind(SystemKind system, std::span<const std::uint8_t> bytes);

}  // namespace streamlab::workloads
