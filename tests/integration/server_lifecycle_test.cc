// Model lifecycle of a running sonic-server: explicit load / unload (with draining and config
// overrides), what mode none refuses, version policies, repository polling, a broken model among
// good ones, and a graceful SIGTERM with a request in flight.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>

#include "absl/strings/str_cat.h"
#include "integration_test_util.h"
#include "test_models.h"

namespace sonic::testing {
namespace {

using ::testing::AnyOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// An identity model's config.pbtxt: INPUT0 -> OUTPUT0, FP32, dims [-1] (or [4] without batching).
std::string IdentityConfig(const std::string& name, int max_batch_size,
                           const std::string& extra = "") {
  const char* dims = max_batch_size > 0 ? "[ -1 ]" : "[ 4 ]";
  return absl::StrCat(
      "name: \"", name, "\"\nbackend: \"identity\"\nmax_batch_size: ", max_batch_size,
      "\ninput [ { name: \"INPUT0\" data_type: TYPE_FP32 dims: ", dims,
      " } ]\noutput [ { name: \"OUTPUT0\" data_type: TYPE_FP32 dims: ", dims, " } ]\n", extra);
}

// Writes <repository>/<name>/config.pbtxt and an (empty) directory per version.
absl::Status WriteIdentityModel(const std::filesystem::path& repository, const std::string& name,
                                const std::string& config, std::vector<int> versions = {1}) {
  for (int version : versions) {
    std::error_code error;
    std::filesystem::create_directories(repository / name / std::to_string(version), error);
    if (error) return absl::InternalError(absl::StrCat("cannot create a version of ", name));
  }
  return WriteFileAtomically(repository / name / "config.pbtxt", config);
}

grpc::Status Load(inference::GRPCInferenceService::Stub& stub, const std::string& name,
                  const std::string& config_json = "") {
  inference::RepositoryModelLoadRequest request;
  request.set_model_name(name);
  if (!config_json.empty()) (*request.mutable_parameters())["config"].set_string_param(config_json);
  inference::RepositoryModelLoadResponse response;
  return stub.RepositoryModelLoad(NewContext().get(), request, &response);
}

grpc::Status Unload(inference::GRPCInferenceService::Stub& stub, const std::string& name) {
  inference::RepositoryModelUnloadRequest request;
  request.set_model_name(name);
  inference::RepositoryModelUnloadResponse response;
  return stub.RepositoryModelUnload(NewContext().get(), request, &response);
}

// Sends a request to a model with dims [4] (identity_delay's shape) without waiting for it: the
// requests a test sends back to back leave together on one connection, so none lags behind.
std::future<grpc::Status> InferAsync(inference::GRPCInferenceService::Stub& stub,
                                     const std::string& model) {
  struct Call {
    std::unique_ptr<grpc::ClientContext> context = NewContext();
    inference::ModelInferRequest request;
    inference::ModelInferResponse response;
    std::promise<grpc::Status> done;
  };
  auto call = std::make_shared<Call>();
  call->request = Fp32Request(model, "INPUT0", {4}, {1, 2, 3, 4});
  std::future<grpc::Status> result = call->done.get_future();
  stub.async()->ModelInfer(call->context.get(), &call->request, &call->response,
                           [call](grpc::Status status) { call->done.set_value(status); });
  return result;
}

bool IsDone(const std::future<grpc::Status>& future) {
  return future.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

// Waits until one of `futures` has its result; returns its index, or -1 past the deadline.
int WaitForFirst(const std::vector<std::future<grpc::Status>>& futures) {
  int first = -1;
  WaitFor(
      [&] {
        for (size_t i = 0; i < futures.size(); ++i) {
          if (IsDone(futures[i])) first = static_cast<int>(i);
        }
        return first >= 0;
      },
      absl::Seconds(30));
  return first;
}

// ------------------------------------------------------------------------- explicit mode

class ExplicitModeTest : public SharedServerTest<ExplicitModeTest> {
 public:
  static absl::StatusOr<TestServer> StartServer() {
    return StartTestServer(
        {"--model-control-mode", "explicit", "--load-model", "identity_fp32"},
        [](const std::filesystem::path& repository) -> absl::Status {
          absl::Status slow = WriteIdentityModel(
              repository, "slow_model",
              IdentityConfig("slow_model", 0,
                             "parameters { key: \"execute_delay_ms\" value { string_value: "
                             "\"300\" } }\n"));
          if (!slow.ok()) return slow;
          return WriteIdentityModel(repository, "override_model",
                                    IdentityConfig("override_model", 8));
        });
  }
};

TEST_F(ExplicitModeTest, OnlyTheNamedModelLoadsAtStartupAndLoadAddsAnother) {
  EXPECT_TRUE(IsModelReady(*stub_, "identity_fp32"));
  EXPECT_FALSE(IsModelReady(*stub_, "identity_delay"));

  absl::StatusOr<inference::RepositoryIndexResponse> index = GetIndex(*stub_);
  ASSERT_TRUE(index.ok()) << index.status();
  bool listed = false;
  for (const auto& row : index->models()) {
    if (row.name() != "identity_delay") continue;
    listed = true;
    EXPECT_EQ(row.state(), "");  // in the repository, never loaded
    EXPECT_EQ(row.version(), "");
  }
  EXPECT_TRUE(listed);

  grpc::Status loaded = Load(*stub_, "identity_delay");
  ASSERT_TRUE(loaded.ok()) << loaded.error_message();
  EXPECT_TRUE(IsModelReady(*stub_, "identity_delay"));
  inference::ModelInferResponse response;
  grpc::Status infer =
      Infer(*stub_, Fp32Request("identity_delay", "INPUT0", {4}, {1, 2, 3, 4}), &response);
  EXPECT_TRUE(infer.ok()) << infer.error_message();
}

TEST_F(ExplicitModeTest, UnloadLetsInFlightRequestsFinish) {
  grpc::Status loaded = Load(*stub_, "slow_model");
  ASSERT_TRUE(loaded.ok()) << loaded.error_message();
  // Four requests of 300 ms each on one instance. Once the first has finished, the other three
  // (sent with it) are queued or running: the unload below happens with them in flight.
  std::vector<std::future<grpc::Status>> requests;
  for (int i = 0; i < 4; ++i) requests.push_back(InferAsync(*stub_, "slow_model"));
  ASSERT_GE(WaitForFirst(requests), 0);

  grpc::Status unloaded = Unload(*stub_, "slow_model");
  EXPECT_TRUE(unloaded.ok()) << unloaded.error_message();
  // The unload answered only once draining was over: the version is already "unloaded", no
  // longer UNLOADING.
  absl::StatusOr<inference::RepositoryIndexResponse> index = GetIndex(*stub_);
  ASSERT_TRUE(index.ok()) << index.status();
  int rows = 0;
  for (const auto& row : index->models()) {
    if (row.name() != "slow_model") continue;
    ++rows;
    EXPECT_EQ(row.version(), "1");
    EXPECT_EQ(row.state(), "UNAVAILABLE");
    EXPECT_EQ(row.reason(), "unloaded");
  }
  EXPECT_EQ(rows, 1);
  for (auto& request : requests) {
    grpc::Status status = request.get();
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
  EXPECT_FALSE(IsModelReady(*stub_, "slow_model"));
  inference::ModelInferResponse response;
  grpc::Status after =
      Infer(*stub_, Fp32Request("slow_model", "INPUT0", {4}, {1, 2, 3, 4}), &response);
  EXPECT_THAT(after.error_code(),
              AnyOf(grpc::StatusCode::UNAVAILABLE, grpc::StatusCode::NOT_FOUND));

  // Unloaded is not gone: it loads again.
  loaded = Load(*stub_, "slow_model");
  EXPECT_TRUE(loaded.ok()) << loaded.error_message();
  EXPECT_TRUE(IsModelReady(*stub_, "slow_model"));
}

TEST_F(ExplicitModeTest, LoadOfAnUnknownModelIsNotFound) {
  grpc::Status status = Load(*stub_, "no_such_model");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("no_such_model"));
  EXPECT_EQ(Unload(*stub_, "no_such_model").error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ExplicitModeTest, LoadWithAConfigParameterOverridesTheConfigFile) {
  const std::string json = R"json({"name": "override_model", "backend": "identity",
      "max_batch_size": 2,
      "input": [{"name": "INPUT0", "data_type": "TYPE_FP32", "dims": [-1]}],
      "output": [{"name": "OUTPUT0", "data_type": "TYPE_FP32", "dims": [-1]}]})json";
  grpc::Status loaded = Load(*stub_, "override_model", json);
  ASSERT_TRUE(loaded.ok()) << loaded.error_message();
  absl::StatusOr<inference::ModelConfig> config = GetModelConfig(*stub_, "override_model");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->max_batch_size(), 2);

  inference::ModelInferResponse response;
  grpc::Status too_big =
      Infer(*stub_, Fp32Request("override_model", "INPUT0", {3, 1}, {1, 2, 3}), &response);
  EXPECT_EQ(too_big.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // Loading again without the parameter goes back to config.pbtxt (max_batch_size 8).
  loaded = Load(*stub_, "override_model");
  ASSERT_TRUE(loaded.ok()) << loaded.error_message();
  config = GetModelConfig(*stub_, "override_model");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->max_batch_size(), 8);
  grpc::Status fits =
      Infer(*stub_, Fp32Request("override_model", "INPUT0", {3, 1}, {1, 2, 3}), &response);
  EXPECT_TRUE(fits.ok()) << fits.error_message();
}

TEST_F(ExplicitModeTest, LoadWithModelFilesLoadsAModelTheRepositoryLacks) {
  // Triton's file:<version>/<name> parameters: the model's files come in the request. The
  // identity backend needs no model file; any file marks the version directory.
  const std::string json = R"json({"name": "sent_model", "backend": "identity",
      "max_batch_size": 4,
      "input": [{"name": "INPUT0", "data_type": "TYPE_FP32", "dims": [-1]}],
      "output": [{"name": "OUTPUT0", "data_type": "TYPE_FP32", "dims": [-1]}]})json";
  inference::RepositoryModelLoadRequest request;
  request.set_model_name("sent_model");
  (*request.mutable_parameters())["config"].set_string_param(json);
  (*request.mutable_parameters())["file:1/weights.bin"].set_bytes_param(std::string("\0\1", 2));
  inference::RepositoryModelLoadResponse response;
  grpc::Status loaded = stub_->RepositoryModelLoad(NewContext().get(), request, &response);
  ASSERT_TRUE(loaded.ok()) << loaded.error_message();
  EXPECT_TRUE(IsModelReady(*stub_, "sent_model", "1"));
  inference::ModelInferResponse infer;
  grpc::Status ran = Infer(*stub_, Fp32Request("sent_model", "INPUT0", {1, 2}, {1, 2}), &infer);
  EXPECT_TRUE(ran.ok()) << ran.error_message();
  ASSERT_TRUE(Unload(*stub_, "sent_model").ok());

  // Files without a config, and a path that climbs out of its version directory, are refused.
  request.mutable_parameters()->erase("config");
  loaded = stub_->RepositoryModelLoad(NewContext().get(), request, &response);
  EXPECT_EQ(loaded.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(loaded.error_message(), HasSubstr("'config'"));
  (*request.mutable_parameters())["config"].set_string_param(json);
  (*request.mutable_parameters())["file:1/../../escape"].set_bytes_param("x");
  loaded = stub_->RepositoryModelLoad(NewContext().get(), request, &response);
  EXPECT_EQ(loaded.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(loaded.error_message(), HasSubstr("file:1/../../escape"));
}

TEST_F(ExplicitModeTest, LoadWithAnInvalidConfigParameterFailsAndKeepsTheModel) {
  grpc::Status loaded = Load(*stub_, "identity_fp32", "{ this is not json");
  EXPECT_EQ(loaded.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << loaded.error_message();
  EXPECT_TRUE(IsModelReady(*stub_, "identity_fp32"));
}

// --------------------------------------------------- mode none: refusals, broken models, versions

class NoneModeTest : public SharedServerTest<NoneModeTest> {
 public:
  static absl::StatusOr<TestServer> StartServer() {
    return StartTestServer({}, [](const std::filesystem::path& repository) -> absl::Status {
      absl::Status latest = WriteIdentityModel(
          repository, "versions_latest",
          IdentityConfig("versions_latest", 8, "version_policy: { latest { num_versions: 2 } }\n"),
          {1, 2, 3});
      if (!latest.ok()) return latest;
      return WriteIdentityModel(
          repository, "versions_specific",
          IdentityConfig("versions_specific", 8,
                         "version_policy: { specific { versions: [ 1 ] } }\n"),
          {1, 2, 3});
    });
  }

 protected:
  // Infers on `version` of `model`: the gRPC status and the version that answered.
  std::pair<grpc::Status, std::string> InferVersion(const std::string& model,
                                                    const std::string& version) {
    inference::ModelInferRequest request = Fp32Request(model, "INPUT0", {1, 1}, {1});
    request.set_model_version(version);
    inference::ModelInferResponse response;
    grpc::Status status = Infer(*stub_, request, &response);
    return {status, response.model_version()};
  }

  std::vector<std::string> Versions(const std::string& model) {
    inference::ModelMetadataRequest request;
    request.set_name(model);
    inference::ModelMetadataResponse response;
    grpc::Status status = stub_->ModelMetadata(NewContext().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.versions().begin(), response.versions().end()};
  }
};

TEST_F(NoneModeTest, LoadAndUnloadAreFailedPrecondition) {
  grpc::Status load = Load(*stub_, "identity_fp32");
  EXPECT_EQ(load.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << load.error_message();
  EXPECT_THAT(load.error_message(), HasSubstr("explicit"));
  EXPECT_EQ(Unload(*stub_, "identity_fp32").error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(IsModelReady(*stub_, "identity_fp32"));
}

TEST_F(NoneModeTest, BrokenModelsDoNotStopTheOthersFromServing) {
  EXPECT_FALSE(IsModelReady(*stub_, "broken_model"));
  EXPECT_FALSE(IsModelReady(*stub_, "bad_config"));
  inference::ModelInferResponse response;
  grpc::Status status =
      Infer(*stub_, Fp32Request("identity_fp32", "INPUT0", {1, 2}, {3, 4}), &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  if (HaveTorchModels()) {
    EXPECT_TRUE(IsModelReady(*stub_, "torch_mlp"));
    EXPECT_TRUE(IsModelReady(*stub_, "torch_two_io"));
  }
  inference::ModelInferResponse broken;
  grpc::Status refused =
      Infer(*stub_, Fp32Request("broken_model", "INPUT__0", {4}, {1, 2, 3, 4}), &broken);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE) << refused.error_message();
}

TEST_F(NoneModeTest, LatestTwoVersionsServeTheTwoNewest) {
  EXPECT_THAT(Versions("versions_latest"), ElementsAre("2", "3"));
  EXPECT_FALSE(IsModelReady(*stub_, "versions_latest", "1"));
  EXPECT_TRUE(IsModelReady(*stub_, "versions_latest", "2"));
  EXPECT_TRUE(IsModelReady(*stub_, "versions_latest", "3"));

  auto [old_status, old_version] = InferVersion("versions_latest", "1");
  EXPECT_THAT(old_status.error_code(),
              AnyOf(grpc::StatusCode::NOT_FOUND, grpc::StatusCode::UNAVAILABLE));
  auto [status, version] = InferVersion("versions_latest", "3");
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(version, "3");
  auto [two_status, two] = InferVersion("versions_latest", "2");
  EXPECT_TRUE(two_status.ok()) << two_status.error_message();
  EXPECT_EQ(two, "2");
  auto [default_status, newest] = InferVersion("versions_latest", "");
  EXPECT_TRUE(default_status.ok()) << default_status.error_message();
  EXPECT_EQ(newest, "3");
}

TEST_F(NoneModeTest, SpecificVersionsServeOnlyThoseVersions) {
  EXPECT_THAT(Versions("versions_specific"), ElementsAre("1"));
  auto [status, version] = InferVersion("versions_specific", "1");
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(version, "1");
  for (const char* other : {"2", "3"}) {
    auto [refused, unused] = InferVersion("versions_specific", other);
    EXPECT_THAT(refused.error_code(),
                AnyOf(grpc::StatusCode::NOT_FOUND, grpc::StatusCode::UNAVAILABLE))
        << other;
  }
  auto [default_status, chosen] = InferVersion("versions_specific", "");
  EXPECT_TRUE(default_status.ok()) << default_status.error_message();
  EXPECT_EQ(chosen, "1");
}

// ------------------------------------------------------------------------------- poll mode

class PollModeTest : public SharedServerTest<PollModeTest> {
 public:
  static absl::StatusOr<TestServer> StartServer() {
    return StartTestServer(
        {"--model-control-mode", "poll", "--repository-poll-secs", "1"},
        [](const std::filesystem::path& repository) {
          return WriteIdentityModel(repository, "steady", IdentityConfig("steady", 8));
        },
        /*write_test_models=*/false);
  }
};

TEST_F(PollModeTest, AddedChangedAndRemovedModelsAreFollowed) {
  ASSERT_TRUE(IsModelReady(*stub_, "steady"));
  // Models appear in the repository whole: written beside it, then renamed in.
  const std::filesystem::path staging = server_->dir->path() / "staging";
  const std::filesystem::path model_dir = server_->repository() / "polled";
  ASSERT_TRUE(WriteIdentityModel(staging, "polled", IdentityConfig("polled", 8)).ok());
  std::filesystem::rename(staging / "polled", model_dir);

  ASSERT_TRUE(WaitFor([&] { return IsModelReady(*stub_, "polled"); }))
      << "the new model was not loaded; server log:\n"
      << server_->server->Log();
  inference::ModelInferResponse response;
  grpc::Status status =
      Infer(*stub_, Fp32Request("polled", "INPUT0", {4, 1}, {1, 2, 3, 4}), &response);
  EXPECT_TRUE(status.ok()) << status.error_message();

  // A changed config reloads the model.
  ASSERT_TRUE(WriteFileAtomically(model_dir / "config.pbtxt", IdentityConfig("polled", 2)).ok());
  ASSERT_TRUE(WaitFor([&] {
    absl::StatusOr<inference::ModelConfig> config = GetModelConfig(*stub_, "polled");
    return config.ok() && config->max_batch_size() == 2;
  })) << "the changed model was not reloaded; server log:\n"
      << server_->server->Log();
  status = Infer(*stub_, Fp32Request("polled", "INPUT0", {4, 1}, {1, 2, 3, 4}), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // A removed model is unloaded.
  std::filesystem::rename(model_dir, staging / "removed");
  ASSERT_TRUE(WaitFor([&] { return !IsModelReady(*stub_, "polled"); }))
      << "the removed model is still ready; server log:\n"
      << server_->server->Log();
  status = Infer(*stub_, Fp32Request("polled", "INPUT0", {1, 1}, {1}), &response);
  EXPECT_THAT(status.error_code(),
              AnyOf(grpc::StatusCode::NOT_FOUND, grpc::StatusCode::UNAVAILABLE));

  EXPECT_TRUE(IsModelReady(*stub_, "steady"));
}

// ------------------------------------------------------------------------------- shutdown

TEST(ShutdownTest, SigtermLetsTheInFlightRequestFinishAndExitsZero) {
  absl::StatusOr<TestServer> server = StartTestServer(
      {"--exit-timeout-secs", "30"},
      [](const std::filesystem::path& repository) {
        return WriteIdentityModel(
            repository, "slow_model",
            IdentityConfig("slow_model", 0,
                           "parameters { key: \"execute_delay_ms\" value { string_value: "
                           "\"300\" } }\n"));
      },
      /*write_test_models=*/false);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = NewStub(server->server->address());
  // Two 300 ms requests on one instance: once one has finished, the other is in flight.
  std::vector<std::future<grpc::Status>> requests;
  for (int i = 0; i < 2; ++i) requests.push_back(InferAsync(*stub, "slow_model"));
  const int first = WaitForFirst(requests);
  ASSERT_GE(first, 0);

  absl::StatusOr<int> exit_code = server->server->Stop(SIGTERM);
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0) << server->server->Log();
  for (auto& request : requests) {
    grpc::Status status = request.get();
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
}

}  // namespace
}  // namespace sonic::testing
