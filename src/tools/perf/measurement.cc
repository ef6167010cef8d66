#include "measurement.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace sonic::tools {
namespace {

// Nearest rank: the smallest value with at least `percent`% of the values at or below it.
absl::Duration Percentile(const std::vector<absl::Duration>& sorted, int percent) {
  if (sorted.empty()) return absl::ZeroDuration();
  const size_t rank = static_cast<size_t>(
      std::ceil(static_cast<double>(percent) / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

bool WithinFraction(double value, double mean, double threshold) {
  return mean > 0 && std::abs(value - mean) <= threshold * mean;
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
              std::optional<int> percentile) {
  if (windows.size() < kStableWindows) return false;
  std::span<const Measurement> last = windows.last(kStableWindows);
  double throughput_mean = 0;
  double latency_mean = 0;
  for (const Measurement& window : last) {
    if (window.successes == 0) return false;
    throughput_mean += window.throughput / kStableWindows;
    latency_mean += absl::ToDoubleMicroseconds(StabilityLatency(window, percentile)) /
                    kStableWindows;
  }
  return std::all_of(last.begin(), last.end(), [&](const Measurement& window) {
    return WithinFraction(window.throughput, throughput_mean, threshold) &&
           WithinFraction(absl::ToDoubleMicroseconds(StabilityLatency(window, percentile)),
                          latency_mean, threshold);
  });
}

}  // namespace sonic::tools
