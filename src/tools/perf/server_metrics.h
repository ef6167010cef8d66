// --collect-metrics: the GPU figures of a server's Prometheus metrics (docs/PROTOCOL.md) that
// perf_analyzer reports in its verbose CSV, scraped every --metrics-interval during a load level.
// Per GPU (label gpu_uuid) a level reports the mean utilization (0..1) and power (W) of its
// scrapes, the largest memory used and the first total memory (bytes), as perf_analyzer merges
// them. A server without GPUs has none of these metrics: the figures are then empty.
//
// The functions are stateless; MetricsScraper is thread-safe (its own thread scrapes).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "perf_options.h"

namespace sonic::tools {

struct GpuMetrics {
  std::map<std::string, double> utilization;     // nv_gpu_utilization
  std::map<std::string, double> power_usage;     // nv_gpu_power_usage
  std::map<std::string, uint64_t> memory_used;   // nv_gpu_memory_used_bytes
  std::map<std::string, uint64_t> memory_total;  // nv_gpu_memory_total_bytes
};

// The GPU metrics of one scrape (Prometheus text exposition); other lines are skipped.
GpuMetrics ParseGpuMetrics(absl::string_view exposition);

// One level's figures from its scrapes (see above); empty maps for no scrapes.
GpuMetrics MergeGpuMetrics(std::span<const GpuMetrics> scrapes);

// Where --metrics-url points: "[http://]host[:port][/path]", port 8002 and path /metrics by
// default. INVALID_ARGUMENT for https or a port that is not a number in 1..65535.
struct MetricsEndpoint {
  std::string host;
  int port = 8002;
  std::string path = "/metrics";
};
absl::StatusOr<MetricsEndpoint> ParseMetricsUrl(const std::string& url);

// GET of the endpoint. UNAVAILABLE when it cannot be reached or answers other than 200.
absl::StatusOr<std::string> FetchMetricsText(const MetricsEndpoint& endpoint,
                                             absl::Duration timeout);

class MetricsScraper {
 public:
  // Scrapes once (so an unreachable endpoint fails here, with FetchMetricsText's error), then
  // every interval on its own thread until destroyed.
  static absl::StatusOr<std::unique_ptr<MetricsScraper>> Start(const MetricsOptions& options);

  ~MetricsScraper();
  MetricsScraper(const MetricsScraper&) = delete;
  MetricsScraper& operator=(const MetricsScraper&) = delete;

  // The scrapes since the last call; the first failed scrape's error instead if one failed.
  absl::StatusOr<std::vector<GpuMetrics>> Take();

 private:
  MetricsScraper(MetricsEndpoint endpoint, absl::Duration interval);
  void Loop();
  void ScrapeOnce();

  const MetricsEndpoint endpoint_;
  const absl::Duration interval_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<GpuMetrics> scrapes_ ABSL_GUARDED_BY(mu_);
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace sonic::tools
