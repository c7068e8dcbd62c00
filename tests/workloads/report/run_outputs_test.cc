// What `streamlab run` writes for other tools: a Perfetto / Chrome trace-event timeline
// that parses and has the documented tracks and events, a Jepsen-shaped history, and the
// history plus node files that `streamlab check` judges again to the run's own verdict.

#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/command.h"
#include "tests/temp_path.h"

namespace {

using streamlab::test_util::Outcome;

Outcome run(const std::string& args) { return streamlab::test_util::run(STREAMLAB_BIN, args); }

std::string scenario(const std::string& name) {
  return std::string(STREAMLAB_SCENARIOS) + "/" + name;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A JSON value, just enough to walk a trace file.
struct Json {
  enum Kind { null, boolean, number, string, array, object } kind = null;
  double num = 0;
  std::string str;
  std::vector<Json> items;
  std::map<std::string, Json> fields;
};

// A strict recursive-descent parser; false on any syntax error.
class Parser {
 public:
  explicit Parser(const std::string& text) : s_(text) {}
  bool parse(Json* out) {
    if (!value(out)) return false;
    ws();
    return i_ == s_.size();
  }

 private:
  void ws() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool literal(const char* word) {
    const std::string w(word);
    if (s_.compare(i_, w.size(), w) != 0) return false;
    i_ += w.size();
    return true;
  }
  bool string_value(std::string* out) {
    if (i_ >= s_.size() || s_[i_] != '"') return false;
    ++i_;
    while (i_ < s_.size() && s_[i_] != '"') {
      if (static_cast<unsigned char>(s_[i_]) < 0x20) return false;
      if (s_[i_] == '\\') {
        ++i_;
        if (i_ >= s_.size()) return false;
        if (s_[i_] == 'u') i_ += 4;
      }
      out->push_back(s_[i_]);
      ++i_;
    }
    if (i_ >= s_.size()) return false;
    ++i_;
    return true;
  }
  bool value(Json* out) {
    ws();
    if (i_ >= s_.size()) return false;
    const char c = s_[i_];
    if (c == '{') {
      out->kind = Json::object;
      ++i_;
      ws();
      if (i_ < s_.size() && s_[i_] == '}') return ++i_, true;
      for (;;) {
        ws();
        std::string key;
        if (!string_value(&key)) return false;
        ws();
        if (i_ >= s_.size() || s_[i_++] != ':') return false;
        if (!value(&out->fields[key])) return false;
        ws();
        if (i_ < s_.size() && s_[i_] == ',') { ++i_; continue; }
        if (i_ < s_.size() && s_[i_] == '}') return ++i_, true;
        return false;
      }
    }
    if (c == '[') {
      out->kind = Json::array;
      ++i_;
      ws();
      if (i_ < s_.size() && s_[i_] == ']') return ++i_, true;
      for (;;) {
        out->items.emplace_back();
        if (!value(&out->items.back())) return false;
        ws();
        if (i_ < s_.size() && s_[i_] == ',') { ++i_; continue; }
        if (i_ < s_.size() && s_[i_] == ']') return ++i_, true;
        return false;
      }
    }
    if (c == '"') {
      out->kind = Json::string;
      return string_value(&out->str);
    }
    if (literal("true") || literal("false")) return out->kind = Json::boolean, true;
    if (literal("null")) return true;
    const char* start = s_.c_str() + i_;
    char* end = nullptr;
    out->num = std::strtod(start, &end);
    out->kind = Json::number;
    i_ += static_cast<std::size_t>(end - start);
    return end != start;
  }

  const std::string& s_;
  std::size_t i_ = 0;
};

TEST(RunOutputs, TraceIsAChromeTraceEventTimeline) {
  const std::string path = streamlab::test_util::unique_temp_path("run.trace.json");
  const Outcome o = run("run " + scenario("ledger-fencing.unsafe.textproto") + " --trace " + path);
  ASSERT_EQ(o.exit_code, 0) << o.out;
  EXPECT_TRUE(contains(o.out, "trace      " + path)) << o.out;
  Json doc;
  ASSERT_TRUE(Parser(read_file(path)).parse(&doc)) << "the trace must be valid JSON";
  ASSERT_EQ(doc.kind, Json::object);
  const Json& events = doc.fields["traceEvents"];
  ASSERT_EQ(events.kind, Json::array);
  std::set<std::string> tracks;
  std::map<std::string, int> phases;
  std::map<double, int> open_spans;
  bool fsync = false, fault = false, note = false, counter = false;
  for (const Json& e : events.items) {
    ASSERT_EQ(e.kind, Json::object);
    const std::string ph = e.fields.at("ph").str;
    ++phases[ph];
    ASSERT_TRUE(e.fields.contains("pid"));
    if (ph == "M") {
      if (e.fields.at("name").str == "process_name") tracks.insert(e.fields.at("args").fields.at("name").str);
      continue;
    }
    ASSERT_EQ(e.fields.at("ts").kind, Json::number);
    EXPECT_GE(e.fields.at("ts").num, 0);
    if (ph == "b") ++open_spans[e.fields.at("id").num];
    if (ph == "e") --open_spans[e.fields.at("id").num];
    const std::string name = e.fields.contains("name") ? e.fields.at("name").str : "";
    fsync = fsync || (ph == "b" && name.rfind("fsync journal", 0) == 0);
    fault = fault || (ph == "i" && e.fields.at("s").str == "g" && contains(name, "inject pause"));
    note = note || (ph == "i" && e.fields.at("cat").str == "note");
    counter = counter || ph == "C";
  }
  EXPECT_TRUE(tracks.contains("writer-1 (ledger-writer)"));
  EXPECT_TRUE(tracks.contains("bookie-2 (bookie)"));
  EXPECT_GT(phases["b"], 1000);
  EXPECT_EQ(phases["b"], phases["e"]);
  for (const auto& [id, open] : open_spans) EXPECT_EQ(open, 0) << "span " << id;
  EXPECT_TRUE(fsync);
  EXPECT_TRUE(fault);
  EXPECT_TRUE(note);
  EXPECT_TRUE(counter);
}

TEST(RunOutputs, HistoryInJepsensShape) {
  const std::string path = streamlab::test_util::unique_temp_path("run.history.edn");
  const Outcome o =
      run("run " + scenario("zombie-broker-gc-pause.unsafe.textproto") + " --history " + path);
  ASSERT_EQ(o.exit_code, 0) << o.out;
  std::istringstream lines(read_file(path));
  int sends = 0, polls = 0, oks = 0;
  for (std::string line; std::getline(lines, line);) {
    ASSERT_EQ(line.rfind("{:type :", 0), 0u) << line;
    ASSERT_EQ(line.back(), '}') << line;
    EXPECT_TRUE(contains(line, ":process ") && contains(line, ":time ")) << line;
    if (contains(line, ":f :send")) {
      ++sends;
      EXPECT_TRUE(contains(line, ":value [[:send \"orders\" [")) << line;
    }
    if (contains(line, ":f :poll")) {
      ++polls;
      EXPECT_TRUE(contains(line, ":value [[:poll {\"orders\" [[[")) << line;
    }
    if (contains(line, "{:type :ok, :f :send") && contains(line, ":value [[:send \"orders\" [[")) {
      ++oks;
    }
  }
  EXPECT_GT(sends, 1000);
  EXPECT_GT(polls, 1000);
  EXPECT_GT(oks, 100);
  const Outcome bad = run("run " + scenario("counter-basic.textproto") + " --history out.txt");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(contains(bad.out, ".edn")) << bad.out;
}

// The run's verdict, judged again from what it saved, for each system's checker.
void expect_check_agrees(const std::string& name, int exit_code) {
  const std::string dir = streamlab::test_util::unique_temp_path("saved-" + name);
  const std::string history = dir + ".jsonl";
  const Outcome ran = run("run " + scenario(name) + " --history " + history + " --save-logs " + dir);
  ASSERT_EQ(ran.exit_code, exit_code) << ran.out;
  const Outcome checked = run("check " + scenario(name) + " " + history + " --logs " + dir);
  EXPECT_EQ(checked.exit_code, exit_code) << checked.out;
  // Every anomaly line of the run, word for word.
  std::istringstream lines(ran.out);
  int anomalies = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("anomaly    ", 0) != 0) continue;
    ++anomalies;
    EXPECT_TRUE(contains(checked.out, line)) << name << ": " << line << "\nnot in\n" << checked.out;
  }
  EXPECT_GT(anomalies, 0) << ran.out;
}

TEST(RunOutputs, CheckJudgesASavedRunAsTheRunDid) {
  expect_check_agrees("counter-no-fsync-power-loss.unsafe.textproto", 0);
  expect_check_agrees("ledger-fencing.unsafe.textproto", 0);
  expect_check_agrees("ack-holes-crash.unsafe.textproto", 0);
}

TEST(RunOutputs, CheckNamesWhatIsMissing) {
  const Outcome none = run("check " + scenario("counter-basic.textproto") + " /nonexistent.jsonl --logs /tmp");
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_TRUE(contains(none.out, "/nonexistent.jsonl")) << none.out;
  const Outcome no_logs = run("check " + scenario("counter-basic.textproto") + " h.jsonl");
  EXPECT_EQ(no_logs.exit_code, 2);
  EXPECT_TRUE(contains(no_logs.out, "--logs")) << no_logs.out;
}

}  // namespace
