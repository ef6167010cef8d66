#include "perf_options.h"

#include <gtest/gtest.h>

namespace sonic::tools {
namespace {

TEST(PerfOptionsTest, RangesFollowPerfAnalyzer) {
  absl::StatusOr<LoadRange> range = ParseLoadRange("2");
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(LoadLevels(*range), (std::vector<double>{2}));
  range = ParseLoadRange("1:4");
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(LoadLevels(*range), (std::vector<double>{1, 2, 3, 4}));
  range = ParseLoadRange("10:40:15");
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(LoadLevels(*range), (std::vector<double>{10, 25, 40}));
  range = ParseLoadRange("0.1:0.3:0.1");
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(LoadLevels(*range).size(), 3u);
}

// perf_analyzer's end 0: no end (the latency threshold ends the sweep).
TEST(PerfOptionsTest, EndZeroIsAnUnboundedRange) {
  absl::StatusOr<LoadRange> range = ParseLoadRange("2:0:3");
  ASSERT_TRUE(range.ok()) << range.status();
  EXPECT_TRUE(range->unbounded());
  EXPECT_EQ(range->step, 3);
  EXPECT_TRUE(LoadLevels(*range).empty());
  EXPECT_FALSE(ParseLoadRange("2:4")->unbounded());
}

TEST(PerfOptionsTest, HeadersBecomeLowercaseMetadata) {
  absl::StatusOr<std::pair<std::string, std::string>> header =
      ParseHeader("X-Request-Tag:  run 7 ");
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->first, "x-request-tag");
  EXPECT_EQ(header->second, "run 7");
  header = ParseHeader("authorization:Bearer a:b");
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->second, "Bearer a:b");  // only the first colon separates
  for (const char* bad : {"no colon", ": value", "grpc-timeout: 1S", "bad name: x", "x: a\tb"}) {
    EXPECT_EQ(ParseHeader(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(PerfOptionsTest, BadRangesAreRejected) {
  for (const char* text : {"", "0", "4:2", "1:4:0", "a:b", "1:2:3:4", "-1:2"}) {
    EXPECT_EQ(ParseLoadRange(text).status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
}

}  // namespace
}  // namespace sonic::tools
