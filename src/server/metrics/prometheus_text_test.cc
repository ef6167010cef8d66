#include "server/metrics/prometheus_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace sonic::server::metrics {
namespace {

TEST(EscapeLabelValueTest, EscapesBackslashQuoteAndNewline) {
  EXPECT_EQ(EscapeLabelValue("plain_name-1.0"), "plain_name-1.0");
  EXPECT_EQ(EscapeLabelValue("a\\b"), "a\\\\b");
  EXPECT_EQ(EscapeLabelValue("say \"hi\""), "say \\\"hi\\\"");
  EXPECT_EQ(EscapeLabelValue("two\nlines"), "two\\nlines");
  EXPECT_EQ(EscapeLabelValue("ünïcode"), "ünïcode");
}

TEST(FormatSampleValueTest, IntegersHaveNoExponentOrFraction) {
  EXPECT_EQ(FormatSampleValue(0), "0");
  EXPECT_EQ(FormatSampleValue(42), "42");
  EXPECT_EQ(FormatSampleValue(1234567890123.0), "1234567890123");
  EXPECT_EQ(FormatSampleValue(-3), "-3");
}

TEST(FormatSampleValueTest, FractionsReadBackExactly) {
  EXPECT_EQ(FormatSampleValue(0.25), "0.25");
  EXPECT_EQ(FormatSampleValue(12.345), "12.345");
  const double third = 1.0 / 3.0;
  EXPECT_EQ(std::stod(FormatSampleValue(third)), third);
  EXPECT_EQ(std::stod(FormatSampleValue(1e300)), 1e300);
}

TEST(FormatSampleValueTest, SpecialValues) {
  EXPECT_EQ(FormatSampleValue(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(FormatSampleValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatSampleValue(-std::numeric_limits<double>::infinity()), "-Inf");
}

TEST(RenderTextTest, WritesHelpTypeAndSamplesInOrder) {
  std::vector<MetricFamily> families = {
      {"requests_total",
       "Requests.",
       MetricType::kCounter,
       {{{{"model", "a"}, {"version", "1"}}, 3}, {{{"model", "b"}, {"version", "2"}}, 4}}},
      {"temperature", "Degrees.", MetricType::kGauge, {{{}, 21.5}}},
  };
  EXPECT_EQ(RenderText(families),
            "# HELP requests_total Requests.\n"
            "# TYPE requests_total counter\n"
            "requests_total{model=\"a\",version=\"1\"} 3\n"
            "requests_total{model=\"b\",version=\"2\"} 4\n"
            "# HELP temperature Degrees.\n"
            "# TYPE temperature gauge\n"
            "temperature 21.5\n");
}

TEST(RenderTextTest, FamilyWithoutSamplesKeepsItsHeader) {
  EXPECT_EQ(RenderText({{"idle", "Nothing yet.", MetricType::kGauge, {}}}),
            "# HELP idle Nothing yet.\n# TYPE idle gauge\n");
}

TEST(RenderTextTest, EscapesLabelValuesAndHelp) {
  std::vector<MetricFamily> families = {
      {"m", "back\\slash\nnewline", MetricType::kGauge, {{{{"model", "we\"ird\\name\n"}}, 1}}}};
  EXPECT_EQ(RenderText(families),
            "# HELP m back\\\\slash\\nnewline\n"
            "# TYPE m gauge\n"
            "m{model=\"we\\\"ird\\\\name\\n\"} 1\n");
}

TEST(RenderTextTest, EmptyIsEmpty) { EXPECT_EQ(RenderText({}), ""); }

}  // namespace
}  // namespace sonic::server::metrics
