#include "server_metrics.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>

namespace sonic::tools {
namespace {

// Triton's exposition for two GPUs, with the per-model metrics around them.
constexpr char kExposition[] = R"(# HELP nv_inference_count Number of inferences performed
# TYPE nv_inference_count counter
nv_inference_count{model="m",version="1"} 12
# HELP nv_gpu_utilization GPU utilization rate [0.0 - 1.0)
# TYPE nv_gpu_utilization gauge
nv_gpu_utilization{gpu_uuid="GPU-aaa"} 0.5
nv_gpu_utilization{gpu_uuid="GPU-bbb"} 0.25
nv_gpu_power_usage{gpu_uuid="GPU-aaa"} 120.5
nv_gpu_memory_used_bytes{gpu_uuid="GPU-aaa"} 1000
nv_gpu_memory_total_bytes{gpu_uuid="GPU-aaa"} 80000
nv_cpu_utilization 0.3
)";

TEST(ServerMetricsTest, ParsesTheGpuMetricsOfAnExposition) {
  GpuMetrics metrics = ParseGpuMetrics(kExposition);
  EXPECT_EQ(metrics.utilization, (std::map<std::string, double>{{"GPU-aaa", 0.5},
                                                                {"GPU-bbb", 0.25}}));
  EXPECT_EQ(metrics.power_usage.at("GPU-aaa"), 120.5);
  EXPECT_EQ(metrics.memory_used.at("GPU-aaa"), 1000u);
  EXPECT_EQ(metrics.memory_total.at("GPU-aaa"), 80000u);
  GpuMetrics none = ParseGpuMetrics("nv_cpu_utilization 0.3\nnv_inference_count{model=\"m\"} 1\n");
  EXPECT_TRUE(none.utilization.empty() && none.memory_total.empty());
}

// perf_analyzer's merge: mean utilization and power, largest memory used, first total.
TEST(ServerMetricsTest, MergesScrapesAsPerfAnalyzer) {
  GpuMetrics first;
  first.utilization["g"] = 0.2;
  first.power_usage["g"] = 100;
  first.memory_used["g"] = 10;
  first.memory_total["g"] = 100;
  GpuMetrics second = first;
  second.utilization["g"] = 0.6;
  second.memory_used["g"] = 30;
  second.memory_total["g"] = 200;
  GpuMetrics third;  // a scrape that missed the GPU does not count towards its mean
  std::vector<GpuMetrics> scrapes = {first, second, third};
  GpuMetrics merged = MergeGpuMetrics(scrapes);
  EXPECT_DOUBLE_EQ(merged.utilization.at("g"), 0.4);
  EXPECT_DOUBLE_EQ(merged.power_usage.at("g"), 100);
  EXPECT_EQ(merged.memory_used.at("g"), 30u);
  EXPECT_EQ(merged.memory_total.at("g"), 100u);
  EXPECT_TRUE(MergeGpuMetrics({}).utilization.empty());
}

TEST(ServerMetricsTest, MetricsUrlsAsPerfAnalyzerWritesThem) {
  absl::StatusOr<MetricsEndpoint> endpoint = ParseMetricsUrl("localhost:8002/metrics");
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  EXPECT_EQ(endpoint->host, "localhost");
  EXPECT_EQ(endpoint->port, 8002);
  EXPECT_EQ(endpoint->path, "/metrics");
  endpoint = ParseMetricsUrl("http://10.0.0.1:9000/custom");
  ASSERT_TRUE(endpoint.ok());
  EXPECT_EQ(endpoint->port, 9000);
  EXPECT_EQ(endpoint->path, "/custom");
  EXPECT_EQ(ParseMetricsUrl("gpu-node")->port, 8002);
  for (const char* bad : {"https://h:1/metrics", "h:0/metrics", "h:x", ":8002/metrics"}) {
    EXPECT_EQ(ParseMetricsUrl(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

// The scraper against an HTTP endpoint that serves a GPU server's exposition (this machine's
// sonic-server has no GPU to report), and against one that is gone.
TEST(ServerMetricsTest, ScraperCollectsEveryIntervalAndReportsAnUnreachableEndpoint) {
  httplib::Server http;
  http.Get("/metrics", [](const httplib::Request&, httplib::Response& response) {
    response.set_content(kExposition, "text/plain");
  });
  const int port = http.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread serving([&] { http.listen_after_bind(); });
  while (!http.is_running()) absl::SleepFor(absl::Milliseconds(5));
  MetricsOptions options;
  options.url = "127.0.0.1:" + std::to_string(port) + "/metrics";
  options.interval = absl::Milliseconds(20);
  absl::StatusOr<std::unique_ptr<MetricsScraper>> scraper = MetricsScraper::Start(options);
  ASSERT_TRUE(scraper.ok()) << scraper.status();
  std::vector<GpuMetrics> scrapes;
  for (int i = 0; i < 200 && scrapes.size() < 3; ++i) {
    absl::SleepFor(absl::Milliseconds(20));
    absl::StatusOr<std::vector<GpuMetrics>> taken = (*scraper)->Take();
    ASSERT_TRUE(taken.ok()) << taken.status();
    scrapes.insert(scrapes.end(), taken->begin(), taken->end());
  }
  ASSERT_GE(scrapes.size(), 3u);
  EXPECT_EQ(MergeGpuMetrics(scrapes).utilization.at("GPU-bbb"), 0.25);
  scraper->reset();
  http.stop();
  serving.join();

  absl::StatusOr<std::unique_ptr<MetricsScraper>> gone = MetricsScraper::Start(options);
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(gone.status().message().find(std::to_string(port)), std::string::npos);
}

}  // namespace
}  // namespace sonic::tools
