#include "measurement.h"

#include <algorithm>

namespace sonic::tools {
namespace {

// perf_analyzer's rule: the value at index round(percent/100 x (n - 1)), halves rounded up.
absl::Duration Percentile(const std::vector<absl::Duration>& sorted, int percent) {
  if (sorted.empty()) return absl::ZeroDuration();
  const size_t index = static_cast<size_t>(static_cast<double>(percent) / 100.0 *
                                               static_cast<double>(sorted.size() - 1) +
                                           0.5);
  return sorted[std::min(index, sorted.size() - 1)];
}

// Whether the largest of `values` is within 1 + threshold of the smallest (all positive).
bool MaxOverMinWithin(const std::vector<double>& values, double threshold) {
  auto [min, max] = std::minmax_element(values.begin(), values.end());
  return *min > 0 && *max / *min <= 1 + threshold;
}

}  // namespace

absl::Duration Measurement::network_and_server_send_recv() const {
  absl::Duration rest = mean_latency - client_send - client_recv;
  if (server.has_value()) rest -= server->total();
  return std::max(rest, absl::ZeroDuration());
}

Measurement Summarize(const std::vector<RequestRecord>& records, absl::Duration duration,
                      int64_t batch_size, std::optional<ServerBreakdown> server,
                      std::optional<int> extra_percentile) {
  Measurement measurement;
  measurement.duration = duration;
  measurement.server = server;
  std::vector<absl::Duration> latencies;
  absl::Duration send, recv, total;
  for (const RequestRecord& record : records) {
    if (!record.ok) {
      ++measurement.failures;
      continue;
    }
    latencies.push_back(record.end - record.start);
    total += record.end - record.start;
    send += record.send;
    recv += record.recv;
  }
  measurement.successes = static_cast<int64_t>(latencies.size());
  if (duration > absl::ZeroDuration()) {
    measurement.throughput = static_cast<double>(measurement.successes * batch_size) /
                             absl::ToDoubleSeconds(duration);
  }
  if (measurement.successes > 0) {
    measurement.mean_latency = total / measurement.successes;
    measurement.client_send = send / measurement.successes;
    measurement.client_recv = recv / measurement.successes;
  }
  std::sort(latencies.begin(), latencies.end());
  for (int percent : kReportedPercentiles) {
    measurement.percentiles[percent] = Percentile(latencies, percent);
  }
  if (extra_percentile.has_value()) {
    measurement.percentiles[*extra_percentile] = Percentile(latencies, *extra_percentile);
  }
  return measurement;
}

absl::Duration StabilityLatency(const Measurement& measurement, std::optional<int> percentile) {
  if (!percentile.has_value()) return measurement.mean_latency;
  auto it = measurement.percentiles.find(*percentile);
  return it == measurement.percentiles.end() ? measurement.mean_latency : it->second;
}

bool IsStable(std::span<const Measurement> windows, double threshold,
              std::optional<int> percentile, bool check_latency) {
  if (windows.size() < kStableWindows) return false;
  std::vector<double> throughputs;
  std::vector<double> latencies;
  for (const Measurement& window : windows.last(kStableWindows)) {
    if (window.successes == 0) return false;
    throughputs.push_back(window.throughput);
    latencies.push_back(absl::ToDoubleNanoseconds(StabilityLatency(window, percentile)));
  }
  return MaxOverMinWithin(throughputs, threshold) &&
         (!check_latency || MaxOverMinWithin(latencies, threshold));
}

}  // namespace sonic::tools
