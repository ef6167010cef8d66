// Admission control on expected queue time against the real sonic-server: a request that would
// wait longer than the model's max_expected_queue_time_us is refused at once, over gRPC with
// UNAVAILABLE and the trailing metadata grpc-retry-pushback-ms, over HTTP with 503 and
// Retry-After; each refusal is counted in sonic_inference_request_refused; the request already
// running completes, and an idle model admits again. A malformed limit leaves the model
// UNAVAILABLE with the parameter named. No test asserts a duration.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <future>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "integration_test_util.h"

namespace sonic::testing {
namespace {

using ::testing::HasSubstr;

// One instance, 1.5 s per execution, at most `limit_us` of expected queue time.
std::string LimitedConfig(const std::string& name, const std::string& limit_us) {
  return absl::StrCat("name: \"", name,
                      "\"\nbackend: \"identity\"\nmax_batch_size: 0\n"
                      "input [ { name: \"INPUT0\" data_type: TYPE_FP32 dims: [ 4 ] } ]\n"
                      "output [ { name: \"OUTPUT0\" data_type: TYPE_FP32 dims: [ 4 ] } ]\n"
                      "instance_group [ { kind: KIND_CPU count: 1 } ]\n"
                      "parameters { key: \"execute_delay_ms\" value { string_value: \"1500\" } }\n"
                      "parameters { key: \"max_expected_queue_time_us\" value { string_value: \"",
                      limit_us, "\" } }\n");
}

absl::Status AddModels(const std::filesystem::path& repository) {
  for (const auto& [name, limit] :
       {std::pair<std::string, std::string>{"limited", "50000"}, {"malformed", "soon"}}) {
    std::error_code error;
    std::filesystem::create_directories(repository / name / "1", error);
    if (error) return absl::InternalError("cannot create " + name + "/1");
    absl::Status written =
        WriteFileAtomically(repository / name / "config.pbtxt", LimitedConfig(name, limit));
    if (!written.ok()) return written;
  }
  return absl::OkStatus();
}

class AdmissionTest : public SharedServerTest<AdmissionTest> {
 public:
  static absl::StatusOr<TestServer> StartServer() {
    return StartTestServer({}, AddModels, /*write_test_models=*/false);
  }

 protected:
  // The value of one sample line of /metrics ("name{labels}"), or -1 when absent.
  double Metric(const std::string& series) {
    httplib::Client http("127.0.0.1", server_->server->metrics_port());
    auto response = http.Get("/metrics");
    if (!response || response->status != 200) return -1;
    const std::string& text = response->body;
    const size_t at = text.find("\n" + series + " ");
    if (at == std::string::npos) return -1;
    const size_t start = at + series.size() + 2;
    double value = 0;
    return absl::SimpleAtod(text.substr(start, text.find('\n', start) - start), &value) ? value
                                                                                        : -1;
  }
};

constexpr char kLabels[] = "{model=\"limited\",version=\"1\"";

TEST_F(AdmissionTest, OverTheLimitIsRefusedWithARetryHintAndCounted) {
  const inference::ModelInferRequest request =
      Fp32Request("limited", "INPUT0", {4}, {1.0f, 2.0f, 3.0f, 4.0f});
  inference::ModelInferResponse response;
  // Alone: admitted, and the server measures an execution (1.5 s per request).
  ASSERT_TRUE(Infer(*stub_, request, &response).ok());

  // One call holds the instance; once the server counts it, any other would wait ~1.5 s.
  grpc::ClientContext running_context;
  inference::ModelInferResponse running_response;
  std::promise<grpc::Status> running;
  std::future<grpc::Status> running_done = running.get_future();
  stub_->async()->ModelInfer(&running_context, &request, &running_response,
                             [&running](grpc::Status status) { running.set_value(status); });
  // Whatever fails below, the call ends before its context and promise go.
  absl::Cleanup finish_running = [&] {
    if (!running_done.valid()) return;  // already taken
    running_context.TryCancel();
    running_done.wait();
  };
  ASSERT_TRUE(WaitFor([&] {
    return Metric(absl::StrCat("sonic_inference_expected_queue_duration_us", kLabels, "}")) > 0;
  })) << "the server never counted the running request";

  auto context = NewContext();
  grpc::Status refused = stub_->ModelInfer(context.get(), request, &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE) << refused.error_message();
  EXPECT_THAT(refused.error_message(), HasSubstr("model 'limited' version 1: the queue is full"));
  EXPECT_THAT(refused.error_message(), HasSubstr("max_expected_queue_time_us"));
  const auto& trailers = context->GetServerTrailingMetadata();
  auto hint = trailers.find("grpc-retry-pushback-ms");
  ASSERT_NE(hint, trailers.end()) << "no grpc-retry-pushback-ms trailer";
  int64_t hint_ms = 0;
  ASSERT_TRUE(absl::SimpleAtoi(std::string(hint->second.data(), hint->second.size()), &hint_ms));
  EXPECT_GE(hint_ms, 1400);  // ~1500 ms expected - 50 ms allowed

  httplib::Client http("127.0.0.1", server_->server->http_port());
  auto answer = http.Post("/v2/models/limited/infer",
                          R"({"inputs": [{"name": "INPUT0", "shape": [4], "datatype": "FP32",)"
                          R"( "data": [1, 2, 3, 4]}]})",
                          "application/json");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 503) << answer->body;
  EXPECT_THAT(answer->body, HasSubstr("the queue is full"));
  EXPECT_EQ(answer->get_header_value("Retry-After"), "2") << "~1.45 s, rounded up";

  EXPECT_TRUE(running_done.get().ok());
  EXPECT_EQ(
      Metric(absl::StrCat("sonic_inference_request_refused", kLabels, ",reason=\"QUEUE_TIME\"}")),
      2);
  EXPECT_EQ(Metric(absl::StrCat("nv_inference_request_failure", kLabels, ",reason=\"REJECTED\"}")),
            2);
  EXPECT_EQ(Metric(absl::StrCat("sonic_inference_queue_duration_limit_us", kLabels, "}")), 50000);

  // Idle again: admitted.
  ASSERT_TRUE(WaitFor([&] {
    return Metric(absl::StrCat("nv_inference_pending_request_count", kLabels, "}")) == 0;
  }));
  EXPECT_TRUE(Infer(*stub_, request, &response).ok());
}

TEST_F(AdmissionTest, AMalformedLimitLeavesTheModelUnavailableWithTheParameterNamed) {
  absl::StatusOr<inference::RepositoryIndexResponse> index = GetIndex(*stub_);
  ASSERT_TRUE(index.ok()) << index.status();
  bool found = false;
  for (const auto& model : index->models()) {
    if (model.name() != "malformed") continue;
    found = true;
    EXPECT_EQ(model.state(), "UNAVAILABLE");
    EXPECT_THAT(model.reason(), HasSubstr("max_expected_queue_time_us"));
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace sonic::testing
