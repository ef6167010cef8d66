// Dynamic batching end to end: concurrent clients' requests are executed together (seen in
// the statistics), each still gets its own rows back, and a full queue answers UNAVAILABLE.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "integration_test_util.h"

namespace sonic::testing {
namespace {

constexpr int kClients = 8;

// Batches of exactly kClients entries run as soon as they are complete; the long queue delay
// only matters if fewer arrive, which the test does not do.
constexpr char kBatchingModel[] = R"pb(
name: "batched"
backend: "identity"
max_batch_size: 8
input { name: "INPUT0" data_type: TYPE_FP32 dims: [ 3 ] }
output { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 3 ] }
dynamic_batching { preferred_batch_size: 8 max_queue_delay_microseconds: 60000000 }
instance_group { count: 1 kind: KIND_CPU }
)pb";

// One instance busy 1 s per request, room for one waiting request.
constexpr char kBoundedModel[] = R"pb(
name: "bounded"
backend: "identity"
max_batch_size: 1
input { name: "INPUT0" data_type: TYPE_FP32 dims: [ 3 ] }
output { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 3 ] }
parameters { key: "execute_delay_ms" value { string_value: "1000" } }
dynamic_batching { default_queue_policy { max_queue_size: 1 } }
instance_group { count: 1 kind: KIND_CPU }
)pb";

absl::Status AddModels(const std::filesystem::path& repository) {
  for (auto [name, config] : {std::pair{"batched", kBatchingModel}, {"bounded", kBoundedModel}}) {
    std::filesystem::create_directories(repository / name / "1");
    if (auto status = WriteFileAtomically(repository / name / "config.pbtxt", config);
        !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

class ServerBatchingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto server = StartTestServer({}, AddModels, /*write_test_models=*/false);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = new TestServer(*std::move(server));
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  // Sends one request per client at once, each on its own thread; the statuses and responses.
  std::vector<std::pair<grpc::Status, inference::ModelInferResponse>> SendConcurrently(
      const std::string& model, int clients) {
    std::vector<std::future<std::pair<grpc::Status, inference::ModelInferResponse>>> futures;
    for (int i = 0; i < clients; ++i) {
      futures.push_back(std::async(std::launch::async, [this, model, i] {
        auto stub = NewStub(server_->server->address());
        inference::ModelInferResponse response;
        grpc::Status status = Infer(
            *stub, Fp32Request(model, "INPUT0", {1, 3}, {float(i), float(i) + 0.5f, -float(i)}),
            &response);
        return std::pair{status, response};
      }));
    }
    std::vector<std::pair<grpc::Status, inference::ModelInferResponse>> results;
    for (auto& future : futures) results.push_back(future.get());
    return results;
  }

  static TestServer* server_;
};

TestServer* ServerBatchingTest::server_ = nullptr;

TEST_F(ServerBatchingTest, ConcurrentRequestsRunAsOneBatch) {
  auto results = SendConcurrently("batched", kClients);
  for (int i = 0; i < kClients; ++i) {
    ASSERT_TRUE(results[i].first.ok()) << results[i].first.error_message();
    const std::string* out = RawOutput(results[i].second, "OUTPUT0");
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(FromRaw<float>(*out), (std::vector<float>{float(i), float(i) + 0.5f, -float(i)}));
  }
  auto stub = NewStub(server_->server->address());
  inference::ModelStatisticsRequest request;
  request.set_name("batched");
  inference::ModelStatisticsResponse stats;
  ASSERT_TRUE(stub->ModelStatistics(NewContext().get(), request, &stats).ok());
  ASSERT_EQ(stats.model_stats_size(), 1);
  const auto& model = stats.model_stats(0);
  EXPECT_EQ(model.inference_count(), uint64_t{kClients});
  EXPECT_EQ(model.execution_count(), 1u);
  ASSERT_EQ(model.batch_stats_size(), 1);
  EXPECT_EQ(model.batch_stats(0).batch_size(), uint64_t{kClients});
}

TEST_F(ServerBatchingTest, FullQueueAnswersUnavailable) {
  auto results = SendConcurrently("bounded", 4);
  int ok = 0, refused = 0;
  for (const auto& [status, response] : results) {
    if (status.ok()) {
      ++ok;
    } else {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
      EXPECT_THAT(status.error_message(), ::testing::HasSubstr("queue is full"));
      ++refused;
    }
  }
  // One executes and at most one waits, so of four at least two are refused.
  EXPECT_GE(ok, 1);
  EXPECT_GE(refused, 2);
}

}  // namespace
}  // namespace sonic::testing
