#include "server/metrics/metrics_collector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sonic::server::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

ModelSample FakeSample() {
  ModelSample sample;
  sample.model = "identity_fp32";
  sample.version = 3;
  sample.stats.success = {7, 70'000};
  sample.stats.fail = {3, 9'000};
  sample.stats.failures[static_cast<size_t>(FailureReason::kRejected)] = 1;
  sample.stats.failures[static_cast<size_t>(FailureReason::kBackend)] = 2;
  sample.stats.request_ns = 79'000;
  sample.stats.queue = {7, 14'000};
  sample.stats.compute_input = {7, 1'500};
  sample.stats.compute_infer = {7, 42'000};
  sample.stats.compute_output = {7, 250};
  sample.stats.inference_count = 12;
  sample.stats.execution_count = 5;
  sample.pending = 4;
  return sample;
}

TEST(ModelFamiliesTest, RendersEveryMetricWithModelAndVersionLabels) {
  std::string text = RenderText(ModelFamilies({FakeSample()}));
  const std::string labels = "{model=\"identity_fp32\",version=\"3\"}";
  EXPECT_THAT(text, HasSubstr("\nnv_inference_request_success" + labels + " 7\n"));
  EXPECT_THAT(text, HasSubstr("\nnv_inference_count" + labels + " 12\n"));
  EXPECT_THAT(text, HasSubstr("\nnv_inference_exec_count" + labels + " 5\n"));
  EXPECT_THAT(text, HasSubstr("\nnv_inference_request_duration_us" + labels + " 79\n"));
  EXPECT_THAT(text, HasSubstr("\nnv_inference_queue_duration_us" + labels + " 14\n"));
  EXPECT_THAT(text, HasSubstr("\nnv_inference_compute_input_duration_us" + labels + " 1.5\n"));
  EXPECT_THAT(text, HasSubstr("\nnv_inference_compute_infer_duration_us" + labels + " 42\n"));
  EXPECT_THAT(text, HasSubstr("\nnv_inference_compute_output_duration_us" + labels + " 0.25\n"));
  EXPECT_THAT(text, HasSubstr("\nnv_inference_pending_request_count" + labels + " 4\n"));
}

TEST(ModelFamiliesTest, FailuresHaveEveryReason) {
  std::string text = RenderText(ModelFamilies({FakeSample()}));
  const std::string prefix =
      "\nnv_inference_request_failure{model=\"identity_fp32\",version=\"3\",reason=";
  EXPECT_THAT(text, HasSubstr(prefix + "\"REJECTED\"} 1\n"));
  EXPECT_THAT(text, HasSubstr(prefix + "\"CANCELED\"} 0\n"));
  EXPECT_THAT(text, HasSubstr(prefix + "\"BACKEND\"} 2\n"));
  EXPECT_THAT(text, HasSubstr(prefix + "\"OTHER\"} 0\n"));
}

TEST(ModelFamiliesTest, AdmissionRefusalsExpectedQueueTimeAndTheLimit) {
  ModelSample limited = FakeSample();
  limited.admission.limit_ns = 50'000'000;
  limited.admission.expected_queue_ns = 1'234'500;
  limited.admission.refused[static_cast<size_t>(RefusalReason::kQueueTime)] = 9;
  ModelSample unlimited = FakeSample();
  unlimited.model = "free";
  std::string text = RenderText(ModelFamilies({limited, unlimited}));
  const std::string labels = "{model=\"identity_fp32\",version=\"3\"";
  EXPECT_THAT(text, HasSubstr("\nsonic_inference_request_refused" + labels +
                              ",reason=\"QUEUE_TIME\"} 9\n"));
  EXPECT_THAT(text, HasSubstr("\nsonic_inference_request_refused" + labels +
                              ",reason=\"QUEUE_SIZE\"} 0\n"));
  EXPECT_THAT(text,
              HasSubstr("\nsonic_inference_expected_queue_duration_us" + labels + "} 1234.5\n"));
  EXPECT_THAT(text, HasSubstr("\nsonic_inference_queue_duration_limit_us" + labels + "} 50000\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE sonic_inference_request_refused counter"));
  EXPECT_THAT(text, HasSubstr("# TYPE sonic_inference_expected_queue_duration_us gauge"));
  // A model without a limit has no limit sample.
  EXPECT_THAT(text, Not(HasSubstr("sonic_inference_queue_duration_limit_us{model=\"free\"")));
}

TEST(ModelFamiliesTest, TypeLines) {
  std::string text = RenderText(ModelFamilies({FakeSample()}));
  for (const char* counter :
       {"nv_inference_request_success", "nv_inference_request_failure", "nv_inference_count",
        "nv_inference_exec_count", "nv_inference_request_duration_us",
        "nv_inference_queue_duration_us", "nv_inference_compute_input_duration_us",
        "nv_inference_compute_infer_duration_us", "nv_inference_compute_output_duration_us"}) {
    EXPECT_THAT(text, HasSubstr(std::string("# TYPE ") + counter + " counter\n"));
    EXPECT_THAT(text, HasSubstr(std::string("# HELP ") + counter + " "));
  }
  EXPECT_THAT(text, HasSubstr("# TYPE nv_inference_pending_request_count gauge\n"));
}

TEST(ModelFamiliesTest, OneSamplePerVersionAndEscapedNames) {
  ModelSample odd = FakeSample();
  odd.model = "odd\"name\\";
  odd.version = 1;
  std::string text = RenderText(ModelFamilies({FakeSample(), odd}));
  EXPECT_THAT(text,
              HasSubstr("nv_inference_exec_count{model=\"identity_fp32\",version=\"3\"} 5\n"
                        "nv_inference_exec_count{model=\"odd\\\"name\\\\\",version=\"1\"} 5\n"));
}

TEST(ModelFamiliesTest, NoModelsStillDeclaresTheFamilies) {
  std::string text = RenderText(ModelFamilies({}));
  EXPECT_THAT(text, HasSubstr("# TYPE nv_inference_request_success counter\n"));
  EXPECT_THAT(text, Not(HasSubstr("{")));
}

TEST(ModelStatisticsSnapshotTest, CarriesEveryCounter) {
  ModelStatistics stats;
  stats.RecordSuccess(1000, 100, {10, 20, 30});
  stats.RecordSuccess(2000, 200, {10, 20, 30});
  stats.RecordFailure(500, FailureReason::kBackend);
  stats.RecordFailure(300, FailureReason::kCanceled);
  stats.RecordFailure(200, FailureReason::kCanceled);
  stats.RecordExecution(2, {10, 20, 30}, 1234);
  StatisticsSnapshot snapshot = stats.Snapshot();
  EXPECT_EQ(snapshot.success.count, 2u);
  EXPECT_EQ(snapshot.success.ns, 3000u);
  EXPECT_EQ(snapshot.fail.count, 3u);
  EXPECT_EQ(snapshot.fail.ns, 1000u);
  EXPECT_EQ(snapshot.failure_count(FailureReason::kBackend), 1u);
  EXPECT_EQ(snapshot.failure_count(FailureReason::kCanceled), 2u);
  EXPECT_EQ(snapshot.failure_count(FailureReason::kRejected), 0u);
  EXPECT_EQ(snapshot.failure_count(FailureReason::kOther), 0u);
  EXPECT_EQ(snapshot.request_ns, 4000u);
  EXPECT_EQ(snapshot.queue.ns, 300u);
  EXPECT_EQ(snapshot.compute_input.ns, 20u);
  EXPECT_EQ(snapshot.compute_infer.ns, 40u);
  EXPECT_EQ(snapshot.compute_output.ns, 60u);
  EXPECT_EQ(snapshot.inference_count, 2u);
  EXPECT_EQ(snapshot.execution_count, 1u);
  EXPECT_EQ(snapshot.last_inference_ms, 1234u);
}

TEST(FailureReasonNameTest, ProtocolNames) {
  EXPECT_EQ(FailureReasonName(FailureReason::kRejected), "REJECTED");
  EXPECT_EQ(FailureReasonName(FailureReason::kCanceled), "CANCELED");
  EXPECT_EQ(FailureReasonName(FailureReason::kBackend), "BACKEND");
  EXPECT_EQ(FailureReasonName(FailureReason::kOther), "OTHER");
}

class FixedSource : public MetricsSource {
 public:
  void Collect(std::vector<MetricFamily>& families) override {
    families.push_back({"nv_gpu_utilization",
                        "GPU utilization",
                        MetricType::kGauge,
                        {{{{"gpu_uuid", "GPU-0"}}, 0.5}}});
  }
};

TEST(MetricsCollectorTest, AppendsTheSourcesAfterTheModelFamilies) {
  ModelManager manager({});
  std::vector<std::unique_ptr<MetricsSource>> sources;
  sources.push_back(std::make_unique<FixedSource>());
  MetricsCollector collector(manager, std::move(sources));
  std::string text = collector.Scrape();
  EXPECT_THAT(text, HasSubstr("# TYPE nv_inference_request_success counter\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE nv_gpu_utilization gauge\n"
                              "nv_gpu_utilization{gpu_uuid=\"GPU-0\"} 0.5\n"));
  EXPECT_LT(text.find("nv_inference_pending_request_count"), text.find("nv_gpu_utilization"));
}

}  // namespace
}  // namespace sonic::server::metrics
