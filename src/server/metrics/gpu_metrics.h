// Per-GPU metrics on /metrics with Triton's names and label: nv_gpu_utilization (0..1),
// nv_gpu_memory_total_bytes and nv_gpu_memory_used_bytes, each sample labelled gpu_uuid.
//
// The numbers come from NVML, loaded with dlopen at run time (libnvidia-ml.so.1, installed with
// the NVIDIA driver), so the server has no build dependency on it. Without the library, or
// without a GPU, there is no GPU source at all: the families are absent from the scrape, and
// nothing is an error.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "server/metrics/metrics_source.h"

namespace sonic::server::metrics {

// One GPU as of one reading; a value NVML could not give is empty.
struct GpuSample {
  std::string uuid;  // "GPU-..." as NVML names it
  std::optional<double> utilization;  // fraction of the last sample period a kernel ran, 0..1
  std::optional<uint64_t> memory_total_bytes;
  std::optional<uint64_t> memory_used_bytes;
};

// Reads every GPU. Implementations must be thread-safe (two scrapes may read at once).
class GpuReader {
 public:
  virtual ~GpuReader() = default;
  // One sample per GPU, in device order; a GPU that cannot be read at all is left out.
  virtual std::vector<GpuSample> Read() = 0;
};

// NVML through dlopen. Null when `library` cannot be loaded, lacks a needed symbol, NVML does
// not initialize (e.g. no driver) or sees no GPU. The reader keeps NVML initialized and the
// library loaded until it is destroyed.
std::unique_ptr<GpuReader> LoadNvmlGpuReader(const std::string& library = "libnvidia-ml.so.1");

// The three GPU families from a reader's samples. Thread-safe when the reader is.
class GpuMetricsSource : public MetricsSource {
 public:
  explicit GpuMetricsSource(std::unique_ptr<GpuReader> reader) : reader_(std::move(reader)) {}

  void Collect(std::vector<MetricFamily>& families) override;

 private:
  std::unique_ptr<GpuReader> reader_;
};

// The GPU metrics of this machine: a GpuMetricsSource over NVML, or null when NVML or a GPU is
// absent (LoadNvmlGpuReader).
std::unique_ptr<MetricsSource> CreateGpuMetricsSource(
    const std::string& library = "libnvidia-ml.so.1");

}  // namespace sonic::server::metrics
