#pragma once

// What a bookie's simulated disk holds, read from its files as its restart would
// (broker/storage/bookie_files.h): for the bookie and ledger client tests.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "broker/storage/bookie_files.h"
#include "sim/disk.h"

namespace streamlab::storage {

// durable: what would survive a crash now, rather than what a reader sees.
inline JournalContents stored_on_disk(const sim::SimDisk& disk, bool durable = false) {
  std::map<std::string, std::vector<std::uint8_t>> bytes;
  for (const std::string& name : disk.file_names()) {
    bytes[name] = durable ? disk.durable_contents(name) : disk.contents(name);
  }
  return read_bookie_files(std::move(bytes));
}

}  // namespace streamlab::storage
