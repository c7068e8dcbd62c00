#include "workloads/report/svg_chart.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace streamlab::workloads {
namespace {

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

Chart chart_of(std::vector<ChartLine> lines) {
  Chart c;
  c.title = "Throughput";
  c.x_label = "simulated time (s)";
  c.y_label = "messages/s";
  c.x_max = 45;
  c.lines = std::move(lines);
  return c;
}

TEST(SvgChart, LinearTicksAreRound) {
  EXPECT_EQ(linear_ticks(0, 45, 10),
            (std::vector<double>{0, 5, 10, 15, 20, 25, 30, 35, 40, 45}));
  EXPECT_EQ(linear_ticks(0, 3500, 5), (std::vector<double>{0, 1000, 2000, 3000}));
  const std::vector<double> small = linear_ticks(0, 1, 5);
  ASSERT_EQ(small.size(), 6u);
  EXPECT_DOUBLE_EQ(small[1], 0.2);
  EXPECT_DOUBLE_EQ(small[5], 1.0);
  EXPECT_EQ(linear_ticks(-10, 10, 4), (std::vector<double>{-10, -5, 0, 5, 10}));
}

TEST(SvgChart, LogTicksAreDecadesWithStepsWhenNarrow) {
  EXPECT_EQ(log_ticks(1, 10000), (std::vector<double>{1, 10, 100, 1000, 10000}));
  EXPECT_EQ(log_ticks(1, 100), (std::vector<double>{1, 2, 5, 10, 20, 50, 100}));
}

TEST(SvgChart, TickLabelsHaveReadableUnits) {
  EXPECT_EQ(tick_label(0), "0");
  EXPECT_EQ(tick_label(0.25), "0.25");
  EXPECT_EQ(tick_label(40), "40");
  EXPECT_EQ(tick_label(2500), "2.5k");
  EXPECT_EQ(tick_label(1'200'000), "1.2M");
  EXPECT_EQ(tick_label(3e9), "3G");
  EXPECT_EQ(tick_label(-500), "-500");
}

TEST(SvgChart, DrawsAxesLegendAndOnePathPerLine) {
  const std::string svg = svg_chart(chart_of({
      {"published", {{1, 500}, {2, 520}, {3, 480}}},
      {"delivered", {{1, 490}, {2, 530}, {3, 470}}},
  }));
  EXPECT_EQ(svg.rfind("<svg ", 0), 0u);
  EXPECT_EQ(occurrences(svg, "<svg"), 1u);
  EXPECT_EQ(occurrences(svg, "</svg>"), 1u);
  EXPECT_EQ(occurrences(svg, "<path "), 2u);
  EXPECT_NE(svg.find(">published<"), std::string::npos);  // Legend.
  EXPECT_NE(svg.find(">delivered<"), std::string::npos);
  EXPECT_NE(svg.find(">600<"), std::string::npos);  // The y axis tops at a round tick.
  EXPECT_NE(svg.find(">45<"), std::string::npos);   // The x axis' last tick.
  EXPECT_NE(svg.find(">simulated time (s)<"), std::string::npos);
  EXPECT_EQ(svg.find("http"), std::string::npos);  // No namespace URL: inline in HTML.
}

TEST(SvgChart, EmptySeriesSaysNoData) {
  const std::string svg = svg_chart(chart_of({{"published", {}}}));
  EXPECT_NE(svg.find(">no data<"), std::string::npos);
  EXPECT_EQ(occurrences(svg, "<path "), 0u);
  EXPECT_EQ(occurrences(svg, "</svg>"), 1u);
  EXPECT_NE(svg.find(">1<"), std::string::npos);  // A unit axis, not a degenerate one.
}

TEST(SvgChart, ASinglePointIsADot) {
  const std::string svg = svg_chart(chart_of({{"p99", {{10, 7.5}}}}));
  EXPECT_EQ(occurrences(svg, "<circle "), 1u);
  EXPECT_EQ(occurrences(svg, "<path "), 0u);
  EXPECT_EQ(svg.find("no data"), std::string::npos);
}

TEST(SvgChart, GapsBreakTheLine) {
  Chart c = chart_of({{"p50", {{1, 5}, {2, 6}, {3, 5}, {9, 7}, {10, 6}, {20, 4}}}});
  c.max_gap = 1.5;
  c.log_y = true;
  const std::string svg = svg_chart(c);
  EXPECT_EQ(occurrences(svg, "<path "), 1u);
  const std::size_t d = svg.find("d=\"");
  const std::string path = svg.substr(d, svg.find('"', d + 3) - d);
  EXPECT_EQ(occurrences(path, "M"), 2u) << path;  // Two runs of points ...
  EXPECT_EQ(occurrences(svg, "<circle "), 1u);    // ... and one alone.
  EXPECT_NE(svg.find(">10<"), std::string::npos);  // A decade tick on the log axis.
}

TEST(SvgChart, FaultsAreShadedOrDrawnAsLines) {
  Chart c = chart_of({{"published", {{1, 1}, {2, 1}}}});
  c.marks = {{10, 25, "#1 pause broker-a for 15s", "#1"},
             {30, 30, "#2 connection_reset broker-b", "#2"}};
  const std::string svg = svg_chart(c);
  EXPECT_EQ(occurrences(svg, "<rect "), 2u);  // The window and its legend swatch.
  EXPECT_NE(svg.find("stroke-dasharray"), std::string::npos);
  EXPECT_NE(svg.find(">#1 pause broker-a for 15s<"), std::string::npos);
  EXPECT_NE(svg.find(">fault window<"), std::string::npos);
  EXPECT_NE(svg.find(">instant fault<"), std::string::npos);
}

TEST(SvgChart, ALabelTooLongForItsRoomShowsItsTag) {
  Chart c = chart_of({{"published", {{1, 1}}}});
  c.marks = {{10, 11, "#1 partition bookie-1,bookie-2,bookie-3 <-> broker-a,broker-b", "#1"},
             {10.5, 11, "#2 b", "#2"}, {10.6, 11, "#3 c", "#3"}, {10.7, 11, "#4 d", "#4"}};
  const std::string svg = svg_chart(c);
  EXPECT_NE(svg.find(">#1<title>"), std::string::npos) << svg;
  // The whole label stays as the hover text, escaped.
  EXPECT_NE(svg.find("<title>#1 partition bookie-1,bookie-2,bookie-3 &lt;-&gt; broker-a"),
            std::string::npos);
}

TEST(SvgChart, EveryTextIsEscaped) {
  Chart c = chart_of({{"<b>&", {{1, 1}}}});
  c.title = "<script>alert(1)</script>";
  c.marks = {{1, 2, "\"quoted\" & <tagged>", ""}};
  const std::string svg = svg_chart(c);
  EXPECT_EQ(svg.find("<script"), std::string::npos);
  EXPECT_EQ(svg.find("<b>"), std::string::npos);
  EXPECT_EQ(svg.find("<tagged>"), std::string::npos);
  EXPECT_NE(svg.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(svg.find("&lt;b&gt;&amp;"), std::string::npos);
  EXPECT_NE(svg.find("&quot;quoted&quot; &amp; &lt;tagged&gt;"), std::string::npos);
}

}  // namespace
}  // namespace streamlab::workloads
