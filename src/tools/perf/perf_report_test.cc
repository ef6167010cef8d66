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
