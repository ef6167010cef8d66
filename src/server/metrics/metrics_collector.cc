#include "server/metrics/metrics_collector.h"

#include <functional>
#include <string_view>

namespace sonic::server::metrics {
namespace {

constexpr FailureReason kFailureReasons[] = {FailureReason::kRejected, FailureReason::kCanceled,
                                             FailureReason::kBackend, FailureReason::kOther};
static_assert(std::size(kFailureReasons) == kFailureReasonCount);

double Microseconds(uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

using Labels = std::vector<std::pair<std::string, std::string>>;

Labels ModelLabels(const ModelSample& model) {
  return {{"model", model.model}, {"version", std::to_string(model.version)}};
}

// A family with one sample per model, the value taken by `value`.
MetricFamily PerModel(std::string name, std::string help, MetricType type,
                      const std::vector<ModelSample>& models,
                      const std::function<double(const ModelSample&)>& value) {
  MetricFamily family{std::move(name), std::move(help), type, {}};
  for (const ModelSample& model : models) {
    family.samples.push_back({ModelLabels(model), value(model)});
  }
  return family;
}

MetricFamily PerModelCounter(std::string name, std::string help,
                             const std::vector<ModelSample>& models,
                             const std::function<double(const ModelSample&)>& value) {
  return PerModel(std::move(name), std::move(help), MetricType::kCounter, models, value);
}

MetricFamily FailureFamily(const std::vector<ModelSample>& models) {
  MetricFamily family{"nv_inference_request_failure",
                      "Number of failed inference requests, all batch sizes",
                      MetricType::kCounter,
                      {}};
  for (const ModelSample& model : models) {
    for (FailureReason reason : kFailureReasons) {
      Labels labels = ModelLabels(model);
      labels.emplace_back("reason", std::string(FailureReasonName(reason)));
      family.samples.push_back(
          {std::move(labels), static_cast<double>(model.stats.failure_count(reason))});
    }
  }
  return family;
}

MetricFamily RefusedFamily(const std::vector<ModelSample>& models) {
  MetricFamily family{"sonic_inference_request_refused",
                      "Number of inference requests refused before they queued, by admission "
                      "control (expected queue time over the limit) or a full queue",
                      MetricType::kCounter,
                      {}};
  for (const ModelSample& model : models) {
    for (RefusalReason reason : {RefusalReason::kQueueTime, RefusalReason::kQueueSize}) {
      Labels labels = ModelLabels(model);
      labels.emplace_back("reason", RefusalReasonName(reason));
      family.samples.push_back(
          {std::move(labels),
           static_cast<double>(model.admission.refused[static_cast<size_t>(reason)])});
    }
  }
  return family;
}

MetricFamily QueueLimitFamily(const std::vector<ModelSample>& models) {
  MetricFamily family{"sonic_inference_queue_duration_limit_us",
                      "Expected queue time above which requests are refused, in microseconds "
                      "(max_expected_queue_time_us; models with a limit only)",
                      MetricType::kGauge,
                      {}};
  for (const ModelSample& model : models) {
    if (model.admission.limit_ns == 0) continue;
    family.samples.push_back({ModelLabels(model), Microseconds(model.admission.limit_ns)});
  }
  return family;
}

}  // namespace

std::vector<MetricFamily> ModelFamilies(const std::vector<ModelSample>& models) {
  std::vector<MetricFamily> families;
  families.push_back(PerModelCounter(
      "nv_inference_request_success", "Number of successful inference requests, all batch sizes",
      models, [](const ModelSample& m) { return static_cast<double>(m.stats.success.count); }));
  families.push_back(FailureFamily(models));
  families.push_back(PerModelCounter(
      "nv_inference_count", "Number of inferences performed (does not include cached requests)",
      models, [](const ModelSample& m) { return static_cast<double>(m.stats.inference_count); }));
  families.push_back(PerModelCounter(
      "nv_inference_exec_count",
      "Number of model executions performed (does not include cached requests)", models,
      [](const ModelSample& m) { return static_cast<double>(m.stats.execution_count); }));
  families.push_back(PerModelCounter(
      "nv_inference_request_duration_us", "Cumulative inference request duration in microseconds",
      models, [](const ModelSample& m) { return Microseconds(m.stats.request_ns); }));
  families.push_back(PerModelCounter(
      "nv_inference_queue_duration_us", "Cumulative inference queuing duration in microseconds",
      models, [](const ModelSample& m) { return Microseconds(m.stats.queue.ns); }));
  families.push_back(PerModelCounter(
      "nv_inference_compute_input_duration_us", "Cumulative compute input duration in microseconds",
      models, [](const ModelSample& m) { return Microseconds(m.stats.compute_input.ns); }));
  families.push_back(
      PerModelCounter("nv_inference_compute_infer_duration_us",
                      "Cumulative compute inference duration in microseconds", models,
                      [](const ModelSample& m) { return Microseconds(m.stats.compute_infer.ns); }));
  families.push_back(PerModelCounter(
      "nv_inference_compute_output_duration_us",
      "Cumulative inference compute output duration in microseconds", models,
      [](const ModelSample& m) { return Microseconds(m.stats.compute_output.ns); }));
  families.push_back(PerModel(
      "nv_inference_pending_request_count",
      "Instantaneous number of pending requests awaiting execution per-model.", MetricType::kGauge,
      models, [](const ModelSample& m) { return static_cast<double>(m.pending); }));
  families.push_back(RefusedFamily(models));
  families.push_back(PerModel(
      "sonic_inference_expected_queue_duration_us",
      "Expected queue time of a request arriving now, in microseconds (the requests ahead times "
      "the recent execution time per request, over the instances)",
      MetricType::kGauge, models,
      [](const ModelSample& m) { return Microseconds(m.admission.expected_queue_ns); }));
  families.push_back(QueueLimitFamily(models));
  return families;
}

std::string MetricsCollector::Scrape() const {
  std::vector<ModelSample> models;
  for (const std::shared_ptr<ModelVersion>& version : manager_.ReadyModels()) {
    models.push_back({version->name(), version->version(), version->stats().Snapshot(),
                      static_cast<uint64_t>(version->pending()), version->admission()});
  }
  std::vector<MetricFamily> families = ModelFamilies(models);
  for (const std::unique_ptr<MetricsSource>& source : sources_) source->Collect(families);
  return RenderText(families);
}

}  // namespace sonic::server::metrics
