#include "workloads/capacity/omb_workload.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <type_traits>
#include <variant>
#include <vector>

#include "base/assert.h"

namespace streamlab::workloads {

namespace {

using Target = std::variant<std::string OmbWorkload::*, bool OmbWorkload::*,
                            std::uint32_t OmbWorkload::*, std::uint64_t OmbWorkload::*,
                            double OmbWorkload::*, OmbKeyDistributor OmbWorkload::*>;

struct Field {
  std::string_view key;
  Target target;
  // OMB reads an absent key as Java's 0; where 0 makes the run fail or never end, the key
  // is required. (consumerPerSubscription is required unless subscriptionsPerTopic is 0.)
  bool required;
};

// The fields of OMB's Workload.java. producerStartRate and producerIncrementRate come from
// the versions of it that ramp the rate up instead of holding it.
const std::array<Field, 18> kFields = {{
    {"name", &OmbWorkload::name, true},
    {"topics", &OmbWorkload::topics, true},
    {"partitionsPerTopic", &OmbWorkload::partitions_per_topic, true},
    {"messageSize", &OmbWorkload::message_size, true},
    {"payloadFile", &OmbWorkload::payload_file, false},
    {"useRandomizedPayloads", &OmbWorkload::use_randomized_payloads, false},
    {"randomBytesRatio", &OmbWorkload::random_bytes_ratio, false},
    {"randomizedPayloadPoolSize", &OmbWorkload::randomized_payload_pool_size, false},
    {"subscriptionsPerTopic", &OmbWorkload::subscriptions_per_topic, true},
    {"producersPerTopic", &OmbWorkload::producers_per_topic, true},
    {"consumerPerSubscription", &OmbWorkload::consumer_per_subscription, false},
    {"producerRate", &OmbWorkload::producer_rate, false},
    {"producerStartRate", &OmbWorkload::producer_start_rate, false},
    {"producerIncrementRate", &OmbWorkload::producer_increment_rate, false},
    {"consumerBacklogSizeGB", &OmbWorkload::consumer_backlog_size_gb, false},
    {"testDurationMinutes", &OmbWorkload::test_duration_minutes, true},
    {"warmupDurationMinutes", &OmbWorkload::warmup_duration_minutes, false},
    {"keyDistributor", &OmbWorkload::key_distributor, false},
}};

// Real OMB settings that OmbWorkload has no place for: named as such, so a file that uses
// them fails loudly instead of running a different experiment than it says.
constexpr std::string_view kUnsupported[] = {"backlogDrainRatio", "messageSizeDistribution"};

constexpr std::string_view kDistributors[] = {"NO_KEY", "KEY_ROUND_ROBIN", "RANDOM_NANO"};

constexpr std::string_view kKeyChars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_";

// Where each key was set, so later checks can point at it.
using KeyLines = std::map<std::string, int, std::less<>>;

// Errors as "file:line: message", in the order found.
struct Report {
  const std::string& file;
  std::vector<std::string> errors;
  void add(int line, const std::string& message) {
    errors.push_back(file + ":" + std::to_string(line) + ": " + message);
  }
};

std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// The text of the quoted scalar that opens `s`. No escapes ('' or backslashes): OMB's
// strings are file names and labels, and a strict reader never half-understands one.
Result<std::string> unquote(std::string_view s) {
  const std::size_t close = s.find(s.front(), 1);
  if (close == std::string_view::npos) return Error{"unterminated string " + std::string(s)};
  const std::string_view body = s.substr(1, close - 1);
  if (s.front() == '"' && body.find('\\') != std::string_view::npos) {
    return Error{"escapes are not supported in " + std::string(s)};
  }
  const std::string_view rest = trim(s.substr(close + 1));
  if (!rest.empty() && rest.front() != '#') {
    return Error{"unexpected text after the closing quote: " + std::string(rest)};
  }
  return std::string(body);
}

// The scalar after "key:", without quotes or a trailing comment.
Result<std::string> scalar(std::string_view s) {
  if (s.empty() || s.front() == '#') {
    return Error{"no value (nested maps and lists are not supported)"};
  }
  if (s.front() == '"' || s.front() == '\'') return unquote(s);
  if (std::string_view("[]{}&*!|>%@`-").find(s.front()) != std::string_view::npos &&
      !(s.front() == '-' && s.size() > 1 && s[1] != ' ')) {
    return Error{"lists, flow maps, anchors, tags and block scalars are not supported"};
  }
  // YAML: a comment starts at a '#' that follows a space.
  if (const auto hash = s.find(" #"); hash != std::string_view::npos) s = trim(s.substr(0, hash));
  if (s.find(": ") != std::string_view::npos) return Error{"quote a value that contains \": \""};
  if (s == "~" || s == "null" || s == "Null" || s == "NULL") return Error{"null is not a value"};
  return std::string(s);
}

// A count is digits only, as OMB's int fields take it; a rate, size or duration may be a
// decimal (1.5, 1.5e5).
Result<double> number(const std::string& text, bool whole) {
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  const bool digits = text.find_first_not_of("-0123456789") == std::string::npos;
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v) ||
      (whole && !digits)) {
    return Error{std::string(whole ? "expected a whole number" : "expected a number like 1.5e5") +
                 ", got " + quoted(text)};
  }
  if (v < 0) return Error{"must not be negative, got " + text};
  return v;
}

// Stores `text` in the field `target` names; returns an error message, empty on success.
std::string assign(const Target& target, const std::string& text, OmbWorkload* w) {
  const auto store = [&](auto member) -> std::string {
    auto& out = w->*member;
    using T = std::remove_reference_t<decltype(out)>;
    if constexpr (std::is_same_v<T, std::string>) {
      out = text;
    } else if constexpr (std::is_same_v<T, bool>) {
      if (text != "true" && text != "false") return "expected true or false, got " + quoted(text);
      out = text == "true";
    } else if constexpr (std::is_same_v<T, OmbKeyDistributor>) {
      const auto it = std::find(std::begin(kDistributors), std::end(kDistributors), text);
      if (it == std::end(kDistributors)) {
        return "expected NO_KEY, KEY_ROUND_ROBIN or RANDOM_NANO, got " + quoted(text);
      }
      out = static_cast<T>(it - std::begin(kDistributors));
    } else {  // A count, or a double. Beyond 1e15 is no real workload, and inexact.
      const Result<double> r = number(text, !std::is_same_v<T, double>);
      if (!r) return r.error();
      const double max = std::min(static_cast<double>(std::numeric_limits<T>::max()), 1e15);
      if (r.value() > max) {
        return "too large (at most " + std::to_string(std::uint64_t(max)) + "), got " + text;
      }
      out = static_cast<T>(r.value());
    }
    return "";
  };
  return std::visit(store, target);
}

std::string unknown_key(std::string_view key) {
  for (const std::string_view u : kUnsupported) {
    if (key == u) return std::string(key) + ": an OMB setting streamlab does not model yet";
  }
  std::string known;
  for (const Field& f : kFields) known += (known.empty() ? "" : ", ") + std::string(f.key);
  return "unknown key \"" + std::string(key) + "\"; known keys: " + known;
}

// One line that is neither blank nor a comment: "key: value", flush left.
void read_line(std::string_view raw, int line, OmbWorkload* w, KeyLines* lines, Report* report) {
  const auto fail = [&](const std::string& message) { report->add(line, message); };
  if (raw.find('\t') != std::string_view::npos) {
    return fail("tab in " + quoted(raw) + "; YAML indents and separates with spaces");
  }
  if (raw.front() == ' ') {
    return fail("indented line " + quoted(raw) + "; nested maps and lists are not supported");
  }
  const std::size_t colon = raw.find(':');
  const std::string_view key = raw.substr(0, colon);
  // YAML: a mapping's ':' is followed by a space or the end of the line.
  const bool word = !key.empty() && key.find_first_not_of(kKeyChars) == std::string_view::npos;
  if (!word || (colon + 1 < raw.size() && raw[colon + 1] != ' ')) {
    return fail("expected \"key: value\", got " + quoted(raw));
  }
  const auto field =
      std::find_if(kFields.begin(), kFields.end(), [&](const Field& f) { return f.key == key; });
  if (field == kFields.end()) return fail(unknown_key(key));
  const auto [first, fresh] = lines->emplace(std::string(key), line);
  if (!fresh) {
    return fail(std::string(key) + ": duplicate key (first set on line " +
                std::to_string(first->second) + ")");
  }
  const Result<std::string> text = scalar(trim(raw.substr(colon + 1)));
  const std::string error = text ? assign(field->target, text.value(), w) : text.error();
  if (!error.empty()) fail(std::string(key) + ": " + error);
}

// Missing keys, values a run cannot use, and rules between keys; each as OMB's
// WorkloadGenerator has it.
void check(const OmbWorkload& w, const KeyLines& lines, Report* report) {
  for (const Field& f : kFields) {
    if (f.required && !lines.contains(f.key)) {
      report->add(1, "missing '" + std::string(f.key) + "'");
    }
  }
  if (lines.contains("subscriptionsPerTopic") && w.subscriptions_per_topic > 0 &&
      !lines.contains("consumerPerSubscription")) {
    report->add(1, "missing 'consumerPerSubscription' (needed when subscriptionsPerTopic > 0)");
  }
  // The line of `key`, else of `other`, else the first line.
  const auto at = [&](std::string_view key, std::string_view other = "") {
    auto it = lines.find(key);
    if (it == lines.end()) it = lines.find(other);
    return it == lines.end() ? 1 : it->second;
  };
  const auto positive = [&](std::string_view key, bool zero, const char* why) {
    if (lines.contains(key) && zero) {
      report->add(at(key), std::string(key) + ": must be > 0" + why);
    }
  };
  positive("topics", w.topics == 0, "");
  positive("partitionsPerTopic", w.partitions_per_topic == 0, "");
  positive("messageSize", w.message_size == 0, "");
  positive("producersPerTopic", w.producers_per_topic == 0, " (nothing would be produced)");
  positive("testDurationMinutes", w.test_duration_minutes == 0, " (OMB would run forever)");
  if (w.subscriptions_per_topic > 0) {
    positive("consumerPerSubscription", w.consumer_per_subscription == 0,
             " when subscriptionsPerTopic > 0 (OMB waits for every subscription to receive)");
  }
  if (!w.use_randomized_payloads && w.payload_file.empty()) {
    report->add(at("payloadFile", "useRandomizedPayloads"),
                "no payload: set payloadFile, or useRandomizedPayloads: true");
  }
  if (w.use_randomized_payloads && w.randomized_payload_pool_size == 0) {
    report->add(at("randomizedPayloadPoolSize", "useRandomizedPayloads"),
                "randomizedPayloadPoolSize: must be > 0 with useRandomizedPayloads: true");
  }
  if (w.random_bytes_ratio > 1) {
    report->add(at("randomBytesRatio"), "randomBytesRatio: must be <= 1 (a share of each payload)");
  }
  if (w.consumer_backlog_size_gb > 0 && w.producer_rate == 0) {
    report->add(at("consumerBacklogSizeGB"),
                "consumerBacklogSizeGB: needs a producerRate > 0 "
                "(OMB cannot probe the maximum rate while building a backlog)");
  }
  if (w.producer_increment_rate > 0 &&
      (w.producer_rate == 0 || w.producer_rate < w.producer_start_rate)) {
    report->add(at("producerIncrementRate"),
                "producerIncrementRate: ramps from producerStartRate "
                "up to producerRate, which must be > 0 and not below it");
  }
}

}  // namespace

Result<OmbWorkload> parse_omb_workload(std::string_view text, const std::string& file_name) {
  OmbWorkload w;
  w.file = file_name;
  KeyLines lines;
  Report report{file_name, {}};
  int line = 0;
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    std::string_view raw = text.substr(start, end - start);
    start = end + 1;
    ++line;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    const std::string_view content = trim(raw);  // Blank lines and comments say nothing.
    if (!content.empty() && content.front() != '#') read_line(raw, line, &w, &lines, &report);
  }
  check(w, lines, &report);
  if (report.errors.empty()) return w;
  std::string joined;
  for (const std::string& e : report.errors) joined += (joined.empty() ? "" : "\n") + e;
  return Error{joined};
}

Result<OmbWorkload> load_omb_workload(const std::string& path) {
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path + ": cannot read: " + std::strerror(errno)};
  std::string text;
  char buffer[4096];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) text.append(buffer, in.gcount());
  // A read error (the path is a directory, an I/O fault) sets badbit; end of file does not.
  if (in.bad()) return Error{path + ": cannot read: " + std::strerror(errno)};
  return parse_omb_workload(text, path);
}

const char* to_string(OmbKeyDistributor k) {
  const auto i = static_cast<std::size_t>(k);
  SL_ASSERT_MSG(i < std::size(kDistributors), "unknown OmbKeyDistributor");
  return kDistributors[i].data();
}

}  // namespace streamlab::workloads
