#include "interleaved_load.h"

#include <gtest/gtest.h>

#include <map>
#include <utility>
#include <vector>

namespace sonic::bench {
namespace {

TEST(WindowOrderTest, TwoSidesAlternateInPairsAfterTheWarmUp) {
  // After a warm-up A B: B A, A B, B A, A B.
  EXPECT_EQ(WindowOrder(2, 4), (std::vector<size_t>{1, 0, 0, 1, 1, 0, 0, 1}));
}

TEST(WindowOrderTest, OneSideRunsAlone) {
  EXPECT_EQ(WindowOrder(1, 3), (std::vector<size_t>{0, 0, 0}));
}

TEST(WindowOrderTest, RoundsAreRoundedUpToWholeCycles) {
  EXPECT_EQ(WindowOrder(3, 1).size(), 9u);
  EXPECT_EQ(WindowOrder(3, 3).size(), 9u);
  EXPECT_EQ(WindowOrder(3, 4).size(), 18u);
  EXPECT_EQ(WindowOrder(2, 5).size(), 12u);
}

TEST(WindowOrderTest, NoSidesOrRoundsNoWindows) {
  EXPECT_TRUE(WindowOrder(0, 4).empty());
  EXPECT_TRUE(WindowOrder(3, 0).empty());
}

TEST(WindowOrderTest, EverySideFollowsEverySideEquallyOften) {
  for (size_t sides = 1; sides <= 7; ++sides) {
    SCOPED_TRACE(sides);
    const size_t cycles = 2;
    const std::vector<size_t> order = WindowOrder(sides, static_cast<int>(cycles * sides));
    ASSERT_EQ(order.size(), cycles * sides * sides);
    std::vector<size_t> windows(sides, 0);
    std::map<std::pair<size_t, size_t>, size_t> follows;
    size_t previous = sides - 1;  // the warm-up's last window
    for (size_t side : order) {
      ASSERT_LT(side, sides);
      ++windows[side];
      ++follows[{previous, side}];
      previous = side;
    }
    for (size_t side = 0; side < sides; ++side) EXPECT_EQ(windows[side], cycles * sides);
    ASSERT_EQ(follows.size(), sides * sides);  // every ordered pair, self-pairs included
    for (const auto& [pair, count] : follows) EXPECT_EQ(count, cycles) << pair.first << pair.second;
  }
}

TEST(WindowOrderTest, ABalancedStretchEndsWhereTheNextOneStarts) {
  // Rounds are measured in whole cycles: the next cycle again follows the last side.
  for (size_t sides = 2; sides <= 5; ++sides) {
    const std::vector<size_t> order = WindowOrder(sides, static_cast<int>(sides));
    EXPECT_EQ(order.back(), sides - 1) << sides;
  }
}

TEST(RunInterleavedTest, EverySideIsMeasuredInItsWindows) {
  std::vector<LoadSide> sides;
  for (int i = 0; i < 3; ++i) {
    sides.push_back({"side", []() -> absl::StatusOr<RoundTrip> {
                       return RoundTrip([] { return absl::OkStatus(); });
                     }});
  }
  InterleavedOptions options;
  options.window = absl::Milliseconds(20);
  options.rounds = 1;  // three sides: three rounds
  absl::StatusOr<std::vector<SideResult>> results = RunInterleaved(options, sides);
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 3u);
  for (const SideResult& result : *results) {
    EXPECT_GT(result.successes, 0);
    EXPECT_EQ(result.failures, 0);
    EXPECT_GE(result.seconds, 3 * 0.020);  // three measured windows of at least 20 ms
  }
  EXPECT_TRUE(CheckAllAnswered(sides, *results).ok());
}

TEST(RunInterleavedTest, RefusesNoSidesAndEmptyRounds) {
  InterleavedOptions options;
  EXPECT_EQ(RunInterleaved(options, {}).status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<LoadSide> sides = {{"side", []() -> absl::StatusOr<RoundTrip> {
                                    return RoundTrip([] { return absl::OkStatus(); });
                                  }}};
  options.rounds = 0;
  EXPECT_EQ(RunInterleaved(options, sides).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sonic::bench
