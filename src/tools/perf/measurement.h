// Measurement windows of a perf run and their stability, as perf_analyzer judges them.
//
// A window covers the requests that ended within it; its throughput is their inferences (batch
// entries) per second of window, its latencies are theirs (start of serialization to end of
// parsing, so client send and recv are included). Network+Server Send/Recv is what the mean
// latency leaves after client send, client recv and the server's stages, floored at 0.
// Stateless functions on values; thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "absl/time/time.h"
#include "inference_connection.h"
#include "server_statistics.h"

namespace sonic::tools {

// The percentiles every report has (perf_analyzer's p50, p90, p95, p99).
inline constexpr int kReportedPercentiles[] = {50, 90, 95, 99};

struct Measurement {
  absl::Duration duration;
  int64_t successes = 0;  // requests that ended OK in the window
  int64_t failures = 0;
  double throughput = 0;  // inferences per second: successes x batch size / duration
  absl::Duration mean_latency;
  absl::Duration client_send;  // averages over the successes
  absl::Duration client_recv;
  std::map<int, absl::Duration> percentiles;  // kReportedPercentiles and any asked for
  std::optional<ServerBreakdown> server;       // none when the server gave no statistics

  // Mean latency minus client send, client recv and the server's stages, floored at 0.
  absl::Duration network_and_server_send_recv() const;
};

// Summarizes `records` (the calls that ended in a window of `duration`) of requests of
// `batch_size` entries. Percentiles are taken over the successes as perf_analyzer takes them
// (the value at index round(p/100 x (n-1))); `extra_percentile` (1..99, when given) is computed
// besides the reported ones.
Measurement Summarize(const std::vector<RequestRecord>& records, absl::Duration duration,
                      int64_t batch_size, std::optional<ServerBreakdown> server,
                      std::optional<int> extra_percentile = std::nullopt);

// The latency stability is judged on: the given percentile, or the mean.
absl::Duration StabilityLatency(const Measurement& measurement, std::optional<int> percentile);

// The number of consecutive windows that must agree.
inline constexpr size_t kStableWindows = 3;

// Whether the last kStableWindows of `windows` agree as perf_analyzer judges it: every one has
// successes, and the largest throughput is within 1 + `threshold` (0.1 for its default 10%) of
// the smallest, and so is the largest stability latency (unless !check_latency). False with
// fewer windows.
bool IsStable(std::span<const Measurement> windows, double threshold,
              std::optional<int> percentile, bool check_latency = true);

}  // namespace sonic::tools
