#include "viz/knobs.h"

#include <google/protobuf/text_format.h>

#include "broker/storage/ledger_rules.h"
#include "workloads/scenario/units.h"
#include "workloads/systems/system_adapter.h"

namespace streamlab::viz {

namespace {

std::string on_off(bool on) { return on ? "on" : "off"; }

void append(std::string& out, const std::string& part) {
  if (!out.empty()) out += ", ";
  out += part;
}

}  // namespace

Knobs knobs_of(const workloads::ScenarioConfig& config) {
  return workloads::system_adapter(config.system).knobs(config);
}

Result<std::string> apply_knobs(const scenario::Scenario& scenario, const Knobs& knobs) {
  scenario::Scenario out = scenario;
  scenario::System* system = out.mutable_system();
  if (knobs.has_storage) {
    const std::string rule = storage::check_quorums(
        storage::Quorums{knobs.ensemble, knobs.write_quorum, knobs.ack_quorum});
    if (!rule.empty()) return Error{rule};
    scenario::BookKeeperSystem* bk = system->has_pulsar()
                                         ? system->mutable_pulsar()->mutable_storage()
                                         : system->mutable_bookkeeper();
    bk->set_ensemble(knobs.ensemble);
    bk->set_write_quorum(knobs.write_quorum);
    bk->set_ack_quorum(knobs.ack_quorum);
    bk->set_journal_sync_data(knobs.fsync);
    bk->set_recovery_fencing(knobs.recovery_fencing);
    bk->set_enforce_placement(knobs.enforce_placement);
  } else if (system->has_counter()) {
    system->mutable_counter()->set_fsync(knobs.fsync);
  }
  if (knobs.has_dedup && system->has_pulsar()) system->mutable_pulsar()->set_dedup(knobs.dedup);
  if (knobs.has_producers) {
    for (scenario::Producer& p : *out.mutable_workload()->mutable_producer()) {
      p.set_batching_max_delay(workloads::format_duration_ns(knobs.linger_ns));
    }
  }
  google::protobuf::TextFormat::Printer printer;
  std::string text;
  if (!printer.PrintToString(out, &text)) return Error{"cannot print the scenario"};
  return text;
}

std::string describe_change(const Knobs& from, const Knobs& to) {
  std::string out;
  if (from.ensemble != to.ensemble) append(out, "E=" + std::to_string(to.ensemble));
  if (from.write_quorum != to.write_quorum) append(out, "Qw=" + std::to_string(to.write_quorum));
  if (from.ack_quorum != to.ack_quorum) append(out, "Qa=" + std::to_string(to.ack_quorum));
  if (from.fsync != to.fsync) append(out, "fsync " + on_off(to.fsync));
  if (from.linger_ns != to.linger_ns) {
    append(out, "linger " + workloads::format_duration_ns(to.linger_ns));
  }
  if (from.dedup != to.dedup) append(out, "dedup " + on_off(to.dedup));
  if (from.recovery_fencing != to.recovery_fencing) {
    append(out, "fencing " + on_off(to.recovery_fencing));
  }
  if (from.enforce_placement != to.enforce_placement) {
    append(out, "placement " + std::string(to.enforce_placement ? "enforced" : "best effort"));
  }
  return out;
}

}  // namespace streamlab::viz
