// Requests whose clients gave up, and shutdown, against the real sonic-server: a request past
// its deadline or cancelled leaves the queue without running; shutdown does not wait for an idle
// stream; a second SIGTERM ends a shutdown that waits for a running request.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <future>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "integration_test_util.h"

namespace sonic::testing {
namespace {

using ::testing::HasSubstr;

// An identity model with no batching whose one instance takes `delay_ms` per execution.
std::string SlowConfig(const std::string& name, int delay_ms) {
  return absl::StrCat("name: \"", name,
                      "\"\nbackend: \"identity\"\nmax_batch_size: 0\n"
                      "input [ { name: \"INPUT0\" data_type: TYPE_FP32 dims: [ 4 ] } ]\n"
                      "output [ { name: \"OUTPUT0\" data_type: TYPE_FP32 dims: [ 4 ] } ]\n"
                      "instance_group [ { kind: KIND_CPU count: 1 } ]\n"
                      "parameters { key: \"execute_delay_ms\" value { string_value: \"",
                      delay_ms, "\" } }\n");
}

absl::StatusOr<TestServer> StartSlowServer(int delay_ms, std::vector<std::string> args = {}) {
  return StartTestServer(
      std::move(args),
      [delay_ms](const std::filesystem::path& repository) -> absl::Status {
        std::error_code error;
        std::filesystem::create_directories(repository / "slow" / "1", error);
        if (error) return absl::InternalError("cannot create the model's version directory");
        return WriteFileAtomically(repository / "slow" / "config.pbtxt",
                                   SlowConfig("slow", delay_ms));
      },
      /*write_test_models=*/false);
}

inference::ModelInferRequest SlowRequest() {
  return Fp32Request("slow", "INPUT0", {4}, {1.0f, 2.0f, 3.0f, 4.0f});
}

// One asynchronous ModelInfer.
struct Call {
  grpc::ClientContext context;
  inference::ModelInferRequest request = SlowRequest();
  inference::ModelInferResponse response;
  std::promise<grpc::Status> done;

  void Start(inference::GRPCInferenceService::Stub& stub) {
    stub.async()->ModelInfer(&context, &request, &response,
                             [this](grpc::Status status) { done.set_value(status); });
  }
};

uint64_t ExecutionCount(inference::GRPCInferenceService::Stub& stub) {
  inference::ModelStatisticsRequest request;
  request.set_name("slow");
  inference::ModelStatisticsResponse response;
  EXPECT_TRUE(stub.ModelStatistics(NewContext().get(), request, &response).ok());
  return response.model_stats_size() == 1 ? response.model_stats(0).execution_count() : 0;
}

TEST(CancellationTest, RequestsWhoseClientsGaveUpDoNotRun) {
  absl::StatusOr<TestServer> server = StartSlowServer(1000);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = NewStub(server->server->address());

  // The first request holds the instance for a second; the others wait behind it, and their
  // clients give up first: by deadline, or by cancelling.
  Call first;
  first.Start(*stub);
  // Calls on one channel may reach the server in any order: give the first a head start, so
  // that it (not one of the calls below) takes the instance. Nothing here measures time.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::vector<std::unique_ptr<Call>> given_up;
  for (int i = 0; i < 6; ++i) {
    auto call = std::make_unique<Call>();
    if (i % 2 == 0) {
      call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
    }
    call->Start(*stub);
    given_up.push_back(std::move(call));
  }
  for (int i = 1; i < 6; i += 2) given_up[i]->context.TryCancel();
  for (auto& call : given_up) {
    grpc::Status status = call->done.get_future().get();
    EXPECT_THAT(status.error_code(),
                ::testing::AnyOf(grpc::StatusCode::DEADLINE_EXCEEDED, grpc::StatusCode::CANCELLED))
        << status.error_message();
  }
  EXPECT_TRUE(first.done.get_future().get().ok());
  inference::ModelInferResponse response;
  EXPECT_TRUE(Infer(*stub, SlowRequest(), &response).ok());
  // The first and the last ran; none of those whose clients gave up.
  EXPECT_EQ(ExecutionCount(*stub), 2u);
}

TEST(CancellationTest, AnIdleStreamDoesNotHoldShutdown) {
  absl::StatusOr<TestServer> server = StartSlowServer(10, {"--exit-timeout-secs=120"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = NewStub(server->server->address());
  grpc::ClientContext context;
  auto stream = stub->ModelStreamInfer(&context);
  ASSERT_TRUE(stream->Write(SlowRequest()));
  inference::ModelStreamInferResponse response;
  ASSERT_TRUE(stream->Read(&response));  // the stream is open on the server, and now idle
  EXPECT_EQ(response.error_message(), "");

  // The client waits for more responses, as a streaming client does. Without closing the
  // stream, shutdown would wait the full exit timeout (120 s).
  std::thread reader([&] { EXPECT_FALSE(stream->Read(&response)); });
  absl::StatusOr<int> exit_code = server->server->Stop(SIGTERM, absl::Seconds(20));
  reader.join();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status() << "\n" << server->server->Log();
  EXPECT_EQ(*exit_code, 0);
  EXPECT_TRUE(stream->Finish().ok());
}

TEST(CancellationTest, ASecondSignalEndsAShutdownThatWaitsForARunningRequest) {
  absl::StatusOr<TestServer> server =
      StartSlowServer(60000, {"--exit-timeout-secs=120", "--log-verbose=1"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = NewStub(server->server->address());
  Call running;  // runs for a minute; shutdown waits for it
  running.Start(*stub);
  ASSERT_TRUE(WaitFor([&] { return absl::StrContains(server->server->Log(), "infer request"); }));
  ASSERT_EQ(kill(server->server->pid(), SIGTERM), 0);
  ASSERT_TRUE(WaitFor([&] { return absl::StrContains(server->server->Log(), "shutting down"); }));

  absl::StatusOr<int> exit_code = server->server->Stop(SIGTERM, absl::Seconds(20));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status() << "\n" << server->server->Log();
  EXPECT_EQ(*exit_code, 1);
  EXPECT_THAT(server->server->Log(), HasSubstr("again; exiting now"));
  running.context.TryCancel();
  running.done.get_future().get();
}

}  // namespace
}  // namespace sonic::testing
