#include "server_statistics.h"

#include <gtest/gtest.h>

namespace sonic::tools {
namespace {

inference::ModelStatistics Snapshot(uint64_t requests, uint64_t queue_ns, uint64_t infer_ns) {
  inference::ModelStatistics stats;
  stats.set_inference_count(requests * 2);
  stats.set_execution_count(requests);
  auto* infer = stats.mutable_inference_stats();
  infer->mutable_success()->set_count(requests);
  infer->mutable_queue()->set_count(requests);
  infer->mutable_queue()->set_ns(queue_ns);
  for (auto* stage : {infer->mutable_compute_input(), infer->mutable_compute_infer(),
                      infer->mutable_compute_output()}) {
    stage->set_count(requests);
  }
  infer->mutable_compute_infer()->set_ns(infer_ns);
  auto* batch = stats.add_batch_stats();
  batch->set_batch_size(2);
  batch->mutable_compute_infer()->set_count(requests);
  batch->mutable_compute_infer()->set_ns(infer_ns);
  return stats;
}

TEST(ServerStatisticsTest, BreakdownAveragesTheDeltaPerRequest) {
  inference::ModelStatistics delta =
      StatisticsDelta(Snapshot(10, 1'000'000, 5'000'000), Snapshot(30, 5'000'000, 45'000'000));
  EXPECT_EQ(delta.execution_count(), 20u);
  EXPECT_EQ(delta.batch_stats(0).compute_infer().ns(), 40'000'000u);
  ServerBreakdown breakdown = BreakdownOf(delta);
  EXPECT_EQ(breakdown.request_count, 20u);
  EXPECT_EQ(breakdown.inference_count, 40u);
  EXPECT_EQ(breakdown.queue, absl::Microseconds(200));
  EXPECT_EQ(breakdown.compute_infer, absl::Milliseconds(2));
  EXPECT_EQ(breakdown.compute_input, absl::ZeroDuration());
  EXPECT_EQ(breakdown.total(), absl::Microseconds(2200));
}

TEST(ServerStatisticsTest, AnIdleIntervalHasNoAverages) {
  ServerBreakdown breakdown = BreakdownOf(StatisticsDelta(Snapshot(5, 9, 9), Snapshot(5, 9, 9)));
  EXPECT_EQ(breakdown.request_count, 0u);
  EXPECT_EQ(breakdown.total(), absl::ZeroDuration());
}

}  // namespace
}  // namespace sonic::tools
