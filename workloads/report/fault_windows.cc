#include "workloads/report/fault_windows.h"

#include <algorithm>
#include <optional>
#include <string_view>

#include "base/assert.h"
#include "workloads/scenario/units.h"

namespace streamlab::workloads {

namespace {

// sim/faults.cc FaultInjector::heal_everything() logs this lift.
constexpr std::string_view kHealEverything = "heal everything";

constexpr std::string_view kInstants[] = {"connection_reset", "heal_network", "restart",
                                          "clock_jump", "zone_restore"};

// What ends a fault that stays until something heals it: an injection of `healer`, naming
// the same nodes or zone when `same_target`.
struct Healer {
  std::string_view fault;
  std::string_view healer;
  bool same_target;
};
constexpr Healer kHealers[] = {{"crash", "restart", true},
                               {"zone_kill", "zone_restore", true},
                               {"zone_isolate", "zone_restore", true},
                               {"partition", "heal_network", false},
                               {"clog", "heal_network", false}};

// "crash broker-a,broker-b wiping disks (f:3)" -> {"crash", "broker-a,broker-b"}: the kind,
// then what it hits, up to the parameters that follow it in FaultInjector::describe.
struct Subject {
  std::string kind;
  std::string target;
};

Subject subject_of(const std::string& text) {
  const std::string plain = without_origin(text);
  const std::size_t space = plain.find(' ');
  Subject s{plain.substr(0, space), ""};
  if (space == std::string::npos) return s;
  s.target = plain.substr(space + 1);
  for (const char* parameter : {" for ", " by ", " wiping"}) {
    const std::size_t at = s.target.find(parameter);
    if (at != std::string::npos) s.target.erase(at);
  }
  return s;
}

bool is_instant(const std::string& kind) {
  return std::find(std::begin(kInstants), std::end(kInstants), kind) != std::end(kInstants);
}

bool heals(const Subject& healer, const Subject& fault) {
  return std::any_of(std::begin(kHealers), std::end(kHealers), [&](const Healer& h) {
    return h.fault == fault.kind && h.healer == healer.kind &&
           (!h.same_target || healer.target == fault.target);
  });
}

// "pause broker-a for 15s (f:3)" -> 15 s.
std::optional<std::int64_t> pause_length_ns(const std::string& text) {
  const std::string plain = without_origin(text);
  const std::size_t at = plain.find(" for ");
  if (at == std::string::npos) return std::nullopt;
  const std::string length = plain.substr(at + 5, plain.find(' ', at + 5) - (at + 5));
  const Result<std::int64_t> ns = parse_duration_ns(length);
  if (!ns) return std::nullopt;
  return ns.value();
}

}  // namespace

std::string without_origin(const std::string& text) {
  const std::size_t open = text.rfind(" (");
  if (open == std::string::npos || text.empty() || text.back() != ')') return text;
  return text.substr(0, open);
}

std::vector<FaultWindow> fault_windows(const std::vector<sim::FaultLogEntry>& log,
                                       std::int64_t end_ns) {
  std::vector<FaultWindow> windows;
  std::vector<std::size_t> open;  // Windows not ended yet, as indexes into `windows`.
  const auto end_open = [&](std::size_t k, std::int64_t time_ns) {
    windows[open[k]].to_ns = time_ns;
    windows[open[k]].until_end = false;
    open.erase(open.begin() + static_cast<std::ptrdiff_t>(k));
  };
  for (std::size_t i = 0; i < log.size(); ++i) {
    const sim::FaultLogEntry& e = log[i];
    SL_ASSERT_GE(e.time_ns, 0);
    SL_ASSERT_LE(e.time_ns, end_ns);
    FaultWindow w{i, e.time_ns, e.time_ns, e.text, false};
    const Subject subject = subject_of(e.text);
    if (e.lifted) {
      const auto same = std::find_if(open.begin(), open.end(),
                                     [&](std::size_t o) { return windows[o].text == e.text; });
      if (same != open.end()) {
        end_open(static_cast<std::size_t>(same - open.begin()), e.time_ns);
      } else if (!is_instant(subject.kind)) {  // An instant's lift undoes nothing.
        if (e.text.rfind(kHealEverything, 0) == 0) {
          while (!open.empty()) end_open(0, e.time_ns);
        }
        windows.push_back(w);
      }
      continue;
    }
    for (std::size_t k = 0; k < open.size();) {
      if (heals(subject, subject_of(windows[open[k]].text))) {
        end_open(k, e.time_ns);
      } else {
        ++k;
      }
    }
    if (subject.kind == "pause") {
      if (const std::optional<std::int64_t> length = pause_length_ns(e.text)) {
        w.to_ns = std::min(end_ns, e.time_ns + *length);
      }
    } else if (!is_instant(subject.kind)) {
      w.to_ns = end_ns;
      w.until_end = true;
      open.push_back(windows.size());
    }
    windows.push_back(w);
  }
  return windows;
}

}  // namespace streamlab::workloads
