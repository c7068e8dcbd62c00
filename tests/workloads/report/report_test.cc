// The HTML report: its writer on a hand-made run (fast, every section), and `streamlab run
// --report` on shipped scenarios as a user runs it.

#include "workloads/report/report_html.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/command.h"
#include "workloads/checkers/anomaly_glossary.h"
#include "workloads/report/html_escape.h"
#include "workloads/checkers/time_series.h"
#include "tests/temp_path.h"

namespace streamlab::cli {
namespace {

using workloads::SystemKind;

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

bool contains(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

// Reads the page as a tree of tags: every element closed in order (or self-closed, or the
// void <meta>), no stray '<' in text. An unescaped "<" or "&" from the scenario or the run
// shows up here as a tag or reference that is not ours. Empty when well formed.
std::string malformation(const std::string& page) {
  std::vector<std::string> open;
  for (std::size_t at = page.find('<'); at != std::string::npos; at = page.find('<', at + 1)) {
    const std::size_t end = page.find('>', at);
    if (end == std::string::npos) return "unclosed tag at " + std::to_string(at);
    const std::string tag = page.substr(at + 1, end - at - 1);
    if (tag.rfind("!DOCTYPE", 0) == 0 || tag.back() == '/') continue;
    const bool closing = tag[0] == '/';
    const std::string name = tag.substr(closing ? 1 : 0, tag.find_first_of(" \n", 1) -
                                                             (closing ? 1 : 0));
    if (name == "meta") continue;
    if (!closing) {
      open.push_back(name);
    } else if (open.empty() || open.back() != name) {
      return "</" + name + "> closes <" + (open.empty() ? "" : open.back()) + "> at " +
             std::to_string(at);
    } else {
      open.pop_back();
    }
  }
  for (std::size_t at = page.find('&'); at != std::string::npos; at = page.find('&', at + 1)) {
    const std::string rest = page.substr(at, 6);
    if (rest.rfind("&amp;", 0) && rest.rfind("&lt;", 0) && rest.rfind("&gt;", 0) &&
        rest.rfind("&quot;", 0) && rest.rfind("&#39;", 0)) {
      return "bare & at " + std::to_string(at);
    }
  }
  return open.empty() ? "" : "<" + open.back() + "> never closed";
}

workloads::Series ramp(double from) {
  workloads::Series s;
  for (std::int64_t k = 1; k <= 20; ++k) s.emplace_back(k * 1'000'000'000, from + static_cast<double>(k));
  return s;
}

// A queue run whose every string carries markup, so that escaping shows.
struct HandMadeRun {
  workloads::ScenarioConfig config;
  workloads::RunResult result;

  HandMadeRun() {
    config.name = "zombie <b>bold</b>";
    config.description = "<script>alert(\"x\")</script> & co";
    config.system = SystemKind::pulsar;
    config.checker = "queue";
    config.expectations = {{"lost-write", true, "f.textproto:50"},
                           {"duplicate", false, "f.textproto:51"}};
    result.seed = 7;
    result.trace_hash = 0xcd7bd8383be45b02;
    result.sim_time_ns = 20'000'000'000;
    result.events = 331'911;
    result.wall_time_s = 0.5;
    result.check.add("lost-write", "message #1 <lost> & gone");
    result.check.add("lost-write", "message #2");
    result.check.metrics = {{"ops_ok", 17700}, {"publish_p50", 6.8}, {"backlog_max", 3679}};
    for (const char* name : {"publish_rate", "consume_rate", "backlog", "publish_p50",
                             "publish_p99", "publish_p999", "end_to_end_p50",
                             "acked_not_in_log_total", "duplicate_total"}) {
      result.check.series[name] = ramp(1);
    }
    result.fault_log = {{10'000'000'000, false, "partition a <-> b for 5s (f.textproto:48)"},
                        {12'000'000'000, false, "connection_reset a (f.textproto:49)"},
                        {15'000'000'000, true, "partition a <-> b for 5s (f.textproto:48)"}};
  }
};

TEST(Report, IsWellFormedAndEscapesEveryString) {
  const HandMadeRun run;
  const std::string page = report_html(run.config, run.result, "f & <g>.textproto");
  EXPECT_EQ(malformation(page), "");
  EXPECT_FALSE(contains(page, "<script"));
  EXPECT_TRUE(contains(page, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co"));
  EXPECT_TRUE(contains(page, "zombie &lt;b&gt;bold&lt;/b&gt;"));
  EXPECT_TRUE(contains(page, "message #1 &lt;lost&gt; &amp; gone"));
  EXPECT_TRUE(contains(page, "partition a &lt;-&gt; b"));
  EXPECT_TRUE(contains(page, "streamlab run f &amp; &lt;g&gt;.textproto --seed 7"));
  EXPECT_EQ(occurrences(page, "<html"), 1u);
  EXPECT_EQ(occurrences(page, "</html>"), 1u);
}

TEST(Report, HasEverySection) {
  const HandMadeRun run;
  const std::string page = report_html(run.config, run.result, "f.textproto");
  for (const char* id : {"summary", "expectations", "anomalies", "metrics", "charts", "faults",
                         "reproduce"}) {
    EXPECT_TRUE(contains(page, "id=\"" + std::string(id) + "\"")) << id;
    EXPECT_TRUE(contains(page, "href=\"#" + std::string(id) + "\"")) << id;  // Contents.
  }
  EXPECT_TRUE(contains(page, "cd7bd8383be45b02"));
  EXPECT_TRUE(contains(page, "331,911"));
  EXPECT_TRUE(contains(page, ">lost-write <span class=\"count\">x2<"));
  EXPECT_TRUE(contains(page, workloads::html_escape(workloads::anomaly_meaning(
                                 "queue", "lost-write"))));
  EXPECT_TRUE(contains(page, "class=\"ok\">met"));  // lost-write expected, found.
  // Five charts (throughput, two latencies, backlog, durability), each with the partition's
  // window shaded and the reset as a line.
  EXPECT_EQ(occurrences(page, "<svg "), 5u);
  EXPECT_EQ(occurrences(page, "</svg>"), 5u);
  EXPECT_EQ(occurrences(page, "fill-opacity=\"0.2\""), 5u);
  EXPECT_EQ(occurrences(page, "stroke-dasharray=\"4 3\">"), 5u);
  EXPECT_TRUE(contains(page, "10.000 s to 15.000 s"));  // The fault table's window.
  EXPECT_FALSE(contains(page, "http://"));
  EXPECT_FALSE(contains(page, "https://"));
}

TEST(Report, ChartsOnlyForSeriesTheCheckerHas) {
  HandMadeRun run;
  run.result.check.series.clear();
  run.result.fault_log.clear();
  const std::string page = report_html(run.config, run.result, "f.textproto");
  EXPECT_EQ(malformation(page), "");
  EXPECT_EQ(occurrences(page, "<svg "), 0u);
  EXPECT_TRUE(contains(page, "No fault was injected."));
}

TEST(Report, EveryKnownAnomalyHasAMeaning) {
  for (const char* checker : {"counter", "ledger", "queue"}) {
    const std::vector<std::string> names = workloads::checker_anomalies(checker);
    EXPECT_FALSE(names.empty()) << checker;
    for (const std::string& name : names) {
      EXPECT_FALSE(workloads::anomaly_meaning(checker, name).empty()) << name << " of " << checker;
    }
  }
}

// [SECTION] The CLI, as cli_test.cc runs it.

using test_util::Outcome;

Outcome run_cli(const std::string& args) { return test_util::run(STREAMLAB_BIN, args); }

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string scenario(const std::string& name) {
  return std::string(STREAMLAB_SCENARIOS) + "/" + name;
}

TEST(Report, CliReportOfAnUnsafeScenarioShowsItsAnomalies) {
  const std::string report = streamlab::test_util::unique_temp_path("ledger-fencing.html");
  const std::string json = streamlab::test_util::unique_temp_path("ledger-fencing.json");
  const std::string file = scenario("ledger-fencing.unsafe.textproto");
  const Outcome o = run_cli("run " + file + " --seed 1 --report " + report + " --json " + json);
  EXPECT_EQ(o.exit_code, 0) << o.out;
  EXPECT_TRUE(contains(o.out, "report     " + report)) << o.out;
  const std::string page = read_file(report);
  EXPECT_EQ(malformation(page), "");
  for (const char* anomaly : {"lost-write", "split-brain"}) {
    EXPECT_TRUE(contains(page, "id=\"anomaly-" + std::string(anomaly) + "\"")) << anomaly;
  }
  // The first examples, as the checker words them.
  EXPECT_TRUE(contains(page, "but the ledger ends at entry"));
  EXPECT_TRUE(contains(page, "had recovered and closed that ledger at"));
  EXPECT_EQ(occurrences(page, "<svg "), 3u);  // Throughput, latency, durability.
  EXPECT_EQ(occurrences(page, "</svg>"), 3u);
  EXPECT_TRUE(contains(page, "fill-opacity=\"0.2\""));  // The writer's pause, shaded ...
  EXPECT_TRUE(contains(page, ">#1 pause writer-1 for 8s<"));  // ... and labelled.
  EXPECT_TRUE(contains(page, "<code>streamlab run " + file + " --seed 1</code>"));
  EXPECT_FALSE(contains(page, "http://"));
  EXPECT_FALSE(contains(page, "https://"));
  EXPECT_TRUE(contains(read_file(json), "\"split-brain\":"));
}

// counter-basic cut to 3 s without its faults, with `description` (textproto-quoted):
// enough to run twice under the sanitizers in a few seconds.
std::string short_counter_scenario(const std::string& name, const std::string& description) {
  std::istringstream in(read_file(scenario("counter-basic.textproto")));
  std::string text;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("fault {", 0) == 0) continue;
    if (line.rfind("duration:", 0) == 0) line = "duration: \"3s\"";
    if (line.rfind("description:", 0) == 0) line = "description: \"" + description + "\"";
    text += line + "\n";
  }
  const std::string file = streamlab::test_util::unique_temp_path(name);
  std::ofstream(file) << text;
  return file;
}

TEST(Report, CliReportWithDeterminismCheckEscapesTheDescription) {
  const std::string file =
      short_counter_scenario("crafted.textproto", "<script>alert(\\\"x\\\")</script> & co");
  const std::string report = streamlab::test_util::unique_temp_path("crafted.html");
  const Outcome o = run_cli("run " + file + " --check-determinism --report " + report);
  EXPECT_EQ(o.exit_code, 0) << o.out;
  EXPECT_TRUE(contains(o.out, "determinism: both runs")) << o.out;
  const std::string page = read_file(report);
  EXPECT_EQ(malformation(page), "");
  EXPECT_FALSE(contains(page, "<script"));
  EXPECT_TRUE(contains(page, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co"));
  EXPECT_TRUE(contains(page, "No fault was injected."));
}

TEST(Report, CliReportToAnUnwritablePlaceExitsTwo) {
  const std::string file = short_counter_scenario("plain.textproto", "plain");
  const Outcome o = run_cli("run " + file + " --report /nonexistent-dir/r.html");
  EXPECT_EQ(o.exit_code, 2) << o.out;
  EXPECT_TRUE(contains(o.out, "cannot write /nonexistent-dir/r.html")) << o.out;
}

}  // namespace
}  // namespace streamlab::cli
