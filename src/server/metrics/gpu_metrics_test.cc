#include "server/metrics/gpu_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/metrics/prometheus_text.h"

namespace sonic::server::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

class FixedGpuReader : public GpuReader {
 public:
  explicit FixedGpuReader(std::vector<GpuSample> samples) : samples_(std::move(samples)) {}
  std::vector<GpuSample> Read() override { return samples_; }

 private:
  std::vector<GpuSample> samples_;
};

TEST(GpuMetricsTest, WithoutNvmlThereIsNoGpuSource) {
  EXPECT_EQ(LoadNvmlGpuReader("libsonic_no_such_nvml.so.1"), nullptr);
  EXPECT_EQ(CreateGpuMetricsSource("libsonic_no_such_nvml.so.1"), nullptr);
  // A library that loads but is not NVML.
  EXPECT_EQ(CreateGpuMetricsSource("libm.so.6"), nullptr);
}

TEST(GpuMetricsTest, FamiliesCarryOneSamplePerGpuLabelledByUuid) {
  GpuSample busy{"GPU-aaaa", 0.75, 80'000'000'000, 1'000'000};
  GpuSample unreadable_rates{"GPU-bbbb", std::nullopt, 16'000, 8'000};
  GpuMetricsSource source(
      std::make_unique<FixedGpuReader>(std::vector<GpuSample>{busy, unreadable_rates}));
  std::vector<MetricFamily> families;
  source.Collect(families);
  const std::string text = RenderText(families);
  EXPECT_THAT(text, HasSubstr("# TYPE nv_gpu_utilization gauge\n"));
  EXPECT_THAT(text, HasSubstr("\nnv_gpu_utilization{gpu_uuid=\"GPU-aaaa\"} 0.75\n"));
  EXPECT_THAT(text, Not(HasSubstr("nv_gpu_utilization{gpu_uuid=\"GPU-bbbb\"}")));
  EXPECT_THAT(text, HasSubstr("\nnv_gpu_memory_total_bytes{gpu_uuid=\"GPU-aaaa\"} 80000000000\n"));
  EXPECT_THAT(text, HasSubstr("\nnv_gpu_memory_used_bytes{gpu_uuid=\"GPU-bbbb\"} 8000\n"));
}

TEST(GpuMetricsTest, NvmlOnThisMachineGivesEveryGpuAUuid) {
  std::unique_ptr<GpuReader> reader = LoadNvmlGpuReader();
  if (reader == nullptr) GTEST_SKIP() << "no NVML or no GPU on this machine";
  std::vector<GpuSample> samples = reader->Read();
  ASSERT_FALSE(samples.empty());
  for (const GpuSample& sample : samples) {
    EXPECT_THAT(sample.uuid, StartsWith("GPU-"));
    ASSERT_TRUE(sample.memory_total_bytes.has_value());
    EXPECT_GT(*sample.memory_total_bytes, 0u);
  }
}

}  // namespace
}  // namespace sonic::server::metrics
