// What GET /metrics answers: the per-model Prometheus metrics of every READY model version (the
// names and meaning of Triton's, docs/PROTOCOL.md "Prometheus metrics") followed by the
// families of the extra sources (host CPU and memory; GPUs when NVML sees any), rendered at scrape time from
// the live statistics. Nothing is cached between scrapes, so the counters are always current.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "server/core/admission.h"
#include "server/core/model_manager.h"
#include "server/core/model_statistics.h"
#include "server/metrics/metrics_source.h"
#include "server/metrics/prometheus_text.h"

namespace sonic::server::metrics {

// One model version's numbers at scrape time.
struct ModelSample {
  std::string model;
  int64_t version = 0;
  StatisticsSnapshot stats;
  uint64_t pending = 0;  // requests queued or executing
  AdmissionSnapshot admission;
};

// The per-model families of `models`, every sample labelled model and version (failures also by
// reason, every reason present): counters nv_inference_request_success,
// nv_inference_request_failure, nv_inference_count, nv_inference_exec_count,
// nv_inference_request_duration_us, nv_inference_queue_duration_us,
// nv_inference_compute_{input,infer,output}_duration_us (cumulative microseconds, fractional),
// and the gauge nv_inference_pending_request_count; then sonic-server's admission control
// (admission.h): the counter sonic_inference_request_refused (label reason = QUEUE_TIME |
// QUEUE_SIZE), the gauge sonic_inference_expected_queue_duration_us (for a request arriving now),
// and, for models with a limit, the gauge sonic_inference_queue_duration_limit_us. Pure.
std::vector<MetricFamily> ModelFamilies(const std::vector<ModelSample>& models);

// Thread-safe (Scrape may run on several threads at once). Borrows the manager, which must
// outlive the collector; owns the sources.
class MetricsCollector {
 public:
  MetricsCollector(const ModelManager& manager, std::vector<std::unique_ptr<MetricsSource>> sources)
      : manager_(manager), sources_(std::move(sources)) {}

  // The exposition text (content type kPrometheusContentType). Does not block on model loads.
  std::string Scrape() const;

 private:
  const ModelManager& manager_;
  const std::vector<std::unique_ptr<MetricsSource>> sources_;
};

}  // namespace sonic::server::metrics
