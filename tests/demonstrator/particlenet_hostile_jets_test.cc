// The ragged ParticleNet model served by the real sonic-server against hostile jets: a jet of
// 16,000 constituents (its kNN would need gigabytes) and a jet whose points and features
// disagree in length, sent among good jets. Each is refused alone with INVALID_ARGUMENT naming
// the model's limit; the good jets batched with them are answered.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <future>

#include "absl/strings/str_cat.h"
#include "demonstrator/models/model_shapes.h"
#include "demonstrator/models/model_zoo.h"
#include "inference/grpc_service.grpc.pb.h"
#include "sanitized_build.h"
#include "server_process.h"

namespace sonic::demo {
namespace {

using ::sonic::testing::ServerProcess;
using ::sonic::testing::TempDirectory;
using ::testing::HasSubstr;

// A ragged ParticleNet request for one jet of `points` constituents whose features are sent for
// `features` constituents.
inference::ModelInferRequest Jet(int64_t points, int64_t features) {
  inference::ModelInferRequest request;
  request.set_model_name(std::string(models::kParticleNetRagged));
  auto add = [&](std::string_view name, int64_t count, int64_t width) {
    auto* input = request.add_inputs();
    input->set_name(std::string(name));
    input->set_datatype("FP32");
    input->add_shape(1);
    input->add_shape(count);
    input->add_shape(width);
    std::vector<float> values(static_cast<size_t>(count * width), 0.1f);
    request.add_raw_input_contents(
        std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
  };
  add(models::kPfPoints, points, models::kParticleNetCoordinates);
  add(models::kPfFeatures, features, models::kParticleNetFeatures);
  return request;
}

struct Call {
  grpc::ClientContext context;
  inference::ModelInferRequest request;
  inference::ModelInferResponse response;
  std::promise<grpc::Status> done;
};

TEST(ParticleNetHostileJetsTest, BadJetsAreRefusedAloneAndGoodOnesAnswered) {
#if SONIC_SANITIZED
  GTEST_SKIP() << "needs an address-space limit, which a sanitized server cannot run under";
#endif
  auto dir = TempDirectory::Create("sonic-jets");
  ASSERT_TRUE(dir.ok()) << dir.status();
  const std::filesystem::path repository = (*dir)->path() / "models";
  ASSERT_TRUE(models::GenerateModels(repository, 2026).ok());
  // Under an address-space limit: a server that let the huge jet reach the model would fail
  // an allocation rather than take the machine's memory.
  ServerProcess::Options options;
  options.binary = "/usr/bin/prlimit";
  options.args = {"--as=17179869184",
                  "--",
                  absl::StrCat(std::getenv("SONIC_BUILD_DIR"), "/bin/sonic-server"),
                  "--model-repository",
                  repository.string(),
                  "--model-control-mode=explicit",
                  "--load-model=" + std::string(models::kParticleNetRagged)};
  auto server = ServerProcess::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = inference::GRPCInferenceService::NewStub(
      grpc::CreateChannel((*server)->address(), grpc::InsecureChannelCredentials()));

  // Good jets, and the two bad ones among them, all at once: the model's dynamic batcher may put
  // any of them together.
  std::vector<std::unique_ptr<Call>> calls;
  const std::vector<std::pair<int64_t, int64_t>> jets = {
      {12, 12}, {16000, 16000}, {30, 30}, {10, 11}, {5, 5}, {40, 40}, {7, 7}, {20, 20}};
  for (const auto& [points, features] : jets) {
    auto call = std::make_unique<Call>();
    call->request = Jet(points, features);
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    Call* raw = call.get();
    stub->async()->ModelInfer(&raw->context, &raw->request, &raw->response,
                              [raw](grpc::Status status) { raw->done.set_value(status); });
    calls.push_back(std::move(call));
  }
  for (size_t i = 0; i < calls.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("jet ", i, " of ", jets[i].first, " points"));
    grpc::Status status = calls[i]->done.get_future().get();
    if (i == 1) {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
      EXPECT_THAT(status.error_message(), HasSubstr("max_input_elements"));
    } else if (i == 3) {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
      EXPECT_THAT(status.error_message(), HasSubstr("equal_variable_dims"));
    } else {
      EXPECT_TRUE(status.ok()) << status.error_message();
      EXPECT_EQ(calls[i]->response.outputs_size(), 1);
    }
  }
}

}  // namespace
}  // namespace sonic::demo
