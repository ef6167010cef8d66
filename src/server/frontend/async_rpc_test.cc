// async_rpc.h on a real gRPC server on loopback, called by generated and generic stubs: the raw
// method, parsed unary methods, a stream, unparsable and unknown requests, cancellation, and
// shutdown with calls still open.
#include "server/frontend/async_rpc.h"

#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "inference/grpc_service.grpc.pb.h"

namespace sonic::server {
namespace {

using inference::GRPCInferenceService;

constexpr char kModelInfer[] = "/inference.GRPCInferenceService/ModelInfer";

// Echoes every request of a stream, then finishes OK once the client half-closes; or, built with
// a refusal, finishes at once with it (from its constructor, before it is bound to its stream).
class EchoStream final : public StreamReactor {
 public:
  EchoStream() { StartRead(&request_); }
  explicit EchoStream(const grpc::Status& refusal) { Finish(refusal); }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::OK);
      return;
    }
    response_.mutable_infer_response()->set_id(request_.id());
    StartWrite(&response_);
  }
  void OnWriteDone(bool ok) override {
    if (ok) {
      StartRead(&request_);
    } else {
      Finish(grpc::Status::OK);
    }
  }
  void OnDone() override { delete this; }

 private:
  inference::ModelInferRequest request_;
  inference::ModelStreamInferResponse response_;
};

class AsyncRpcTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    methods_.AddUnary<inference::ServerLiveRequest, inference::ServerLiveResponse>(
        "/inference.GRPCInferenceService/ServerLive",
        [](RpcContext* context, const inference::ServerLiveRequest*,
           inference::ServerLiveResponse* response) {
          response->set_live(true);
          UnaryReactor* reactor = context->DefaultReactor();
          reactor->Finish(grpc::Status::OK);
          return reactor;
        });
    // Answers ABORTED from another thread once the test lets it and the call is cancelled, past its
    // deadline or to be answered now; tells whether it was cancelled.
    methods_.AddUnary<inference::ModelReadyRequest, inference::ModelReadyResponse>(
        "/inference.GRPCInferenceService/ModelReady",
        [this](RpcContext* context, const inference::ModelReadyRequest*,
               inference::ModelReadyResponse*) {
          UnaryReactor* reactor = context->DefaultReactor();
          held_.emplace_back([this, context, reactor] {
            release_.WaitForNotification();
            while (!context->IsCancelled() && !answer_now_ &&
                   context->deadline() > std::chrono::system_clock::now()) {
              absl::SleepFor(absl::Milliseconds(5));
            }
            saw_cancelled_ = context->IsCancelled();
            answered_ = true;
            reactor->Finish(grpc::Status(grpc::StatusCode::ABORTED, "gone"));
          });
          arrived_.Notify();
          return reactor;
        });
    methods_.AddStream(
        "/inference.GRPCInferenceService/ModelStreamInfer",
        [](RpcContext* context) -> StreamReactor* {
          const auto& metadata = context->client_metadata();
          if (metadata.find("refuse") != metadata.end()) {
            return new EchoStream(grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "refused"));
          }
          return new EchoStream();
        });
    raw_ = std::make_unique<RawUnaryService>(
        kModelInfer,
        [](RpcContext* context, const grpc::ByteBuffer* request, grpc::ByteBuffer* response) {
          *response = *request;  // the request's bytes are a valid response message too
          UnaryReactor* reactor = context->DefaultReactor();
          context->AddTrailingMetadata("echoed", "yes");
          reactor->Finish(grpc::Status::OK);
          return reactor;
        });
    threads_ = std::make_unique<CompletionThreads>(GetParam(), *raw_, methods_);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    threads_->Register(builder);
    server_ = builder.BuildAndStart();
    ASSERT_TRUE(server_ != nullptr && port != 0);
    threads_->Start();
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                   grpc::InsecureChannelCredentials());
    stub_ = GRPCInferenceService::NewStub(channel_);
  }

  void TearDown() override {
    if (!release_.HasBeenNotified()) release_.Notify();
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
    for (std::thread& thread : held_) thread.join();
    threads_->Stop();
  }

  // Calls ModelReady, the held method, with a 30 s deadline from a thread of its own, which sets
  // `status` when the call ends; returns once the handler holds the call.
  std::thread StartHeldCall(grpc::ClientContext& context, grpc::Status& status) {
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    std::thread caller([this, &context, &status] {
      inference::ModelReadyResponse response;
      status = stub_->ModelReady(&context, {}, &response);
    });
    arrived_.WaitForNotification();
    return caller;
  }

  // `bytes` sent as the request of `method`; the status.
  grpc::Status CallRaw(const std::string& method, const std::string& bytes) {
    grpc::GenericStub generic(channel_);
    grpc::ClientContext context;
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1), response;
    absl::Notification done;
    grpc::Status status;
    generic.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                      [&](grpc::Status s) {
                        status = std::move(s);
                        done.Notify();
                      });
    done.WaitForNotification();
    return status;
  }

  RpcMethods methods_;
  std::unique_ptr<RawUnaryService> raw_;
  std::unique_ptr<CompletionThreads> threads_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<GRPCInferenceService::Stub> stub_;
  absl::Notification arrived_, release_;
  std::vector<std::thread> held_;
  std::atomic<bool> saw_cancelled_{false};
  std::atomic<bool> answer_now_{false};
  std::atomic<bool> answered_{false};
};

TEST_P(AsyncRpcTest, ServesTheRawMethodWithItsTrailingMetadata) {
  inference::ModelInferRequest request;
  request.set_id("abc");
  request.set_model_name("m");
  inference::ModelInferResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->ModelInfer(&context, request, &response).ok());
  EXPECT_EQ(response.id(), "abc");
  EXPECT_EQ(response.model_name(), "m");
  auto echoed = context.GetServerTrailingMetadata().find("echoed");
  ASSERT_NE(echoed, context.GetServerTrailingMetadata().end());
  EXPECT_EQ(echoed->second, "yes");
}

TEST_P(AsyncRpcTest, ServesParsedUnaryMethodsManyTimesOver) {
  for (int i = 0; i < 50; ++i) {
    inference::ServerLiveResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->ServerLive(&context, {}, &response).ok());
    EXPECT_TRUE(response.live());
  }
}

TEST_P(AsyncRpcTest, AnUnparsableRequestIsInvalidArgumentNamingTheMethod) {
  const grpc::Status status =
      CallRaw("/inference.GRPCInferenceService/ServerLive", std::string("\xff\xff\xff", 3));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("ServerLive"), std::string::npos) << status.error_message();
}

TEST_P(AsyncRpcTest, AMethodNotServedIsUnimplemented) {
  const grpc::Status status = CallRaw("/inference.GRPCInferenceService/RepositoryIndex", "");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_NE(status.error_message().find("RepositoryIndex"), std::string::npos);
  EXPECT_EQ(CallRaw("/no.Such/Method", "").error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

TEST_P(AsyncRpcTest, AStreamAnswersEveryRequestInOrderThenFinishes) {
  grpc::ClientContext context;
  auto stream = stub_->ModelStreamInfer(&context);
  for (int i = 0; i < 20; ++i) {
    inference::ModelInferRequest request;
    request.set_id(std::to_string(i));
    ASSERT_TRUE(stream->Write(request));
    inference::ModelStreamInferResponse response;
    ASSERT_TRUE(stream->Read(&response));
    EXPECT_EQ(response.infer_response().id(), std::to_string(i));
  }
  stream->WritesDone();
  inference::ModelStreamInferResponse extra;
  EXPECT_FALSE(stream->Read(&extra));
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_P(AsyncRpcTest, AStreamFinishedInItsReactorsConstructorGivesTheClientThatStatus) {
  grpc::ClientContext context;
  context.AddMetadata("refuse", "1");
  auto stream = stub_->ModelStreamInfer(&context);
  inference::ModelStreamInferResponse response;
  EXPECT_FALSE(stream->Read(&response));
  const grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_P(AsyncRpcTest, AnUnparsableStreamMessageEndsTheStreamWithInvalidArgument) {
  grpc::GenericStub generic(channel_);
  grpc::ClientContext context;
  grpc::CompletionQueue queue;
  auto call =
      generic.PrepareCall(&context, "/inference.GRPCInferenceService/ModelStreamInfer", &queue);
  void* tag;
  bool ok;
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(queue.Next(&tag, &ok) && ok);
  grpc::Slice garbage(std::string("\xff\xff\xff", 3));
  call->WriteLast(grpc::ByteBuffer(&garbage, 1), grpc::WriteOptions(), reinterpret_cast<void*>(2));
  ASSERT_TRUE(queue.Next(&tag, &ok));
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(3));
  ASSERT_TRUE(queue.Next(&tag, &ok));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
}

TEST_P(AsyncRpcTest, AHandlerSeesItsCallCancelledAndMayStillFinishIt) {
  grpc::ClientContext context;
  grpc::Status status;
  std::thread caller = StartHeldCall(context, status);
  context.TryCancel();
  caller.join();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED);
  release_.Notify();
  held_.back().join();
  held_.pop_back();
  EXPECT_TRUE(saw_cancelled_);
}

TEST_P(AsyncRpcTest, ShutdownWaitsForACallStillRunningThenStops) {
  grpc::ClientContext context;
  grpc::Status status;
  std::thread caller = StartHeldCall(context, status);
  std::thread stopper(
      [&] { server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(20)); });
  absl::SleepFor(absl::Milliseconds(50));  // most often the shutdown has begun by now
  answer_now_ = true;
  release_.Notify();
  stopper.join();
  EXPECT_TRUE(answered_);  // the shutdown returned only once the running call was answered
  caller.join();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED) << status.error_message();
  for (std::thread& thread : held_) thread.join();
  held_.clear();
  threads_->Stop();
}

INSTANTIATE_TEST_SUITE_P(Threads, AsyncRpcTest, ::testing::Values(1, 3),
                         [](const auto& info) { return std::to_string(info.param) + "Threads"; });

}  // namespace
}  // namespace sonic::server
