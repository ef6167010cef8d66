#include "request_schedule.h"

#include <gtest/gtest.h>

namespace sonic::tools {
namespace {

TEST(RequestScheduleTest, ConstantIntervals) {
  RequestSchedule schedule(200, RequestDistribution::kConstant);
  EXPECT_EQ(schedule.Next(), absl::ZeroDuration());
  EXPECT_EQ(schedule.Next(), absl::Milliseconds(5));
  EXPECT_EQ(schedule.Next(), absl::Milliseconds(10));
}

TEST(RequestScheduleTest, PoissonIntervalsAverageToTheRateAndRepeatWithTheSeed) {
  RequestSchedule schedule(100, RequestDistribution::kPoisson, 7);
  RequestSchedule again(100, RequestDistribution::kPoisson, 7);
  absl::Duration previous;
  bool varied = false;
  absl::Duration last;
  for (int i = 0; i < 10000; ++i) {
    last = schedule.Next();
    ASSERT_EQ(last, again.Next());
    ASSERT_GE(last, previous);
    if (i > 1 && last - previous != absl::Milliseconds(10)) varied = true;
    previous = last;
  }
  EXPECT_TRUE(varied);
  // 9999 intervals of mean 10 ms: within a few percent of 100 s.
  EXPECT_NEAR(absl::ToDoubleSeconds(last), 99.99, 5.0);
}

}  // namespace
}  // namespace sonic::tools
