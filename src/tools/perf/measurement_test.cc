#include "measurement.h"

#include <gtest/gtest.h>

#include <vector>

namespace sonic::tools {
namespace {

const absl::Time kEpoch = absl::FromUnixSeconds(1000);

RequestRecord Call(int start_ms, int latency_ms, bool ok = true) {
  RequestRecord record;
  record.start = kEpoch + absl::Milliseconds(start_ms);
  record.end = record.start + absl::Milliseconds(latency_ms);
  record.send = absl::Microseconds(100);
  record.recv = absl::Microseconds(50);
  record.ok = ok;
  return record;
}

TEST(MeasurementTest, SummarizesThroughputLatencyAndPercentiles) {
  std::vector<RequestRecord> records;
  for (int i = 1; i <= 100; ++i) records.push_back(Call(i, i));  // latencies 1..100 ms
  records.push_back(Call(0, 500, /*ok=*/false));
  ServerBreakdown server;
  server.queue = absl::Milliseconds(10);
  server.compute_infer = absl::Milliseconds(20);
  Measurement m = Summarize(records, absl::Seconds(2), /*batch_size=*/4, server, 75);
  EXPECT_EQ(m.successes, 100);
  EXPECT_EQ(m.failures, 1);
  EXPECT_DOUBLE_EQ(m.throughput, 200.0);  // 100 requests x 4 entries / 2 s
  EXPECT_EQ(m.mean_latency, absl::Microseconds(50500));
  // perf_analyzer's index round(p/100 x 99): 50 -> index 50 (51 ms), 75 -> 74, 99 -> 98.
  EXPECT_EQ(m.percentiles.at(50), absl::Milliseconds(51));
  EXPECT_EQ(m.percentiles.at(75), absl::Milliseconds(75));
  EXPECT_EQ(m.percentiles.at(99), absl::Milliseconds(99));
  EXPECT_EQ(m.client_send, absl::Microseconds(100));
  // 50.5 ms - 0.1 - 0.05 - 30 ms in the server.
  EXPECT_EQ(m.network_and_server_send_recv(), absl::Microseconds(20350));
}

TEST(MeasurementTest, NetworkTimeIsFlooredAtZero) {
  ServerBreakdown server;
  server.compute_infer = absl::Seconds(1);  // more than the client waited (another client's)
  Measurement m = Summarize({Call(0, 5)}, absl::Seconds(1), 1, server);
  EXPECT_EQ(m.network_and_server_send_recv(), absl::ZeroDuration());
}

Measurement Window(double throughput, int latency_us) {
  Measurement m;
  m.successes = 10;
  m.throughput = throughput;
  m.mean_latency = absl::Microseconds(latency_us);
  m.percentiles[99] = absl::Microseconds(latency_us * 2);
  return m;
}

TEST(MeasurementTest, StableWhenTheLastThreeAgree) {
  std::vector<Measurement> windows = {Window(10, 1000), Window(100, 1000), Window(104, 1030)};
  EXPECT_FALSE(IsStable(windows, 0.10, std::nullopt));
  windows.push_back(Window(97, 980));
  EXPECT_TRUE(IsStable(windows, 0.10, std::nullopt));
  EXPECT_FALSE(IsStable(windows, 0.01, std::nullopt));
  windows.back().percentiles[99] = absl::Microseconds(4000);  // p99 jumps; the mean does not
  EXPECT_TRUE(IsStable(windows, 0.10, std::nullopt));
  EXPECT_FALSE(IsStable(windows, 0.10, 99));
}

// perf_analyzer compares the largest with the smallest of the last three windows, not each with
// their mean: 100 and 109 are within 10% of each other, 100 and 111 are not.
TEST(MeasurementTest, StabilityComparesLargestWithSmallest) {
  std::vector<Measurement> windows = {Window(100, 1000), Window(105, 1000), Window(109, 1000)};
  EXPECT_TRUE(IsStable(windows, 0.10, std::nullopt));
  windows.back() = Window(111, 1000);
  EXPECT_FALSE(IsStable(windows, 0.10, std::nullopt));
  windows.back() = Window(105, 5000);  // latency grows (an async load above capacity)
  EXPECT_FALSE(IsStable(windows, 0.10, std::nullopt));
  EXPECT_TRUE(IsStable(windows, 0.10, std::nullopt, /*check_latency=*/false));
}

TEST(MeasurementTest, WindowsWithoutSuccessesAreNeverStable) {
  Measurement empty;
  std::vector<Measurement> windows = {empty, empty, empty};
  EXPECT_FALSE(IsStable(windows, 0.10, std::nullopt));
  EXPECT_FALSE(IsStable(std::vector<Measurement>{Window(1, 1), Window(1, 1)}, 0.5, std::nullopt));
}

}  // namespace
}  // namespace sonic::tools
