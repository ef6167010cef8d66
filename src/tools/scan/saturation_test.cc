#include "saturation.h"

#include <gtest/gtest.h>

namespace sonic::tools {
namespace {

// A server of capacity `capacity` events/s and jobs that alone run at `alone` events/s.
std::vector<ScanPoint> IdealScan(double capacity, double alone, int max_jobs) {
  std::vector<ScanPoint> points;
  for (int k = 1; k <= max_jobs; ++k) {
    ScanPoint point;
    point.jobs = k;
    point.total_throughput = std::min(capacity, k * alone);
    point.per_job_throughput = point.total_throughput / k;
    points.push_back(point);
  }
  return points;
}

TEST(SaturationTest, KneeIsWhereCapacityRunsOut) {
  // 115 jobs of 10 events/s fit a server of 1150 events/s.
  Saturation saturation = FindSaturation(IdealScan(1150, 10, 140), 0.1);
  EXPECT_TRUE(saturation.saturated);
  // At 128 jobs each gets 1150/128 = 8.98 < 9: the first step 10% slower.
  EXPECT_EQ(saturation.saturated_at, 128);
  EXPECT_EQ(saturation.sustained_jobs, 127);
  EXPECT_DOUBLE_EQ(saturation.peak_throughput, 1150);
}

TEST(SaturationTest, CoarseStepsAnswerTheLastGoodStep) {
  std::vector<ScanPoint> points = IdealScan(40, 20, 6);
  points = {points[0], points[1], points[3], points[5]};  // K = 1, 2, 4, 6
  Saturation saturation = FindSaturation(points, 0.1);
  EXPECT_EQ(saturation.sustained_jobs, 2);
  EXPECT_EQ(saturation.saturated_at, 4);
}

TEST(SaturationTest, UnsaturatedScanSaysAtLeast) {
  Saturation saturation = FindSaturation(IdealScan(1000, 10, 8), 0.1);
  EXPECT_FALSE(saturation.saturated);
  EXPECT_EQ(saturation.sustained_jobs, 8);
}

TEST(SaturationTest, ASlowJobWhileTheTotalStillGrowsIsNotSaturation) {
  std::vector<ScanPoint> points = IdealScan(1000, 10, 3);
  points[1].per_job_throughput = 8;  // a noisy step: slower jobs...
  points[1].total_throughput = 16;   // ...but the total grew by 60%
  EXPECT_FALSE(FindSaturation(points, 0.1).saturated);
}

}  // namespace
}  // namespace sonic::tools
