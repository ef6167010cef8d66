// tritonserver's command line and log settings on a running sonic-server: the flags launch
// scripts pass to tritonserver are accepted with Triton's meaning, flags for missing features are
// refused naming them, and the LogSettings RPC changes the real log at run time.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "integration_test_util.h"

namespace sonic::testing {
namespace {

using ::testing::AllOf;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inference::LogSettingsResponse UpdateLog(inference::GRPCInferenceService::Stub& stub,
                                         const inference::LogSettingsRequest& request,
                                         grpc::Status* status = nullptr) {
  inference::LogSettingsResponse response;
  grpc::Status result = stub.LogSettings(NewContext().get(), request, &response);
  if (status != nullptr) {
    *status = result;
  } else {
    EXPECT_TRUE(result.ok()) << result.error_message();
  }
  return response;
}

void SendOneInference(inference::GRPCInferenceService::Stub& stub, const std::string& id) {
  inference::ModelInferRequest request = Fp32Request("identity_fp32", "INPUT0", {1, 1}, {1.0f});
  request.set_id(id);
  inference::ModelInferResponse response;
  grpc::Status status = Infer(stub, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST(ServerFlagsTest, TritonserverFlagsOfALaunchScriptAreHonoured) {
  absl::StatusOr<std::unique_ptr<TempDirectory>> logs = TempDirectory::Create("sonic_flags");
  ASSERT_TRUE(logs.ok());
  const std::filesystem::path log_file = (*logs)->path() / "server.log";
  absl::StatusOr<TestServer> server =
      StartTestServer({"--id=cms-triton",
                       "--log-info=false",
                       "--log-warning",
                       "true",
                       "--log-error=true",
                       "--log-verbose=0",
                       "--log-file=" + log_file.string(),
                       "--log-format=ISO8601",
                       "--strict-readiness=false",
                       "--exit-on-error=false",
                       "--disable-auto-complete-config",
                       "--model-load-thread-count=2",
                       "--grpc-keepalive-time=10000",
                       "--grpc-keepalive-timeout=5000",
                       "--grpc-keepalive-permit-without-calls=1",
                       "--grpc-http2-max-pings-without-data=0",
                       "--grpc-infer-response-compression-level=low",
                       "--metrics-interval-ms=500",
                       "--allow-gpu-metrics=false",
                       "--allow-sagemaker=false",
                       "--strict-model-config=true",
                       "--backend-config=identity,some-setting=1",
                       "--backend-config",
                       "default-max-batch-size=4"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = NewStub(server->server->address());

  inference::ServerMetadataResponse metadata;
  ASSERT_TRUE(stub->ServerMetadata(NewContext().get(), {}, &metadata).ok());
  EXPECT_EQ(metadata.name(), "cms-triton");
  inference::ServerReadyResponse ready;
  ASSERT_TRUE(stub->ServerReady(NewContext().get(), {}, &ready).ok());
  EXPECT_TRUE(ready.ready()) << "--strict-readiness=false: ready despite the broken models";
  SendOneInference(*stub, "after-start");

  // Errors (the repository's broken models) in ISO8601 format; no INFO lines.
  const std::string log = ReadFile(log_file);
  EXPECT_THAT(log, ContainsRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z E [0-9]+ "
                                 "main\\.cc:[0-9]+\\] model 'broken_model'"));
  EXPECT_THAT(log, Not(HasSubstr(" I ")));
  EXPECT_THAT(server->server->Log(), Not(HasSubstr("broken_model")))
      << "all of it went to the file";

  inference::LogSettingsResponse settings = UpdateLog(*stub, {});
  ASSERT_EQ(settings.settings().size(), 6u);
  EXPECT_EQ(settings.settings().at("log_file").string_param(), log_file.string());
  EXPECT_FALSE(settings.settings().at("log_info").bool_param());
  EXPECT_TRUE(settings.settings().at("log_warning").bool_param());
  EXPECT_TRUE(settings.settings().at("log_error").bool_param());
  EXPECT_EQ(settings.settings().at("log_verbose_level").uint32_param(), 0u);
  EXPECT_EQ(settings.settings().at("log_format").string_param(), "ISO8601");
}

TEST(ServerFlagsTest, LogSettingsChangeTheLogAtRunTime) {
  absl::StatusOr<std::unique_ptr<TempDirectory>> logs = TempDirectory::Create("sonic_logset");
  ASSERT_TRUE(logs.ok());
  const std::filesystem::path log_file = (*logs)->path() / "server.log";
  absl::StatusOr<TestServer> server = StartTestServer({"--log-file=" + log_file.string()});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = NewStub(server->server->address());

  SendOneInference(*stub, "before-verbose");
  inference::LogSettingsRequest verbose;
  (*verbose.mutable_settings())["log_verbose_level"].set_uint32_param(1);
  (*verbose.mutable_settings())["log_format"].set_string_param("default");
  inference::LogSettingsResponse updated = UpdateLog(*stub, verbose);
  EXPECT_EQ(updated.settings().at("log_verbose_level").uint32_param(), 1u);
  EXPECT_EQ(updated.settings().at("log_file").string_param(), log_file.string());
  EXPECT_TRUE(updated.settings().at("log_info").bool_param()) << "unchanged settings stay";
  SendOneInference(*stub, "while-verbose");

  inference::LogSettingsRequest quiet;
  (*quiet.mutable_settings())["log_verbose_level"].set_uint32_param(0);
  UpdateLog(*stub, quiet);
  SendOneInference(*stub, "after-verbose");

  const std::string log = ReadFile(log_file);
  EXPECT_THAT(log, ContainsRegex("V[0-9]{4} [0-9:.]{15} [0-9]+ inference_service\\.cc:[0-9]+\\] "
                                 "infer request 'while-verbose' for model 'identity_fp32'"));
  EXPECT_THAT(log, AllOf(Not(HasSubstr("before-verbose")), Not(HasSubstr("after-verbose"))));
  EXPECT_THAT(server->server->Log(), Not(HasSubstr("while-verbose")));

  // A bad setting is INVALID_ARGUMENT naming it, and changes nothing.
  inference::LogSettingsRequest bad;
  (*bad.mutable_settings())["log_info"].set_string_param("yes");
  (*bad.mutable_settings())["log_verbose_level"].set_uint32_param(5);
  grpc::Status status;
  UpdateLog(*stub, bad, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("log_info"));
  // As Triton, the file is the command line's: a client must not choose where the server writes.
  inference::LogSettingsRequest moved;
  (*moved.mutable_settings())["log_file"].set_string_param((*logs)->path() / "elsewhere.log");
  UpdateLog(*stub, moved, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("command line"));
  inference::LogSettingsResponse after = UpdateLog(*stub, {});
  EXPECT_EQ(after.settings().at("log_verbose_level").uint32_param(), 0u);
  EXPECT_EQ(after.settings().at("log_file").string_param(), log_file.string());
}

TEST(ServerFlagsTest, LoggingOverHttpIsTheSameLog) {
  absl::StatusOr<TestServer> server = StartTestServer({"--log-verbose=2"});
  ASSERT_TRUE(server.ok()) << server.status();
  httplib::Client http("127.0.0.1", server->server->http_port());
  httplib::Result read = http.Get("/v2/logging");
  ASSERT_TRUE(read) << httplib::to_string(read.error());
  EXPECT_EQ(read->status, 200);
  nlohmann::json settings = nlohmann::json::parse(read->body);
  EXPECT_EQ(settings["log_verbose_level"], 2);
  EXPECT_EQ(settings["log_info"], true);
  EXPECT_EQ(settings["log_format"], "default");

  httplib::Result changed = http.Post(
      "/v2/logging", R"({"log_verbose_level":0,"log_warning":false})", "application/json");
  ASSERT_TRUE(changed);
  EXPECT_EQ(changed->status, 200) << changed->body;
  settings = nlohmann::json::parse(changed->body);
  EXPECT_EQ(settings["log_verbose_level"], 0);
  EXPECT_EQ(settings["log_warning"], false);
  // The gRPC view is the same log.
  auto stub = NewStub(server->server->address());
  inference::LogSettingsResponse grpc_view = UpdateLog(*stub, {});
  EXPECT_FALSE(grpc_view.settings().at("log_warning").bool_param());

  httplib::Result bad = http.Post("/v2/logging", R"({"log_info":"yes"})", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_THAT(nlohmann::json::parse(bad->body)["error"].get<std::string>(), HasSubstr("log_info"));
}

TEST(ServerFlagsTest, ExitOnErrorStopsAServerWhoseModelsFailToLoad) {
  absl::StatusOr<TestServer> server = StartTestServer({"--exit-on-error=true"});
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(std::string(server.status().message()),
              AllOf(HasSubstr("exit"), HasSubstr("failed to load all models")));
}

// As tritonserver: a port in use is an error, unless every server on it asked to share it
// (--reuse-grpc-port, --reuse-http-port); a silently shared port would send a client's
// connections to whichever server the kernel picks.
TEST(ServerFlagsTest, APortInUseIsRefusedUnlessEveryServerSharesIt) {
  for (const std::string endpoint : {"grpc", "http"}) {
    SCOPED_TRACE(endpoint);
    const std::string port_flag = absl::StrCat("--", endpoint, "-port=");
    const std::string reuse_flag = absl::StrCat("--reuse-", endpoint, "-port=true");
    const auto port_of = [&endpoint](const TestServer& server) {
      return endpoint == "grpc" ? server.server->port() : server.server->http_port();
    };
    absl::StatusOr<TestServer> first = StartTestServer({});
    ASSERT_TRUE(first.ok()) << first.status();
    absl::StatusOr<TestServer> second =
        StartTestServer({absl::StrCat(port_flag, port_of(*first))});
    ASSERT_FALSE(second.ok()) << "a second server listens on the first one's port";
    EXPECT_THAT(std::string(second.status().message()), HasSubstr("address in use"));

    absl::StatusOr<TestServer> sharing = StartTestServer({reuse_flag});
    ASSERT_TRUE(sharing.ok()) << sharing.status();
    absl::StatusOr<TestServer> other =
        StartTestServer({reuse_flag, absl::StrCat(port_flag, port_of(*sharing))});
    ASSERT_TRUE(other.ok()) << other.status();
    EXPECT_EQ(port_of(*other), port_of(*sharing));
  }
}

// --grpc-threads: the completion-queue threads serving gRPC (server/frontend/async_rpc.h). Every
// count serves unary and streaming calls alike; none at all is refused naming the flag.
TEST(ServerFlagsTest, GrpcThreadsServeEveryMethodAndZeroIsRefused) {
  absl::StatusOr<TestServer> server = StartTestServer({"--grpc-threads=3"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = NewStub(server->server->address());
  for (int i = 0; i < 12; ++i) SendOneInference(*stub, absl::StrCat("unary-", i));
  inference::ServerLiveResponse live;
  ASSERT_TRUE(stub->ServerLive(NewContext().get(), {}, &live).ok());
  EXPECT_TRUE(live.live());
  auto context = NewContext();
  auto stream = stub->ModelStreamInfer(context.get());
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(stream->Write(Fp32Request("identity_fp32", "INPUT0", {1, 1}, {1.0f})));
    inference::ModelStreamInferResponse response;
    ASSERT_TRUE(stream->Read(&response));
    EXPECT_EQ(response.error_message(), "");
  }
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());

  absl::StatusOr<TestServer> none = StartTestServer({"--grpc-threads=0"});
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(std::string(none.status().message()), HasSubstr("--grpc-threads"));
}

TEST(ServerFlagsTest, AMalformedBackendConfigIsRefused) {
  for (const std::string value : {"pytorch,novalue", ",key=value", "=value"}) {
    absl::StatusOr<TestServer> server = StartTestServer({"--backend-config=" + value});
    ASSERT_FALSE(server.ok()) << value;
    EXPECT_THAT(std::string(server.status().message()),
                AllOf(HasSubstr("--backend-config"), HasSubstr("<backend>,<key>=<value>")))
        << value;
  }
}

// tritonserver's custom model configuration: one repository, a configuration per deployment.
TEST(ServerFlagsTest, AModelConfigNameLoadsEachModelsConfigsFileWhereItHasOne) {
  absl::StatusOr<TestServer> server =
      StartTestServer({"--model-config-name=site"}, [](const std::filesystem::path& repository) {
        const std::string config = ReadFile(repository / "identity_fp32/config.pbtxt");
        return WriteFileAtomically(repository / "identity_fp32/configs/site.pbtxt",
                                   config + "\ninstance_group [{ count: 3 kind: KIND_CPU }]\n");
      });
  ASSERT_TRUE(server.ok()) << server.status();
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub = NewStub(server->server->address());
  absl::StatusOr<inference::ModelConfig> custom = GetModelConfig(*stub, "identity_fp32");
  ASSERT_TRUE(custom.ok()) << custom.status();
  int instances = 0;
  for (const inference::ModelInstanceGroup& group : custom->instance_group()) {
    instances += group.count();
  }
  EXPECT_EQ(instances, 3 + 1);  // the config's group and the site's
  SendOneInference(*stub, "custom");
  // A model without configs/site.pbtxt loads its config.pbtxt.
  absl::StatusOr<inference::ModelConfig> plain = GetModelConfig(*stub, "identity_delay");
  ASSERT_TRUE(plain.ok()) << plain.status();
  ASSERT_EQ(plain->instance_group_size(), 1);
  EXPECT_EQ(plain->instance_group(0).count(), 1);

  absl::StatusOr<TestServer> refused = StartTestServer({"--model-config-name=../site"});
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("--model-config-name"));
}

TEST(ServerFlagsTest, FlagsForMissingFeaturesAreRefusedByName) {
  for (const std::string flag :
       {"--rate-limit=execution_count", "--cache-config=local,size=1048576",
        "--strict-model-config=false", "--allow-sagemaker=true", "--model-namespacing=true"}) {
    absl::StatusOr<TestServer> server = StartTestServer({flag});
    ASSERT_FALSE(server.ok()) << flag;
    const std::string name = flag.substr(0, flag.find('='));
    EXPECT_THAT(std::string(server.status().message()),
                AllOf(HasSubstr(name), HasSubstr("sonic-server does not have")))
        << flag;
  }
}

}  // namespace
}  // namespace sonic::testing
