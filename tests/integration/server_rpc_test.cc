// The non-inference RPCs of a running sonic-server (mode none, the test model repository):
// liveness, readiness, metadata, configuration, repository index, statistics, health, and the
// NOT_FOUND answers for a model the server does not have.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "grpc/health/v1/health.grpc.pb.h"
#include "integration_test_util.h"
#include "server/cuda/cuda_devices.h"
#include "test_models.h"

namespace sonic::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAre;
using ::testing::UnorderedElementsAreArray;

class ServerRpcTest : public SharedServerTest<ServerRpcTest> {
 public:
  static absl::StatusOr<TestServer> StartServer() { return StartTestServer({}); }

 protected:
  static void TearDownTestSuite() {
    if (server_ == nullptr) return;
    // A server that served every test here still shuts down cleanly.
    absl::StatusOr<int> exit_code = server_->server->Stop();
    EXPECT_TRUE(exit_code.ok()) << exit_code.status();
    if (exit_code.ok()) {
      EXPECT_EQ(*exit_code, 0) << server_->server->Log();
    }
    server_.reset();
  }

  static std::vector<std::string> ExpectedReadyModels() {
    std::vector<std::string> models = {"identity_all_types", "identity_delay", "identity_fp32"};
    if (HaveTorchModels()) {
      models.insert(models.end(), {"torch_mlp", "torch_two_io", "torch_ragged_sum"});
    }
    return models;
  }

  inference::ModelMetadataResponse Metadata(const std::string& name,
                                            const std::string& version = "") {
    inference::ModelMetadataRequest request;
    request.set_name(name);
    request.set_version(version);
    inference::ModelMetadataResponse response;
    grpc::Status status = stub_->ModelMetadata(NewContext().get(), request, &response);
    EXPECT_TRUE(status.ok()) << name << ": " << status.error_message();
    return response;
  }

  absl::StatusOr<inference::ModelStatisticsResponse> Statistics(const std::string& name) {
    inference::ModelStatisticsRequest request;
    request.set_name(name);
    inference::ModelStatisticsResponse response;
    grpc::Status status = stub_->ModelStatistics(NewContext().get(), request, &response);
    if (!status.ok()) return absl::InternalError(status.error_message());
    return response;
  }
};

// "name [shape] datatype", to compare tensor metadata in one expectation.
std::vector<std::string> Describe(
    const google::protobuf::RepeatedPtrField<inference::ModelMetadataResponse::TensorMetadata>&
        tensors) {
  std::vector<std::string> described;
  for (const auto& tensor : tensors) {
    std::string text = tensor.name() + " [";
    for (int i = 0; i < tensor.shape_size(); ++i) {
      text += (i ? "," : "") + std::to_string(tensor.shape(i));
    }
    described.push_back(text + "] " + tensor.datatype());
  }
  return described;
}

TEST_F(ServerRpcTest, ServerIsLiveButNotStrictlyReadyWithBrokenModels) {
  // The test repository has models that cannot load: under Triton's default strict readiness
  // the server is live and serves the others, but is not ready.
  inference::ServerLiveResponse live;
  ASSERT_TRUE(stub_->ServerLive(NewContext().get(), {}, &live).ok());
  EXPECT_TRUE(live.live());
  inference::ServerReadyResponse ready;
  ASSERT_TRUE(stub_->ServerReady(NewContext().get(), {}, &ready).ok());
  EXPECT_FALSE(ready.ready());
  EXPECT_TRUE(IsModelReady(*stub_, "identity_fp32"));
}

TEST(ServerReadinessTest, ReadyWithoutStrictReadinessOrWhenEveryModelLoaded) {
  absl::StatusOr<TestServer> lenient = StartTestServer({"--strict-readiness=false"});
  ASSERT_TRUE(lenient.ok()) << lenient.status();
  auto stub = NewStub(lenient->server->address());
  inference::ServerReadyResponse ready;
  ASSERT_TRUE(stub->ServerReady(NewContext().get(), {}, &ready).ok());
  EXPECT_TRUE(ready.ready());

  absl::StatusOr<TestServer> empty = StartTestServer({}, nullptr, /*write_test_models=*/false);
  ASSERT_TRUE(empty.ok()) << empty.status();
  stub = NewStub(empty->server->address());
  ASSERT_TRUE(stub->ServerReady(NewContext().get(), {}, &ready).ok());
  EXPECT_TRUE(ready.ready()) << "strict, and every model (none) is ready";
}

TEST_F(ServerRpcTest, ServerMetadataListsExactlyTheImplementedExtensions) {
  inference::ServerMetadataResponse metadata;
  ASSERT_TRUE(stub_->ServerMetadata(NewContext().get(), {}, &metadata).ok());
  EXPECT_EQ(metadata.name(), "sonic-server");
  std::vector<std::string> expected = {"model_repository", "model_configuration", "statistics",
                                       "schedule_policy", "system_shared_memory", "logging",
                                       "classification", "parameters", "trace"};
  if (server::CudaSupportBuilt()) expected.push_back("cuda_shared_memory");
  EXPECT_THAT(metadata.extensions(), UnorderedElementsAreArray(expected));
}

TEST_F(ServerRpcTest, ServerMetadataHasAVersion) {
  inference::ServerMetadataResponse metadata;
  ASSERT_TRUE(stub_->ServerMetadata(NewContext().get(), {}, &metadata).ok());
  EXPECT_THAT(metadata.version(), Not(IsEmpty()));
}

TEST_F(ServerRpcTest, ModelReadyIsTrueOnlyForLoadedModels) {
  EXPECT_TRUE(IsModelReady(*stub_, "identity_fp32"));
  EXPECT_TRUE(IsModelReady(*stub_, "identity_fp32", "1"));
  EXPECT_FALSE(IsModelReady(*stub_, "identity_fp32", "2"));
  EXPECT_FALSE(IsModelReady(*stub_, "broken_model"));
  EXPECT_FALSE(IsModelReady(*stub_, "bad_config"));
  EXPECT_FALSE(IsModelReady(*stub_, "no_such_model"));
}

TEST_F(ServerRpcTest, ModelMetadataOfIdentityModels) {
  inference::ModelMetadataResponse fp32 = Metadata("identity_fp32");
  EXPECT_EQ(fp32.name(), "identity_fp32");
  EXPECT_THAT(fp32.versions(), ElementsAre("1"));
  EXPECT_EQ(fp32.platform(), "identity");  // the backend, as the config has no platform
  EXPECT_THAT(Describe(fp32.inputs()), ElementsAre("INPUT0 [-1,-1] FP32"));
  EXPECT_THAT(Describe(fp32.outputs()), ElementsAre("OUTPUT0 [-1,-1] FP32"));

  // max_batch_size 0: no batch dimension.
  inference::ModelMetadataResponse delay = Metadata("identity_delay", "1");
  EXPECT_THAT(delay.versions(), ElementsAre("1"));
  EXPECT_THAT(Describe(delay.inputs()), ElementsAre("INPUT0 [4] FP32"));
  EXPECT_THAT(Describe(delay.outputs()), ElementsAre("OUTPUT0 [4] FP32"));

  inference::ModelMetadataResponse all_types = Metadata("identity_all_types");
  std::vector<std::string> expected;
  for (const char* type : {"BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32",
                           "INT64", "FP16", "FP32", "FP64", "BYTES", "BF16"}) {
    expected.push_back(std::string("INPUT_") + type + " [-1] " + type);
  }
  EXPECT_THAT(Describe(all_types.inputs()), ElementsAreArray(expected));
}

TEST_F(ServerRpcTest, ModelMetadataOfTorchModels) {
  if (!HaveTorchModels()) GTEST_SKIP() << "built without LibTorch";
  inference::ModelMetadataResponse two_io = Metadata("torch_two_io");
  EXPECT_EQ(two_io.name(), "torch_two_io");
  EXPECT_THAT(two_io.versions(), ElementsAre("1"));
  EXPECT_EQ(two_io.platform(), "pytorch_libtorch");
  EXPECT_THAT(Describe(two_io.inputs()), ElementsAre("a [-1,-1] FP32", "b [-1,-1] FP32"));
  EXPECT_THAT(Describe(two_io.outputs()),
              ElementsAre("OUTPUT__0 [-1,-1] FP32", "OUTPUT__1 [-1,-1] FP32"));

  inference::ModelMetadataResponse mlp = Metadata("torch_mlp");
  // Its config names only the backend; normalization fills in the platform, as Triton does.
  EXPECT_EQ(mlp.platform(), "pytorch_libtorch");
  EXPECT_THAT(Describe(mlp.inputs()), ElementsAre("INPUT__0 [-1,16] FP32"));
  EXPECT_THAT(Describe(mlp.outputs()), ElementsAre("OUTPUT__0 [-1,4] FP32"));
}

TEST_F(ServerRpcTest, ModelConfigIsTheNormalizedConfig) {
  absl::StatusOr<inference::ModelConfig> config = GetModelConfig(*stub_, "identity_fp32");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->name(), "identity_fp32");
  EXPECT_EQ(config->backend(), "identity");
  EXPECT_EQ(config->max_batch_size(), 8);
  ASSERT_EQ(config->input_size(), 1);
  EXPECT_EQ(config->input(0).name(), "INPUT0");
  EXPECT_EQ(config->input(0).data_type(), inference::TYPE_FP32);
  EXPECT_THAT(config->input(0).dims(), ElementsAre(-1));
  ASSERT_EQ(config->output_size(), 1);
  EXPECT_EQ(config->output(0).name(), "OUTPUT0");
  // Normalization fills the default version policy (latest 1).
  ASSERT_TRUE(config->version_policy().has_latest());
  EXPECT_EQ(config->version_policy().latest().num_versions(), 1u);
  ASSERT_GE(config->instance_group_size(), 1);
  EXPECT_EQ(config->instance_group(0).kind(), inference::ModelInstanceGroup::KIND_CPU);
  EXPECT_EQ(config->instance_group(0).count(), 1);

  absl::StatusOr<inference::ModelConfig> delay = GetModelConfig(*stub_, "identity_delay");
  ASSERT_TRUE(delay.ok()) << delay.status();
  EXPECT_EQ(delay->max_batch_size(), 0);
  EXPECT_EQ(delay->parameters().at("execute_delay_ms").string_value(), "300");
}

TEST_F(ServerRpcTest, ModelConfigOfAPlatformModelNamesItsBackend) {
  if (!HaveTorchModels()) GTEST_SKIP() << "built without LibTorch";
  absl::StatusOr<inference::ModelConfig> config = GetModelConfig(*stub_, "torch_two_io");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->platform(), "pytorch_libtorch");
  EXPECT_EQ(config->backend(), "pytorch");
  EXPECT_EQ(config->default_model_filename(), "model.pt");
  EXPECT_EQ(config->max_batch_size(), 4);
}

TEST_F(ServerRpcTest, RepositoryIndexListsEveryModelWithItsState) {
  absl::StatusOr<inference::RepositoryIndexResponse> index = GetIndex(*stub_);
  ASSERT_TRUE(index.ok()) << index.status();
  std::map<std::string, std::vector<inference::RepositoryIndexResponse::ModelIndex>> rows;
  for (const auto& row : index->models()) rows[row.name()].push_back(row);

  std::vector<std::string> expected = ExpectedReadyModels();
  expected.insert(expected.end(), {"bad_config", "broken_model"});
  std::vector<std::string> names;
  for (const auto& [name, model_rows] : rows) names.push_back(name);
  EXPECT_THAT(names, UnorderedElementsAreArray(expected));

  for (const std::string& name : ExpectedReadyModels()) {
    ASSERT_EQ(rows[name].size(), 1u) << name;
    EXPECT_EQ(rows[name][0].version(), "1") << name;
    EXPECT_EQ(rows[name][0].state(), "READY") << name;
    EXPECT_EQ(rows[name][0].reason(), "") << name;
  }
  // broken_model's config is fine, but its model.pt is garbage: version 1 failed to load
  // (without LibTorch, for want of the pytorch backend).
  ASSERT_EQ(rows["broken_model"].size(), 1u);
  EXPECT_EQ(rows["broken_model"][0].state(), "UNAVAILABLE");
  EXPECT_THAT(rows["broken_model"][0].reason(),
              HasSubstr(HaveTorchModels() ? "model.pt" : "backend 'pytorch' not found"));
  // bad_config's config.pbtxt does not parse: a model-level row.
  ASSERT_EQ(rows["bad_config"].size(), 1u);
  EXPECT_EQ(rows["bad_config"][0].state(), "UNAVAILABLE");
  EXPECT_THAT(rows["bad_config"][0].reason(), HasSubstr("config.pbtxt"));
}

TEST_F(ServerRpcTest, RepositoryIndexReadyFilterListsOnlyReadyModels) {
  absl::StatusOr<inference::RepositoryIndexResponse> index = GetIndex(*stub_, true);
  ASSERT_TRUE(index.ok()) << index.status();
  std::vector<std::string> names;
  for (const auto& row : index->models()) {
    names.push_back(row.name());
    EXPECT_EQ(row.state(), "READY") << row.name();
  }
  EXPECT_THAT(names, UnorderedElementsAreArray(ExpectedReadyModels()));
}

TEST_F(ServerRpcTest, StatisticsCountEveryInference) {
  constexpr uint64_t kInferences = 5;
  absl::StatusOr<inference::ModelStatisticsResponse> before = Statistics("identity_fp32");
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_EQ(before->model_stats_size(), 1);
  for (uint64_t i = 0; i < kInferences; ++i) {
    inference::ModelInferResponse response;
    grpc::Status status = Infer(
        *stub_, Fp32Request("identity_fp32", "INPUT0", {1, 3}, {1.0f, 2.0f, 3.0f}), &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  absl::StatusOr<inference::ModelStatisticsResponse> after = Statistics("identity_fp32");
  ASSERT_TRUE(after.ok()) << after.status();
  ASSERT_EQ(after->model_stats_size(), 1);
  const inference::ModelStatistics& was = before->model_stats(0);
  const inference::ModelStatistics& now = after->model_stats(0);
  EXPECT_EQ(now.name(), "identity_fp32");
  EXPECT_EQ(now.version(), "1");
  EXPECT_EQ(now.inference_count() - was.inference_count(), kInferences);
  EXPECT_EQ(now.execution_count() - was.execution_count(), kInferences);
  EXPECT_EQ(now.inference_stats().success().count() - was.inference_stats().success().count(),
            kInferences);
  EXPECT_EQ(now.inference_stats().fail().count(), was.inference_stats().fail().count());
  EXPECT_GT(now.last_inference(), 0u);
  // perf_analyzer requires these three to move together.
  const inference::InferStatistics& stats = now.inference_stats();
  EXPECT_EQ(stats.compute_input().count(), stats.compute_infer().count());
  EXPECT_EQ(stats.compute_infer().count(), stats.compute_output().count());
  EXPECT_EQ(stats.compute_infer().count() - was.inference_stats().compute_infer().count(),
            kInferences);
}

TEST_F(ServerRpcTest, StatisticsWithoutANameCoverEveryReadyModel) {
  absl::StatusOr<inference::ModelStatisticsResponse> all = Statistics("");
  ASSERT_TRUE(all.ok()) << all.status();
  std::vector<std::string> names;
  for (const auto& stats : all->model_stats()) {
    names.push_back(stats.name());
    EXPECT_EQ(stats.version(), "1");
  }
  EXPECT_THAT(names, UnorderedElementsAreArray(ExpectedReadyModels()));
}

TEST_F(ServerRpcTest, HealthCheckServesTheServerAndItsModels) {
  auto health = grpc::health::v1::Health::NewStub(NewChannel(server_->server->address()));
  auto check = [&](const std::string& service) {
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status status = health->Check(NewContext().get(), request, &response);
    EXPECT_TRUE(status.ok()) << service << ": " << status.error_message();
    return response.status();
  };
  // The server as a whole follows ServerReady: strict readiness, and this repository has
  // models that cannot load.
  EXPECT_EQ(check(""), grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(check("identity_fp32"), grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_EQ(check("broken_model"), grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(check("no_such_model"), grpc::health::v1::HealthCheckResponse::SERVICE_UNKNOWN);
}

TEST_F(ServerRpcTest, UnknownModelIsNotFound) {
  inference::ModelMetadataRequest metadata_request;
  metadata_request.set_name("no_such_model");
  inference::ModelMetadataResponse metadata;
  EXPECT_EQ(stub_->ModelMetadata(NewContext().get(), metadata_request, &metadata).error_code(),
            grpc::StatusCode::NOT_FOUND);

  absl::StatusOr<inference::ModelConfig> config = GetModelConfig(*stub_, "no_such_model");
  EXPECT_EQ(config.status().code(), absl::StatusCode::kNotFound);

  inference::ModelInferResponse response;
  grpc::Status infer =
      Infer(*stub_, Fp32Request("no_such_model", "INPUT0", {1, 1}, {1.0f}), &response);
  EXPECT_EQ(infer.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(infer.error_message(), HasSubstr("no_such_model"));

  inference::ModelStatisticsRequest stats_request;
  stats_request.set_name("no_such_model");
  inference::ModelStatisticsResponse stats;
  EXPECT_EQ(stub_->ModelStatistics(NewContext().get(), stats_request, &stats).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ServerRpcTest, ModelThatFailedToLoadIsUnavailable) {
  inference::ModelMetadataRequest request;
  request.set_name("broken_model");
  inference::ModelMetadataResponse metadata;
  grpc::Status status = stub_->ModelMetadata(NewContext().get(), request, &metadata);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("broken_model"));
}

}  // namespace
}  // namespace sonic::testing
