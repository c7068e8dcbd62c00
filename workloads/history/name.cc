#include "workloads/history/name.h"

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "base/assert.h"

namespace streamlab::workloads {

namespace {

// Texts by number in fixed blocks that never move: str() reads without the lock while
// another thread interns (a block's pointer is published with release after its text is
// written, and a number is handed out only after that).
constexpr std::uint32_t kBlockBits = 12;
constexpr std::uint32_t kBlockSize = 1u << kBlockBits;
constexpr std::uint32_t kMaxBlocks = 1u << 16;  // 268 million names.

struct Table {
  std::mutex mutex;
  std::array<std::atomic<std::string*>, kMaxBlocks> blocks{};
  std::vector<std::unique_ptr<std::string[]>> owned;
  std::unordered_map<std::string_view, std::uint32_t> numbers;  // Views into the blocks.
  std::uint32_t next = 1;  // 0 is the empty name.

  Table() {
    owned.push_back(std::make_unique<std::string[]>(kBlockSize));
    blocks[0].store(owned.back().get(), std::memory_order_release);
  }
};

Table& table() {
  static Table* const t = new Table();  // Never destroyed: names outlive static destructors.
  return *t;
}

}  // namespace

Name::Name(std::string_view text) {
  if (text.empty()) return;
  Table& t = table();
  const std::lock_guard lock(t.mutex);
  if (const auto it = t.numbers.find(text); it != t.numbers.end()) {
    id_ = it->second;
    return;
  }
  const std::uint32_t id = t.next;
  const std::uint32_t block = id >> kBlockBits;
  SL_ASSERT_MSG(block < kMaxBlocks, "too many distinct names in the history");
  if (block == t.owned.size()) {
    t.owned.push_back(std::make_unique<std::string[]>(kBlockSize));
    t.blocks[block].store(t.owned.back().get(), std::memory_order_release);
  }
  std::string& slot = t.owned[block][id & (kBlockSize - 1)];
  slot = text;
  t.numbers.emplace(slot, id);
  t.next = id + 1;
  id_ = id;
}

const std::string& Name::str() const {
  static const std::string kEmpty;
  if (id_ == 0) return kEmpty;
  const std::string* block = table().blocks[id_ >> kBlockBits].load(std::memory_order_acquire);
  return block[id_ & (kBlockSize - 1)];
}

}  // namespace streamlab::workloads
