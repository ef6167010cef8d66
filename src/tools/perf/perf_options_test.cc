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

TEST(PerfOptionsTest, BadRangesAreRejected) {
  for (const char* text : {"", "0", "4:2", "1:4:0", "a:b", "1:2:3:4", "-1:2"}) {
    EXPECT_EQ(ParseLoadRange(text).status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
}

}  // namespace
}  // namespace sonic::tools
