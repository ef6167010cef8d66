// perf_analyzer's -H headers reach the server as gRPC metadata on ModelInfer calls and on
// ModelStreamInfer streams; stream responses are matched to their requests by id. The server is
// an in-process gRPC service that records what it receives and answers out of order.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "inference_connection.h"
#include "inference_stream.h"

namespace sonic::tools {
namespace {

class RecordingService final : public inference::GRPCInferenceService::Service {
 public:
  grpc::Status ModelInfer(grpc::ServerContext* context, const inference::ModelInferRequest*,
                          inference::ModelInferResponse*) override {
    Remember(*context);
    return grpc::Status::OK;
  }

  // Answers requests in pairs, the second of a pair first, each with its request's id.
  grpc::Status ModelStreamInfer(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<inference::ModelStreamInferResponse, inference::ModelInferRequest>*
          stream) override {
    Remember(*context);
    std::vector<std::string> ids;
    inference::ModelInferRequest request;
    while (stream->Read(&request)) {
      ids.push_back(request.id());
      if (ids.size() < 2) continue;
      for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
        inference::ModelStreamInferResponse response;
        response.mutable_infer_response()->set_id(*it);
        (*response.mutable_infer_response()->mutable_parameters())["triton_final_response"]
            .set_bool_param(true);
        stream->Write(response);
      }
      ids.clear();
    }
    return grpc::Status::OK;
  }

  std::vector<std::string> tags() {
    absl::MutexLock lock(&mu_);
    return tags_;
  }

 private:
  void Remember(const grpc::ServerContext& context) {
    auto it = context.client_metadata().find("x-run-tag");
    absl::MutexLock lock(&mu_);
    tags_.push_back(it == context.client_metadata().end()
                        ? ""
                        : std::string(it->second.data(), it->second.size()));
  }

  absl::Mutex mu_;
  std::vector<std::string> tags_ ABSL_GUARDED_BY(mu_);
};

class InferenceConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ConnectionOptions options;
    options.address = "127.0.0.1:" + std::to_string(port_);
    options.metadata = {{"x-run-tag", "run 7"}};
    absl::StatusOr<std::unique_ptr<InferenceConnection>> connection =
        InferenceConnection::Create(options);
    ASSERT_TRUE(connection.ok()) << connection.status();
    connection_ = *std::move(connection);
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  RecordingService service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<InferenceConnection> connection_;
};

TEST_F(InferenceConnectionTest, HeadersAreSentAsMetadata) {
  absl::Status status;
  RequestRecord record = connection_->Infer(inference::ModelInferRequest(), &status);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_TRUE(record.ok);
  EXPECT_EQ(service_.tags(), (std::vector<std::string>{"run 7"}));
}

TEST_F(InferenceConnectionTest, StreamMatchesResponsesToRequestsById) {
  std::unique_ptr<InferenceStream> stream = InferenceStream::Open(*connection_);
  absl::Mutex mu;
  std::vector<int> completed;
  absl::Notification both;
  for (int i = 0; i < 2; ++i) {
    inference::ModelInferRequest request;
    request.set_id("caller's id, replaced by the stream's");
    stream->Infer(request, [&, i](const RequestRecord& record, const absl::Status& status) {
      EXPECT_TRUE(status.ok()) << status;
      EXPECT_TRUE(record.ok);
      EXPECT_GE(record.end, record.start);
      absl::MutexLock lock(&mu);
      completed.push_back(i);
      if (completed.size() == 2) both.Notify();
    });
  }
  ASSERT_TRUE(both.WaitForNotificationWithTimeout(absl::Seconds(30)));
  stream->Close();
  EXPECT_EQ(completed, (std::vector<int>{1, 0}));  // the server answered the second first
  EXPECT_EQ(service_.tags(), (std::vector<std::string>{"run 7"}));
  EXPECT_FALSE(stream->open());
  absl::Status late;
  stream->Infer(inference::ModelInferRequest(),
                [&](const RequestRecord&, const absl::Status& status) { late = status; });
  EXPECT_EQ(late.code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace sonic::tools
