// The scheduler and batch executor on the built-in identity backend: batches are assembled and
// split back per request, every request completes exactly once, statistics add up, and draining
// lets queued requests finish while refusing new ones.
#include "server/core/scheduler.h"

#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <future>
#include <thread>

#include "absl/strings/match.h"
#include "backends/identity/identity_backend.h"
#include "sanitized_build.h"
#include "server/core/batch_executor.h"
#include "server/core/response_order.h"
#include "server/core/retry_delay.h"
#include "server/repository/model_config_loader.h"

namespace sonic::server {
namespace {

constexpr char kConfig[] = R"pb(
  name: "echo"
  backend: "identity"
  max_batch_size: 8
  input {
    name: "IN"
    data_type: TYPE_FP32
    dims: [ 2 ]
  }
  input {
    name: "TEXT"
    data_type: TYPE_STRING
    dims: [ 1 ]
  }
  output {
    name: "OUT"
    data_type: TYPE_FP32
    dims: [ 2 ]
  }
  output {
    name: "TEXT_OUT"
    data_type: TYPE_STRING
    dims: [ 1 ]
  }
)pb";

// Owns the bytes a request's inputs point into.
struct RequestData {
  std::vector<float> values;
  std::string text;
};

std::string Serialize(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) {
    uint32_t len = s.size();
    out.append(reinterpret_cast<const char*>(&len), 4);
    out += s;
  }
  return out;
}

class ConfiguredScheduler;

class SchedulerTest : public ::testing::Test {
 protected:
  // How many of `count` requests, sent one after another to `echo`, ran on the sending thread
  // (their completion ran there before Enqueue returned).
  int RunOnTheCallersThread(ConfiguredScheduler& echo, int count);

  void SetUp() override {
    auto config = ParseModelConfig(kConfig, "echo");
    ASSERT_TRUE(config.ok()) << config.status();
    config_ = *config;
    NormalizeModelConfig(config_);
    auto signature = ModelSignature::Create(config_, uint64_t{1} << 26);
    ASSERT_TRUE(signature.ok()) << signature.status();
    signature_ = *std::move(signature);
    auto model =
        BackendModel::Create(backends::IdentityBackendApi(), "echo", 1, "/nonexistent", config_);
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = *std::move(model);
    auto instance = BackendInstance::Create(*model_, "echo_0", SONIC_BACKEND_INSTANCE_CPU, -1);
    ASSERT_TRUE(instance.ok()) << instance.status();
    instance_ = *std::move(instance);
  }

  // A request of `rows` batch entries: IN row r = {base + r, -(base + r)}, TEXT row r =
  // "t<base+r>".
  std::unique_ptr<InferenceRequest> MakeRequest(
      int rows, float base, std::promise<absl::StatusOr<InferenceResponse>>* done) {
    auto& data = data_.emplace_back(std::make_unique<RequestData>());
    std::vector<std::string> texts;
    for (int r = 0; r < rows; ++r) {
      data->values.push_back(base + r);
      data->values.push_back(-(base + r));
      texts.push_back("t" + std::to_string(static_cast<int>(base) + r));
    }
    data->text = Serialize(texts);
    auto request = std::make_unique<InferenceRequest>();
    request->batch_size = rows;
    request->inputs.push_back(
        {"IN", DataType::kFp32, {rows, 2}, std::as_bytes(std::span<const float>(data->values))});
    request->inputs.push_back(
        {"TEXT",
         DataType::kBytes,
         {rows, 1},
         std::as_bytes(std::span<const char>(data->text.data(), data->text.size()))});
    request->outputs = {{"OUT"}, {"TEXT_OUT"}};
    request->on_complete = [done](absl::StatusOr<InferenceResponse> response) {
      done->set_value(std::move(response));
    };
    return request;
  }

  inference::ModelConfig config_;
  std::unique_ptr<ModelSignature> signature_;
  std::unique_ptr<BackendModel> model_;
  std::unique_ptr<BackendInstance> instance_;
  std::vector<std::unique_ptr<RequestData>> data_;
  ModelStatistics stats_;
};

std::vector<float> Floats(const OutputTensor& tensor) {
  std::vector<float> values(tensor.data.size() / sizeof(float));
  std::memcpy(values.data(), tensor.data.data(), tensor.data.size());
  return values;
}

TEST_F(SchedulerTest, BatchIsSplitBackPerRequest) {
  std::promise<absl::StatusOr<InferenceResponse>> done[3];
  Batch batch;
  batch.push_back(MakeRequest(1, 10, &done[0]));
  batch.push_back(MakeRequest(2, 20, &done[1]));
  batch.push_back(MakeRequest(1, 30, &done[2]));
  BatchExecutor executor(*signature_, 1, *instance_, stats_, SystemClock::Get());
  executor.Execute(std::move(batch));

  auto first = done[0].get_future().get();
  auto second = done[1].get_future().get();
  auto third = done[2].get_future().get();
  ASSERT_TRUE(first.ok() && second.ok() && third.ok());
  EXPECT_EQ(Floats(second->outputs[0]), (std::vector<float>{20, -20, 21, -21}));
  EXPECT_EQ(second->outputs[0].shape, (Shape{2, 2}));
  EXPECT_EQ(Floats(third->outputs[0]), (std::vector<float>{30, -30}));
  EXPECT_EQ(second->outputs[1].data, Serialize({"t20", "t21"}));
  EXPECT_EQ(third->outputs[1].data, Serialize({"t30"}));
  EXPECT_EQ(first->model_name, "echo");
  EXPECT_EQ(first->model_version, 1);

  inference::ModelStatistics message;
  stats_.FillProto(message);
  EXPECT_EQ(message.inference_count(), 4u);
  EXPECT_EQ(message.execution_count(), 1u);
  EXPECT_EQ(message.inference_stats().success().count(), 3u);
  EXPECT_EQ(message.inference_stats().compute_infer().count(), 3u);
  ASSERT_EQ(message.batch_stats_size(), 1);
  EXPECT_EQ(message.batch_stats(0).batch_size(), 4u);
}

TEST_F(SchedulerTest, OnlyRequestedOutputsAreReturned) {
  std::promise<absl::StatusOr<InferenceResponse>> done;
  auto request = MakeRequest(1, 5, &done);
  request->outputs = {{"TEXT_OUT"}};
  Batch batch;
  batch.push_back(std::move(request));
  BatchExecutor(*signature_, 1, *instance_, stats_, SystemClock::Get()).Execute(std::move(batch));
  auto response = done.get_future().get();
  ASSERT_TRUE(response.ok());
  ASSERT_EQ(response->outputs.size(), 1u);
  EXPECT_EQ(response->outputs[0].name, "TEXT_OUT");
}

TEST_F(SchedulerTest, ABatchTheBackendFailsRunsAgainRequestByRequest) {
  std::promise<absl::StatusOr<InferenceResponse>> done[3];
  Batch batch;
  batch.push_back(MakeRequest(1, 1, &done[0]));
  batch.push_back(MakeRequest(1, 2, &done[1]));
  batch.push_back(MakeRequest(2, 3, &done[2]));
  batch[1]->inputs[0].data = batch[1]->inputs[0].data.subspan(4);  // a row short: identity fails
  BatchExecutor(*signature_, 1, *instance_, stats_, SystemClock::Get()).Execute(std::move(batch));
  auto first = done[0].get_future().get();
  auto second = done[1].get_future().get();
  auto third = done[2].get_future().get();
  EXPECT_FALSE(second.ok());
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(Floats(first->outputs[0]), (std::vector<float>{1, -1}));
  EXPECT_EQ(Floats(third->outputs[0]), (std::vector<float>{3, -3, 4, -4}));
  inference::ModelStatistics message;
  stats_.FillProto(message);
  EXPECT_EQ(message.inference_stats().fail().count(), 1u);
  EXPECT_EQ(message.inference_stats().success().count(), 2u);
  EXPECT_EQ(message.execution_count(), 2u);  // the two that ran alone; the failed batch is not
}

TEST_F(SchedulerTest, RunsQueuedRequestsAndRefusesAfterDrain) {
  auto created = Scheduler::Create({&config_, 1, &stats_, &SystemClock::Get(), signature_.get()},
                                   {instance_.get()});
  ASSERT_TRUE(created.ok()) << created.status();
  Scheduler& scheduler = **created;
  constexpr int kRequests = 20;
  std::vector<std::promise<absl::StatusOr<InferenceResponse>>> done(kRequests);
  for (int i = 0; i < kRequests; ++i) scheduler.Enqueue(MakeRequest(1, i, &done[i]));
  scheduler.Drain();
  for (int i = 0; i < kRequests; ++i) {
    auto response = done[i].get_future().get();
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(Floats(response->outputs[0]), (std::vector<float>{float(i), -float(i)}));
  }
  EXPECT_EQ(scheduler.pending(), 0u);

  std::promise<absl::StatusOr<InferenceResponse>> late;
  scheduler.Enqueue(MakeRequest(1, 0, &late));
  EXPECT_EQ(late.get_future().get().status().code(), absl::StatusCode::kUnavailable);
}

// A scheduler on its own identity model with the given config text (inputs/outputs as kConfig).
class ConfiguredScheduler {
 public:
  explicit ConfiguredScheduler(
      std::string_view extra, int instance_count = 1,
      uint64_t quick_execution_ns = Scheduler::Options{}.quick_execution_ns) {
    auto config = ParseModelConfig(std::string(kConfig) + std::string(extra), "echo");
    EXPECT_TRUE(config.ok()) << config.status();
    config_ = *config;
    NormalizeModelConfig(config_);
    model_ = *BackendModel::Create(backends::IdentityBackendApi(), "echo", 1, "/none", config_);
    for (int i = 0; i < instance_count; ++i) {
      instances_.push_back(*BackendInstance::Create(*model_, "echo_" + std::to_string(i),
                                                    SONIC_BACKEND_INSTANCE_CPU, -1));
    }
    std::vector<BackendInstance*> borrowed;
    for (auto& instance : instances_) borrowed.push_back(instance.get());
    absl::StatusOr<std::unique_ptr<ModelSignature>> signature =
        ModelSignature::Create(config_, uint64_t{1} << 26);
    EXPECT_TRUE(signature.ok()) << signature.status();
    signature_ = *std::move(signature);
    scheduler_ = *Scheduler::Create(Scheduler::Options{&config_, 1, &stats_, &SystemClock::Get(),
                                                       signature_.get(), quick_execution_ns},
                                    std::move(borrowed));
  }
  Scheduler& scheduler() { return *scheduler_; }
  // Returns once nothing is queued or executing. A response reaches its client before the
  // worker records the execution's time for admission, so a test that needs the estimate
  // waits for this, not only for the response.
  void WaitIdle() {
    while (scheduler_->pending() != 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  inference::ModelStatistics Stats() {
    inference::ModelStatistics message;
    stats_.FillProto(message);
    return message;
  }

 private:
  inference::ModelConfig config_;
  std::unique_ptr<ModelSignature> signature_;
  ModelStatistics stats_;
  std::unique_ptr<BackendModel> model_;
  std::vector<std::unique_ptr<BackendInstance>> instances_;
  std::unique_ptr<Scheduler> scheduler_;
};

TEST_F(SchedulerTest, DynamicBatchingRunsRequestsTogether) {
  // The batch runs when the preferred size is reached: no timing is involved.
  ConfiguredScheduler echo(
      "dynamic_batching { preferred_batch_size: 4 max_queue_delay_microseconds: 60000000 }");
  std::vector<std::promise<absl::StatusOr<InferenceResponse>>> done(4);
  for (int i = 0; i < 4; ++i) echo.scheduler().Enqueue(MakeRequest(1, 10 * i, &done[i]));
  for (int i = 0; i < 4; ++i) {
    auto response = done[i].get_future().get();
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(Floats(response->outputs[0]), (std::vector<float>{10.f * i, -10.f * i}));
  }
  auto stats = echo.Stats();
  EXPECT_EQ(stats.execution_count(), 1u);
  EXPECT_EQ(stats.inference_count(), 4u);
  ASSERT_EQ(stats.batch_stats_size(), 1);
  EXPECT_EQ(stats.batch_stats(0).batch_size(), 4u);
}

TEST_F(SchedulerTest, RequestsTimingOutInTheQueueFailUnavailable) {
  // One instance busy for 300 ms with the first request; the second may wait only 20 ms.
  ConfiguredScheduler echo(
      "parameters { key: \"execute_delay_ms\" value { string_value: \"300\" } }\n"
      "dynamic_batching { preferred_batch_size: 1 default_queue_policy {"
      " default_timeout_microseconds: 20000 } }");
  std::promise<absl::StatusOr<InferenceResponse>> first, second;
  echo.scheduler().Enqueue(MakeRequest(1, 1, &first));
  echo.scheduler().Enqueue(MakeRequest(1, 2, &second));
  EXPECT_TRUE(first.get_future().get().ok());
  auto late = second.get_future().get();
  EXPECT_EQ(late.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(late.status().message().find("timed out"), absl::string_view::npos);
  EXPECT_EQ(echo.Stats().inference_stats().fail().count(), 1u);
}

TEST_F(SchedulerTest, RequestsWhoseClientsGaveUpLeaveTheQueueWithoutRunning) {
  // The first request holds the only instance for 300 ms while the others queue behind it.
  ConfiguredScheduler echo(
      "parameters { key: \"execute_delay_ms\" value { string_value: \"300\" } }");
  std::promise<absl::StatusOr<InferenceResponse>> first, gone, kept;
  std::atomic<bool> gave_up{false};
  echo.scheduler().Enqueue(MakeRequest(1, 1, &first));
  auto abandoned = MakeRequest(1, 2, &gone);
  abandoned->abandoned = [&gave_up] { return gave_up.load(); };
  echo.scheduler().Enqueue(std::move(abandoned));
  echo.scheduler().Enqueue(MakeRequest(1, 3, &kept));
  gave_up = true;
  EXPECT_TRUE(first.get_future().get().ok());
  auto cancelled = gone.get_future().get();
  EXPECT_EQ(cancelled.status().code(), absl::StatusCode::kCancelled) << cancelled.status();
  EXPECT_TRUE(kept.get_future().get().ok());
  echo.scheduler().Drain();
  const inference::ModelStatistics stats = echo.Stats();
  EXPECT_EQ(stats.execution_count(), 2u);
  EXPECT_EQ(stats.inference_stats().fail().count(), 1u);
}

TEST_F(SchedulerTest, RequestsOverTheExpectedQueueTimeAreRefusedUpFrontWithARetryDelay) {
  // One instance, 100 ms per request, at most 50 ms of expected queue time.
  ConfiguredScheduler echo(
      "parameters { key: \"execute_delay_ms\" value { string_value: \"100\" } }\n"
      "parameters { key: \"max_expected_queue_time_us\" value { string_value: \"50000\" } }");
  std::promise<absl::StatusOr<InferenceResponse>> first, running, refused, after;
  echo.scheduler().Enqueue(MakeRequest(1, 1, &first));  // no estimate yet: admitted
  EXPECT_TRUE(first.get_future().get().ok());
  echo.WaitIdle();
  echo.scheduler().Enqueue(MakeRequest(1, 2, &running));  // nothing ahead: admitted
  echo.scheduler().Enqueue(MakeRequest(1, 3, &refused));  // ~100 ms ahead of it
  auto answer = refused.get_future().get();
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kUnavailable) << answer.status();
  EXPECT_TRUE(
      absl::StrContains(answer.status().message(), "model 'echo' version 1: the queue is full"))
      << answer.status();
  std::optional<uint64_t> delay = RetryDelayMs(answer.status());
  ASSERT_TRUE(delay.has_value());
  EXPECT_GE(*delay, 50u);  // at least 100 ms expected - 50 ms allowed
  EXPECT_TRUE(running.get_future().get().ok());
  echo.WaitIdle();
  echo.scheduler().Enqueue(MakeRequest(1, 4, &after));  // the queue is empty again
  EXPECT_TRUE(after.get_future().get().ok());

  AdmissionSnapshot admission = echo.scheduler().admission();
  EXPECT_EQ(admission.limit_ns, 50'000'000u);
  EXPECT_EQ(admission.refused[static_cast<size_t>(RefusalReason::kQueueTime)], 1u);
  const inference::ModelStatistics stats = echo.Stats();
  EXPECT_EQ(stats.inference_stats().fail().count(), 1u);
  EXPECT_EQ(stats.inference_stats().success().count(), 3u);
}

TEST_F(SchedulerTest, AnExecutionIsInTheEstimateBeforeItsClientIsAnswered) {
  // A client answered may send again at once: its next request must meet an estimate that
  // counts the execution that answered it, or the first executions' followers are all admitted.
  ConfiguredScheduler echo(
      "parameters { key: \"execute_delay_ms\" value { string_value: \"20\" } }\n"
      "parameters { key: \"max_expected_queue_time_us\" value { string_value: \"1000\" } }");
  std::promise<absl::StatusOr<InferenceResponse>> unused;
  std::unique_ptr<InferenceRequest> request = MakeRequest(1, 1, &unused);
  std::promise<uint64_t> expected_when_answered;
  request->on_complete = [&](absl::StatusOr<InferenceResponse> response) {
    EXPECT_TRUE(response.ok()) << response.status();
    // The answered request is still counted as executing: one request ahead.
    expected_when_answered.set_value(echo.scheduler().admission().expected_queue_ns);
  };
  echo.scheduler().Enqueue(std::move(request));
  EXPECT_GE(expected_when_answered.get_future().get(), 20'000'000u);
}

TEST_F(SchedulerTest, AFullQueueRefusalCarriesARetryDelayOnceServiceTimeIsKnown) {
  ConfiguredScheduler echo(
      "parameters { key: \"execute_delay_ms\" value { string_value: \"100\" } }\n"
      "dynamic_batching { preferred_batch_size: 1 default_queue_policy { max_queue_size: 1 } }");
  std::promise<absl::StatusOr<InferenceResponse>> first;
  echo.scheduler().Enqueue(MakeRequest(1, 1, &first));
  EXPECT_TRUE(first.get_future().get().ok());
  echo.WaitIdle();  // the service time is known
  // The instance takes at most one of the next three while it runs 100 ms, and the queue holds
  // one: at least one is refused.
  std::vector<std::promise<absl::StatusOr<InferenceResponse>>> next(3);
  for (int i = 0; i < 3; ++i) echo.scheduler().Enqueue(MakeRequest(1, 2 + i, &next[i]));
  int refused = 0;
  for (auto& done : next) {
    auto result = done.get_future().get();
    if (result.ok()) continue;
    ++refused;
    EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable) << result.status();
    EXPECT_TRUE(RetryDelayMs(result.status()).has_value()) << result.status();
  }
  EXPECT_GE(refused, 1);
  EXPECT_EQ(echo.scheduler().admission().refused[static_cast<size_t>(RefusalReason::kQueueSize)],
            static_cast<uint64_t>(refused));
}

TEST_F(SchedulerTest, AMalformedQueueTimeLimitFailsTheModelNamingTheParameter) {
  auto config = ParseModelConfig(
      std::string(kConfig) +
          "parameters { key: \"max_expected_queue_time_us\" value { string_value: \"soon\" } }",
      "echo");
  ASSERT_TRUE(config.ok()) << config.status();
  ModelStatistics stats;
  auto signature = ModelSignature::Create(*config, uint64_t{1} << 26);
  ASSERT_TRUE(signature.ok()) << signature.status();
  auto scheduler = Scheduler::Create(
      Scheduler::Options{&*config, 1, &stats, &SystemClock::Get(), signature->get()},
      {instance_.get()});
  EXPECT_EQ(scheduler.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(scheduler.status().message(), "max_expected_queue_time_us"))
      << scheduler.status();
}

TEST_F(SchedulerTest, AnInvalidRequestIsRefusedBeforeItIsQueued) {
  ConfiguredScheduler echo(
      "parameters { key: \"max_input_elements\" value { string_value: \"4\" } }");
  std::promise<absl::StatusOr<InferenceResponse>> small, large;
  echo.scheduler().Enqueue(MakeRequest(2, 1, &small));
  echo.scheduler().Enqueue(MakeRequest(3, 1, &large));  // IN has 6 elements
  EXPECT_TRUE(small.get_future().get().ok());
  EXPECT_EQ(large.get_future().get().status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ResponseOrderTest, DeliversInReservationOrder) {
  ResponseOrder order;
  std::vector<int> delivered;
  uint64_t a = order.Reserve(), b = order.Reserve(), c = order.Reserve();
  order.Complete(c, [&] { delivered.push_back(3); });
  order.Complete(b, [&] { delivered.push_back(2); });
  EXPECT_TRUE(delivered.empty());
  order.Complete(a, [&] { delivered.push_back(1); });
  EXPECT_EQ(delivered, (std::vector<int>{1, 2, 3}));
}

TEST(BatchExecutorReshapeTest, ModelSeesReshapeAndClientSeesDims) {
  auto config = ParseModelConfig(R"pb(
                                   name: "reshaped"
                                   backend: "identity"
                                   max_batch_size: 4
                                   input {
                                     name: "IN"
                                     data_type: TYPE_INT32
                                     dims: [ 4 ]
                                     reshape { shape: [ 2, -1 ] }
                                   }
                                   output {
                                     name: "OUT"
                                     data_type: TYPE_INT32
                                     dims: [ 4 ]
                                     reshape { shape: [ 2, 2 ] }
                                   }
                                 )pb",
                                 "reshaped");
  ASSERT_TRUE(config.ok()) << config.status();
  NormalizeModelConfig(*config);
  auto model =
      BackendModel::Create(backends::IdentityBackendApi(), "reshaped", 1, "/none", *config);
  ASSERT_TRUE(model.ok()) << model.status();
  auto instance = BackendInstance::Create(**model, "reshaped_0", SONIC_BACKEND_INSTANCE_CPU, -1);
  ASSERT_TRUE(instance.ok()) << instance.status();

  std::vector<int32_t> values = {1, 2, 3, 4, 5, 6, 7, 8};
  std::promise<absl::StatusOr<InferenceResponse>> done;
  auto request = std::make_unique<InferenceRequest>();
  request->batch_size = 2;
  request->inputs.push_back(
      {"IN", DataType::kInt32, {2, 4}, std::as_bytes(std::span<const int32_t>(values))});
  request->outputs = {{"OUT"}};
  request->on_complete = [&done](absl::StatusOr<InferenceResponse> r) { done.set_value(r); };
  Batch batch;
  batch.push_back(std::move(request));
  ModelStatistics stats;
  auto signature = ModelSignature::Create(*config, uint64_t{1} << 26);
  ASSERT_TRUE(signature.ok()) << signature.status();
  BatchExecutor(**signature, 1, **instance, stats, SystemClock::Get()).Execute(std::move(batch));
  auto response = done.get_future().get();
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->outputs[0].shape, (Shape{2, 4}));
  EXPECT_EQ(response->outputs[0].data.size(), values.size() * sizeof(int32_t));
}

TEST_F(SchedulerTest, EachArrivalWakesOneIdleWorkerNotAll) {
  constexpr int kInstances = 32;
  constexpr int kRequests = 40;
  ConfiguredScheduler echo("", kInstances);
  for (int i = 0; i < kRequests; ++i) {
    std::promise<absl::StatusOr<InferenceResponse>> done;
    echo.scheduler().Enqueue(MakeRequest(1, i, &done));
    ASSERT_TRUE(done.get_future().get().ok());
  }
  // Waking every worker per arrival would leave about kInstances - 1 idle wakeups per request.
  EXPECT_LT(echo.scheduler().idle_wakeups(), static_cast<uint64_t>(kRequests));
}

TEST_F(SchedulerTest, ArrivalsThatOnlyAddToAWaitingBatchWakeNoWorker) {
  constexpr int kBatch = 8;
  ConfiguredScheduler echo(
      "dynamic_batching { preferred_batch_size: 8 max_queue_delay_microseconds: 60000000 }");
  std::vector<std::promise<absl::StatusOr<InferenceResponse>>> done(kBatch);
  for (int i = 0; i < kBatch; ++i) {
    echo.scheduler().Enqueue(MakeRequest(1, i, &done[i]));
    // Lets a woken worker look and wait again before the next arrival.
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  for (auto& d : done) ASSERT_TRUE(d.get_future().get().ok());
  EXPECT_EQ(echo.Stats().execution_count(), 1u);
  // The first arrival starts the delay; only the eighth fills the batch. Waking the worker per
  // arrival would leave about kBatch - 1 idle wakeups.
  EXPECT_LE(echo.scheduler().idle_wakeups(), 2u);
}

int SchedulerTest::RunOnTheCallersThread(ConfiguredScheduler& echo, int count) {
  int here = 0;
  for (int i = 0; i < count; ++i) {
    std::promise<absl::StatusOr<InferenceResponse>> done;
    std::unique_ptr<InferenceRequest> request = MakeRequest(1, i, &done);
    std::thread::id completed_on;
    request->on_complete = [&completed_on, &done, forward = std::move(request->on_complete)](
                               absl::StatusOr<InferenceResponse> result) mutable {
      completed_on = std::this_thread::get_id();
      std::move(forward)(std::move(result));
    };
    echo.scheduler().Enqueue(std::move(request));
    EXPECT_TRUE(done.get_future().get().ok());
    if (completed_on == std::this_thread::get_id()) ++here;
    echo.WaitIdle();  // the execution is recorded
  }
  EXPECT_EQ(echo.Stats().inference_stats().success().count(), static_cast<uint64_t>(count));
  return here;
}

TEST_F(SchedulerTest, AQuickModelRunsOnTheCallersThreadOnceMeasured) {
  // One instance, microseconds per request, under a limit that sanitizers and a busy machine
  // stay far below (the default, 50 us, is about what a hand-off to the worker costs).
  ConfiguredScheduler echo("", 1, /*quick_execution_ns=*/1'000'000'000);
  // The first runs on the worker (nothing measured yet), the others on this thread.
  EXPECT_EQ(RunOnTheCallersThread(echo, 20), 19);
  ConfiguredScheduler never("", 1, /*quick_execution_ns=*/0);
  EXPECT_EQ(RunOnTheCallersThread(never, 5), 0);
}

TEST_F(SchedulerTest, ArrivalsWhileACallerRunsTheModelWakeNoWorker) {
  // 20 ms per execution, under a limit that makes it quick: the caller runs it and then what
  // arrived meanwhile; the worker, which could take none of it, is not woken per arrival.
  ConfiguredScheduler echo(
      "parameters { key: \"execute_delay_ms\" value { string_value: \"20\" } }", 1,
      /*quick_execution_ns=*/1'000'000'000);
  EXPECT_EQ(RunOnTheCallersThread(echo, 1), 0);  // measured on the worker
  constexpr int kArrivals = 3;
  std::vector<std::promise<absl::StatusOr<InferenceResponse>>> done(kArrivals + 1);
  std::unique_ptr<InferenceRequest> first = MakeRequest(1, 0, &done[0]);
  std::thread caller([&] { echo.scheduler().Enqueue(std::move(first)); });
  while (echo.scheduler().pending() == 0) std::this_thread::yield();  // the caller runs it
  for (int i = 1; i <= kArrivals; ++i) echo.scheduler().Enqueue(MakeRequest(1, i, &done[i]));
  caller.join();  // it ran the arrivals too (at most kCallerTurns executions)
  for (auto& d : done) EXPECT_TRUE(d.get_future().get().ok());
  echo.WaitIdle();
  EXPECT_EQ(echo.Stats().execution_count(), static_cast<uint64_t>(kArrivals + 2));
  EXPECT_EQ(echo.scheduler().idle_wakeups(), 0u);
}

TEST_F(SchedulerTest, SlowBatchedOrReplicatedModelsRunOnTheirWorkers) {
  ConfiguredScheduler slow(  // 1 ms per request: over the default limit
      "parameters { key: \"execute_delay_ms\" value { string_value: \"1\" } }");
  EXPECT_EQ(RunOnTheCallersThread(slow, 4), 0);
  ConfiguredScheduler batched("dynamic_batching { max_queue_delay_microseconds: 0 }");
  EXPECT_EQ(RunOnTheCallersThread(batched, 4), 0);
  ConfiguredScheduler replicated("", 2);
  EXPECT_EQ(RunOnTheCallersThread(replicated, 4), 0);
}

TEST_F(SchedulerTest, WorkersWaitOutQueueDelaysWithoutTimerSlack) {
  // The request runs on the worker once its queue delay ends; its completion reads that
  // thread's timer slack (1 ns, the least), while the caller's own is left as it was.
  const int callers_slack = prctl(PR_GET_TIMERSLACK, 0UL, 0UL, 0UL, 0UL);
  ConfiguredScheduler batched("dynamic_batching { max_queue_delay_microseconds: 100 }");
  std::promise<absl::StatusOr<InferenceResponse>> done;
  std::promise<int> workers_slack;
  std::unique_ptr<InferenceRequest> request = MakeRequest(1, 0, &done);
  request->on_complete = [&](absl::StatusOr<InferenceResponse> response) {
    workers_slack.set_value(prctl(PR_GET_TIMERSLACK, 0UL, 0UL, 0UL, 0UL));
    done.set_value(std::move(response));
  };
  batched.scheduler().Enqueue(std::move(request));
  EXPECT_TRUE(done.get_future().get().ok());
  EXPECT_EQ(workers_slack.get_future().get(), 1);
  EXPECT_EQ(prctl(PR_GET_TIMERSLACK, 0UL, 0UL, 0UL, 0UL), callers_slack);
  EXPECT_NE(callers_slack, 1);
}

TEST_F(SchedulerTest, QueuedRequestsReachEveryIdleWorker) {
  // Two full batches arrive while the workers sleep: the worker that takes the first wakes
  // another for the second, so both run (no request waits for a later arrival).
  ConfiguredScheduler echo(
      "dynamic_batching { preferred_batch_size: 2 max_queue_delay_microseconds: 60000000 }", 4);
  std::vector<std::promise<absl::StatusOr<InferenceResponse>>> done(4);
  for (int i = 0; i < 4; ++i) echo.scheduler().Enqueue(MakeRequest(1, i, &done[i]));
  for (auto& d : done) EXPECT_TRUE(d.get_future().get().ok());
}

#if !SONIC_SANITIZED
// Address-space size of this process now, from /proc/self/statm (pages).
uint64_t AddressSpaceBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t pages = 0;
  statm >> pages;
  return pages * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

// Run in a child process: limits the address space so that few thread stacks fit, then creates
// a scheduler on `instances`; exits 0 when Create refused with RESOURCE_EXHAUSTED.
[[noreturn]] void CreateWithLittleAddressSpace(const Scheduler::Options& options,
                                               const std::vector<BackendInstance*>& instances) {
  const rlimit limit{AddressSpaceBytes() + (256u << 20), RLIM_INFINITY};
  setrlimit(RLIMIT_AS, &limit);
  auto scheduler = Scheduler::Create(options, instances);
  const bool refused = scheduler.status().code() == absl::StatusCode::kResourceExhausted &&
                       absl::StrContains(scheduler.status().message(), "cannot start the thread");
  std::_Exit(refused ? 0 : 1);
}

TEST_F(SchedulerTest, ThreadsTheSystemRefusesAreAnErrorNotAnAbort) {
  // A scheduler with a thousand instances cannot start all its workers in the child's address
  // space: Create says so and the process lives on to exit normally.
  std::vector<std::unique_ptr<BackendInstance>> owned;
  std::vector<BackendInstance*> instances;
  for (int i = 0; i < 1000; ++i) {
    owned.push_back(*BackendInstance::Create(*model_, "echo_" + std::to_string(i),
                                             SONIC_BACKEND_INSTANCE_CPU, -1));
    instances.push_back(owned.back().get());
  }
  const Scheduler::Options options{&config_, 1, &stats_, &SystemClock::Get(), signature_.get()};
  EXPECT_EXIT(CreateWithLittleAddressSpace(options, instances), ::testing::ExitedWithCode(0), "");
}
#endif

}  // namespace
}  // namespace sonic::server
