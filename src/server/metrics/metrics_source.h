// The seam through which metric families other than the per-model ones reach a scrape: host CPU
// and memory (HostMetricsSource) and, where NVML finds GPUs, nv_gpu_utilization,
// nv_gpu_memory_total_bytes and nv_gpu_memory_used_bytes with label gpu_uuid (GpuMetricsSource).
#pragma once

#include <vector>

#include "server/metrics/prometheus_text.h"

namespace sonic::server::metrics {

// Implementations must be thread-safe: two scrapes may collect at once.
class MetricsSource {
 public:
  virtual ~MetricsSource() = default;

  // Appends this source's families as of now. Never fails a scrape: a value that cannot be read
  // is left out (its family may then have no samples).
  virtual void Collect(std::vector<MetricFamily>& families) = 0;
};

}  // namespace sonic::server::metrics
