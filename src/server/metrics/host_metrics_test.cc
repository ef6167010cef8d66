#include "server/metrics/host_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "server/metrics/prometheus_text.h"

namespace sonic::server::metrics {
namespace {

constexpr char kProcStat[] =
    "cpu  100 20 30 800 50 5 5 0 7 0\n"
    "cpu0 50 10 15 400 25 2 3 0 7 0\n"
    "cpu1 50 10 15 400 25 3 2 0 0 0\n"
    "intr 12345 0 0\n"
    "ctxt 999\n";

constexpr char kMeminfo[] =
    "MemTotal:       16000000 kB\n"
    "MemFree:         2000000 kB\n"
    "MemAvailable:    6000000 kB\n"
    "Buffers:          100000 kB\n";

TEST(ParseProcStatTest, SumsBusyAndTotalFromTheAggregateLine) {
  absl::StatusOr<CpuTimes> times = ParseProcStat(kProcStat);
  ASSERT_TRUE(times.ok()) << times.status();
  // user+nice+system+irq+softirq+steal; guest (7) is already counted in user.
  EXPECT_EQ(times->busy, 100u + 20 + 30 + 5 + 5 + 0);
  EXPECT_EQ(times->total, times->busy + 800 + 50);
}

TEST(ParseProcStatTest, AcceptsOldKernelsWithFewerFields) {
  absl::StatusOr<CpuTimes> times = ParseProcStat("cpu 10 0 10 80 0\n");
  ASSERT_TRUE(times.ok()) << times.status();
  EXPECT_EQ(times->busy, 20u);
  EXPECT_EQ(times->total, 100u);
}

TEST(ParseProcStatTest, RejectsMissingOrMalformedCpuLine) {
  EXPECT_EQ(ParseProcStat("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseProcStat("cpu0 1 2 3 4 5\n").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseProcStat("cpu 1 2\n").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseProcStat("cpu 1 x 3 4 5\n").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CpuUtilizationTest, IsTheBusyShareOfElapsedTicks) {
  EXPECT_DOUBLE_EQ(CpuUtilization({100, 1000}, {175, 1100}), 0.75);
  EXPECT_DOUBLE_EQ(CpuUtilization({100, 1000}, {100, 1100}), 0.0);
  EXPECT_DOUBLE_EQ(CpuUtilization({100, 1000}, {200, 1100}), 1.0);
}

TEST(CpuUtilizationTest, ZeroWhenNoTicksElapsedOrCountersWentBack) {
  EXPECT_DOUBLE_EQ(CpuUtilization({100, 1000}, {100, 1000}), 0.0);
  EXPECT_DOUBLE_EQ(CpuUtilization({100, 1000}, {50, 900}), 0.0);
}

TEST(ParseProcMeminfoTest, UsedIsTotalMinusAvailableInBytes) {
  absl::StatusOr<MemoryUsage> memory = ParseProcMeminfo(kMeminfo);
  ASSERT_TRUE(memory.ok()) << memory.status();
  EXPECT_EQ(memory->total_bytes, 16000000ull * 1024);
  EXPECT_EQ(memory->used_bytes, 10000000ull * 1024);
}

TEST(ParseProcMeminfoTest, UsedNeverExceedsTotal) {
  absl::StatusOr<MemoryUsage> memory = ParseProcMeminfo("MemTotal: 100 kB\nMemAvailable: 200 kB\n");
  ASSERT_TRUE(memory.ok()) << memory.status();
  EXPECT_EQ(memory->used_bytes, 0u);
}

TEST(ParseProcMeminfoTest, RejectsMissingFields) {
  EXPECT_EQ(ParseProcMeminfo("MemTotal: 100 kB\n").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseProcMeminfo("MemTotal: lots kB\nMemAvailable: 1 kB\n").status().code(),
            absl::StatusCode::kInvalidArgument);
  // A prefix of the name is not the name.
  EXPECT_EQ(ParseProcMeminfo("MemTotalX: 1 kB\nMemAvailable: 1 kB\n").status().code(),
            absl::StatusCode::kInvalidArgument);
}

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

class HostMetricsSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Render(HostMetricsSource& source) {
    std::vector<MetricFamily> families;
    source.Collect(families);
    return RenderText(families);
  }

  std::filesystem::path dir_;
};

TEST_F(HostMetricsSourceTest, UtilizationIsOverTheTicksSinceTheLastSample) {
  WriteFile(dir_ / "stat", "cpu 100 0 0 900 0\n");
  WriteFile(dir_ / "meminfo", kMeminfo);
  HostMetricsSource source(dir_);
  WriteFile(dir_ / "stat", "cpu 150 0 0 950 0\n");
  EXPECT_THAT(Render(source), ::testing::HasSubstr("\nnv_cpu_utilization 0.5\n"));
  // No tick elapsed: the last value stands.
  EXPECT_THAT(Render(source), ::testing::HasSubstr("\nnv_cpu_utilization 0.5\n"));
  WriteFile(dir_ / "stat", "cpu 150 0 0 1050 0\n");
  EXPECT_THAT(Render(source), ::testing::HasSubstr("\nnv_cpu_utilization 0\n"));
}

TEST_F(HostMetricsSourceTest, RendersMemoryGauges) {
  WriteFile(dir_ / "stat", "cpu 100 0 0 900 0\n");
  WriteFile(dir_ / "meminfo", kMeminfo);
  HostMetricsSource source(dir_);
  std::string text = Render(source);
  EXPECT_THAT(text, ::testing::HasSubstr("# TYPE nv_cpu_utilization gauge\n"));
  EXPECT_THAT(text, ::testing::HasSubstr("# TYPE nv_cpu_memory_total_bytes gauge\n"
                                         "nv_cpu_memory_total_bytes 16384000000\n"));
  EXPECT_THAT(text, ::testing::HasSubstr("# TYPE nv_cpu_memory_used_bytes gauge\n"
                                         "nv_cpu_memory_used_bytes 10240000000\n"));
}

TEST_F(HostMetricsSourceTest, UnreadableFilesLeaveOnlyTheHeaders) {
  HostMetricsSource source(dir_ / "missing");
  EXPECT_EQ(Render(source),
            "# HELP nv_cpu_utilization CPU utilization rate [0.0 - 1.0]\n"
            "# TYPE nv_cpu_utilization gauge\n"
            "# HELP nv_cpu_memory_total_bytes CPU total memory (RAM), in bytes\n"
            "# TYPE nv_cpu_memory_total_bytes gauge\n"
            "# HELP nv_cpu_memory_used_bytes CPU used memory (RAM), in bytes\n"
            "# TYPE nv_cpu_memory_used_bytes gauge\n");
}

TEST_F(HostMetricsSourceTest, RealProcGivesSaneValues) {
  HostMetricsSource source;
  std::vector<MetricFamily> families;
  source.Collect(families);
  ASSERT_EQ(families.size(), 3u);
  for (const MetricFamily& family : families) ASSERT_EQ(family.samples.size(), 1u) << family.name;
  EXPECT_GE(families[0].samples[0].value, 0.0);
  EXPECT_LE(families[0].samples[0].value, 1.0);
  EXPECT_GT(families[1].samples[0].value, 0.0);
  EXPECT_LE(families[2].samples[0].value, families[1].samples[0].value);
}

}  // namespace
}  // namespace sonic::server::metrics
