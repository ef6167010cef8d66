#include "perf_report.h"

#include <gtest/gtest.h>

#include <sstream>

#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"

namespace sonic::tools {
namespace {

PerfResult Result(double load) {
  PerfResult result;
  result.load = load;
  result.stable = true;
  result.windows = 3;
  Measurement& m = result.measurement;
  m.successes = 300;
  m.throughput = 1234.567;
  m.mean_latency = absl::Microseconds(1620);
  m.client_send = absl::Microseconds(12);
  m.client_recv = absl::Microseconds(8);
  for (int percent : kReportedPercentiles) m.percentiles[percent] = absl::Microseconds(percent * 20);
  ServerBreakdown server;
  server.queue = absl::Microseconds(100);
  server.compute_input = absl::Microseconds(10);
  server.compute_infer = absl::Microseconds(1000);
  server.compute_output = absl::Microseconds(10);
  m.server = server;
  return result;
}

TEST(PerfReportTest, CsvHasPerfAnalyzersColumnsAndMicroseconds) {
  std::ostringstream out;
  WriteCsv(out, LoadKind::kConcurrency, {Result(1), Result(2)});
  std::vector<std::string> lines = absl::StrSplit(out.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0],
            "Concurrency,Inferences/Second,Client Send,Network+Server Send/Recv,Server Queue,"
            "Server Compute Input,Server Compute Infer,Server Compute Output,Client Recv,"
            "p50 latency,p90 latency,p95 latency,p99 latency");
  // 1620 - 12 - 8 - (100 + 10 + 1000 + 10) = 480 us on the network and in the server's frontend.
  EXPECT_EQ(lines[2], "2,1234.57,12,480,100,10,1000,10,8,1000,1800,1900,1980");
  EXPECT_TRUE(CsvHeader(LoadKind::kRequestRate).starts_with("Request Rate,"));
}

// perf_analyzer's report writer sorts the rows by increasing throughput, truncates times to
// whole microseconds and prints doubles with six significant digits.
TEST(PerfReportTest, CsvRowsAreSortedByThroughputAndFormattedAsPerfAnalyzer) {
  PerfResult slow = Result(8);
  slow.measurement.throughput = 123456.78;
  slow.measurement.client_send = absl::Nanoseconds(12999);  // 12.999 us -> 12
  PerfResult fast = Result(2);
  fast.measurement.throughput = 99.5;
  std::ostringstream out;
  WriteCsv(out, LoadKind::kConcurrency, {slow, fast});
  std::vector<std::string> lines = absl::StrSplit(out.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_TRUE(lines[1].starts_with("2,99.5,12,")) << lines[1];
  EXPECT_TRUE(lines[2].starts_with("8,123457,12,")) << lines[2];

  PerfResult rate = Result(0.5);
  rate.kind = LoadKind::kRequestRate;
  std::ostringstream rates;
  WriteCsv(rates, LoadKind::kRequestRate, {rate});
  EXPECT_NE(rates.str().find("\n0.5,1234.57,"), std::string::npos) << rates.str();
}

// Without server statistics perf_analyzer leaves out the server columns; --percentile adds its
// column in order; --verbose-csv adds Avg latency (only without --percentile), request/response
// and response wait, and with --collect-metrics the GPU columns.
TEST(PerfReportTest, OptionalCsvColumnsFollowPerfAnalyzer) {
  CsvLayout layout;
  layout.server_statistics = false;
  layout.verbose = true;
  EXPECT_EQ(CsvHeader(LoadKind::kConcurrency, layout),
            "Concurrency,Inferences/Second,Client Send,Client Recv,p50 latency,p90 latency,"
            "p95 latency,p99 latency,Avg latency,request/response,response wait");
  std::ostringstream out;
  WriteCsv(out, LoadKind::kConcurrency, {Result(1)}, layout);
  // Avg latency 1620, request/response 12 + 8, response wait 1620 - 20.
  EXPECT_NE(out.str().find("\n1,1234.57,12,8,1000,1800,1900,1980,1620,20,1600\n"),
            std::string::npos)
      << out.str();

  layout.server_statistics = true;
  layout.response_cache = true;
  layout.percentile = 85;
  layout.gpu_metrics = true;
  EXPECT_EQ(CsvHeader(LoadKind::kRequestRate, layout),
            "Request Rate,Inferences/Second,Client Send,Network+Server Send/Recv,Server Queue,"
            "Server Compute Input,Server Compute Infer,Server Compute Output,Server Cache Hit,"
            "Server Cache Miss,Client Recv,p50 latency,p85 latency,p90 latency,p95 latency,"
            "p99 latency,request/response,response wait,Avg GPU Utilization,Avg GPU Power Usage,"
            "Max GPU Memory Usage,Total GPU Memory");
  PerfResult with_gpu = Result(1);
  with_gpu.measurement.percentiles[85] = absl::Microseconds(1700);
  with_gpu.gpu = GpuMetrics{{{"GPU-a", 0.25}, {"GPU-b", 1}},
                            {{"GPU-a", 91.5}},
                            {{"GPU-a", 1000000000}},
                            {{"GPU-a", 2000000000}}};
  PerfResult without_gpu = Result(2);
  without_gpu.measurement.throughput = 2000;
  without_gpu.measurement.percentiles[85] = absl::Microseconds(1700);
  without_gpu.gpu = GpuMetrics{};
  std::ostringstream gpu_out;
  WriteCsv(gpu_out, LoadKind::kRequestRate, {without_gpu, with_gpu}, layout);
  std::vector<std::string> lines = absl::StrSplit(gpu_out.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1],
            "1,1234.57,12,480,100,10,1000,10,0,0,8,1000,1700,1800,1900,1980,20,1600,"
            "GPU-a:0.25;GPU-b:1;,GPU-a:91.5;,GPU-a:1000000000;,GPU-a:2000000000;");
  EXPECT_TRUE(lines[2].ends_with(",20,1600,,,,")) << lines[2];  // a server without GPUs
}

TEST(PerfReportTest, JsonHasEveryNumber) {
  PerfOptions options;
  options.model = "m";
  std::ostringstream out;
  PerfResult unstable = Result(4);
  unstable.stable = false;
  unstable.measurement.server.reset();
  WriteJson(out, options, {Result(1), unstable});
  nlohmann::json json = nlohmann::json::parse(out.str());
  EXPECT_EQ(json["model"], "m");
  EXPECT_EQ(json["results"][0]["latency_us"]["p95"], 1900);
  EXPECT_EQ(json["results"][0]["server_us"]["compute_infer"], 1000);
  EXPECT_EQ(json["results"][1]["concurrency"], 4);
  EXPECT_FALSE(json["results"][1]["stable"]);
  EXPECT_TRUE(json["results"][1]["server_us"].is_null());
  EXPECT_NE(FormatResult(unstable).find("not stable"), std::string::npos);
}

}  // namespace
}  // namespace sonic::tools
