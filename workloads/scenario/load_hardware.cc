#include <filesystem>
#include <fstream>
#include <sstream>

#include "workloads/scenario/load_sections.h"

namespace streamlab::workloads {

namespace {

constexpr Work kWorks[] = {Work::send,           Work::receive,     Work::produce,
                           Work::publish,        Work::journal_append, Work::entry_write,
                           Work::entry_read,     Work::dispatch,    Work::consume};
static_assert(std::size(kWorks) == kWorkKinds);

void apply_disk(const scenario::Disk& d, const Place& dp, LoadContext& ctx,
                sim::DiskProfile* disk) {
  disk->write_bytes_per_s = ctx.bandwidth(d.write(), dp.at("write"), "write", disk->write_bytes_per_s);
  disk->read_bytes_per_s = ctx.bandwidth(d.read(), dp.at("read"), "read", disk->read_bytes_per_s);
  if (d.iops() > 0) disk->iops = static_cast<std::int64_t>(d.iops());
  disk->fsync_latency_ns = ctx.duration(d.fsync(), dp.at("fsync"), "fsync", disk->fsync_latency_ns);
  disk->capacity_bytes = ctx.bytes(d.capacity(), dp.at("capacity"), "capacity", disk->capacity_bytes);
  disk->writeback_delay_ns =
      ctx.duration(d.writeback(), dp.at("writeback"), "writeback", disk->writeback_delay_ns);
  if (disk->capacity_bytes == 0) ctx.error(dp.at("capacity"), "capacity must be > 0");
  if (disk->write_bytes_per_s <= 0) ctx.error(dp.at("write"), "write must be > 0");
  if (disk->read_bytes_per_s <= 0) ctx.error(dp.at("read"), "read must be > 0");
}

void apply_costs(const scenario::Hardware& in, const Place& place, LoadContext& ctx,
                 sim::CpuProfile* cpu) {
  bool seen[kWorkKinds] = {};
  for (int i = 0; i < in.cost_size(); ++i) {
    const scenario::WorkCost& c = in.cost(i);
    const Place cp = place.nested("cost", c, i);
    const Work* work = std::find_if(std::begin(kWorks), std::end(kWorks),
                                    [&](Work w) { return c.work() == to_string(w); });
    if (work == std::end(kWorks)) {
      std::string names;
      for (const Work w : kWorks) names += std::string(names.empty() ? "" : ", ") + to_string(w);
      ctx.error(cp.at("work"), "work: unknown kind \"" + c.work() + "\"; known: " + names);
      continue;
    }
    const auto k = static_cast<std::size_t>(*work);
    if (seen[k]) ctx.error(cp.at("work"), "work: \"" + c.work() + "\" is costed twice");
    seen[k] = true;
    sim::WorkCost& cost = cpu->of(*work);
    cost.per_message_ns =
        ctx.duration(c.per_message(), cp.at("per_message"), "per_message", cost.per_message_ns);
    cost.per_byte_ps = ctx.picoseconds(c.per_byte(), cp.at("per_byte"), "per_byte", cost.per_byte_ps);
  }
}

// The settings `in` states, over what `hw` has already.
void apply_hardware(const scenario::Hardware& in, const Place& place, LoadContext& ctx,
                    sim::HardwareProfile* hw) {
  if (in.cores() > 0) hw->cpu.cores = in.cores();
  sim::WorkCost& receive = hw->cpu.of(Work::receive);
  receive.per_message_ns = ctx.duration(in.message_cost(), place.at("message_cost"),
                                        "message_cost", receive.per_message_ns);
  receive.per_byte_ps =
      ctx.picoseconds(in.byte_cost(), place.at("byte_cost"), "byte_cost", receive.per_byte_ps);
  apply_costs(in, place, ctx, &hw->cpu);
  hw->nic_bytes_per_s = ctx.bandwidth(in.nic(), place.at("nic"), "nic", hw->nic_bytes_per_s);
  if (hw->nic_bytes_per_s <= 0) ctx.error(place.at("nic"), "nic must be > 0");
  if (in.has_disk()) apply_disk(in.disk(), place.nested("disk", in.disk()), ctx, &hw->disk);
  if (in.has_journal_disk()) {
    // A journal device starts as a second one of the main disk, then takes what is stated.
    if (!hw->journal_disk.has_value()) hw->journal_disk = hw->disk;
    const Place jp = place.nested("journal_disk", in.journal_disk());
    for (const char* field : {"capacity", "writeback"}) {
      const auto* fd = in.journal_disk().GetDescriptor()->FindFieldByName(field);
      if (in.journal_disk().GetReflection()->HasField(in.journal_disk(), fd)) {
        ctx.error(jp.at(field), std::string(field) +
                                    ": the main disk's counts for the journal's device too");
      }
    }
    apply_disk(in.journal_disk(), jp, ctx, &*hw->journal_disk);
  }
  if (in.journal() == "shared") {
    hw->journal_disk.reset();
  } else if (in.journal() == "dedicated") {
    if (!hw->journal_disk.has_value()) hw->journal_disk = hw->disk;
  } else if (!in.journal().empty()) {
    ctx.error(place.at("journal"),
              "journal: expected \"shared\" or \"dedicated\", got \"" + in.journal() + "\"");
  }
}

void apply_profile_file(const std::string& name, int line, LoadContext& ctx,
                        sim::HardwareProfile* hw) {
  const std::filesystem::path path =
      std::filesystem::path(ctx.file()).parent_path() / std::filesystem::path(name);
  std::ifstream file(path);
  if (!file) {
    ctx.error(line, "profile: cannot read \"" + path.string() + "\"");
    return;
  }
  std::stringstream text;
  text << file.rdbuf();
  LoadContext file_ctx(path.string());
  scenario::Hardware in;
  google::protobuf::TextFormat::ParseInfoTree tree;
  if (parse_text(text.str(), &in, &tree, file_ctx)) {
    const Place root{&in, &tree, 0};
    if (!in.profile().empty()) {
      file_ctx.error(root.at("profile"), "profile: a hardware file cannot name another");
    }
    apply_hardware(in, root, file_ctx, hw);
  }
  ctx.absorb(file_ctx);
}

}  // namespace

sim::HardwareProfile load_hardware(const scenario::Hardware& in, const Place& place,
                                   LoadContext& ctx) {
  sim::HardwareProfile hw;
  if (!in.profile().empty()) apply_profile_file(in.profile(), place.at("profile"), ctx, &hw);
  apply_hardware(in, place, ctx, &hw);
  hw.name = in.name();
  return hw;
}

}  // namespace streamlab::workloads
