// Model versions, against the real sonic-server: a declared model's local config (with the
// checksum repository agent's digests) compared with each server's, a server with another
// version left out of routing, a clear "model version mismatch" when no server has the local
// version and there is no fallback, and a client's own check of its local_config_path.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "service_test_util.h"

namespace sonic::service::testing {
namespace {

using ::testing::HasSubstr;

class ModelVersionTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(WriteVersion("v1", "abc", kAbcMd5));
    ASSERT_NO_FATAL_FAILURE(WriteVersion("v2", "a", kAMd5));
  }
  // RFC 1321's digests of "abc" and "a": the server verifies them when it loads the model.
  static constexpr char kAbcMd5[] = "900150983cd24fb0d6963f7d28e17f72";
  static constexpr char kAMd5[] = "0cc175b9c0f1b6a831c399e269772661";
  // A copy of identity_fp32 in `name` with 1/weights holding `weights`, whose config lists the
  // digest `digest` for it.
  void WriteVersion(const std::string& name, const std::string& weights,
                    const std::string& digest) {
    const auto target = dir_->path() / name;
    std::filesystem::copy(all() / "identity_fp32", target,
                          std::filesystem::copy_options::recursive);
    std::ofstream(target / "1" / "weights", std::ios::binary) << weights;
    std::stringstream config;
    config << std::ifstream(target / "config.pbtxt").rdbuf();
    std::ofstream(target / "config.pbtxt")
        << config.str() << "\nmodel_repository_agents { agents [ { name: \"checksum\" "
        << "parameters { key: \"MD5:1/weights\" value: \"" << digest << "\" } } ] }\n";
  }
  std::filesystem::path Version(const std::string& name) const { return dir_->path() / name; }
  ModelDeclaration LocalV1() const { return {"identity_fp32", Version("v1"), ""}; }
};

TEST_F(ModelVersionTest, RequestsGoToTheServerWithTheLocalVersion) {
  auto old_version = StartServer("a", {{"identity_fp32", Version("v2")}});
  auto right = StartServer("b", {{"identity_fp32", Version("v1")}});
  ASSERT_TRUE(old_version && right);
  ServiceConfig config;
  config.servers = {{"a", old_version->address(), {}}, {"b", right->address(), {}}};
  config.preferred_server = "a";  // preferred, but with the other version
  config.models = {LocalV1()};
  auto service = CreateService(config);
  ASSERT_TRUE(service);
  for (int i = 0; i < 3; ++i) {
    auto endpoint = service->Resolve("identity_fp32", "");
    ASSERT_TRUE(endpoint.ok()) << endpoint.status();
    EXPECT_EQ(endpoint->address, right->address());
  }
  for (const ServerState& state : service->Servers()) {
    if (state.name == "a") {
      EXPECT_TRUE(state.models.empty());
    }
  }
  const auto options = service->ClientOptions("identity_fp32");
  EXPECT_EQ(options.local_config_path, (Version("v1") / "config.pbtxt").string());
  auto client = client::TritonClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ((*client)->serverAddress(), right->address());
  EXPECT_TRUE(RoundTrip(**client, {1, 2}).ok());
}

TEST_F(ModelVersionTest, AModelDeclaredWithoutALocalDirectoryHasNothingToCompare) {
  auto server = StartServer("a", {{"identity_fp32", Version("v2")}});
  ASSERT_TRUE(server);
  ServiceConfig config;
  config.servers = {{"a", server->address(), {}}};
  config.models = {{"identity_fp32", "", ""}};  // served remotely only
  auto service = CreateService(config);
  ASSERT_TRUE(service);
  const auto options = service->ClientOptions("identity_fp32");
  EXPECT_EQ(options.local_config_path, "");
  auto client = client::TritonClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_TRUE(RoundTrip(**client, {1, 2}).ok());
}

TEST_F(ModelVersionTest, NoServerWithTheLocalVersionAndNoFallbackIsAClearError) {
  auto old_version = StartServer("a", {{"identity_fp32", Version("v2")}});
  ASSERT_TRUE(old_version);
  ServiceConfig config;
  config.servers = {{"a", old_version->address(), {}}};
  config.models = {LocalV1()};
  auto service = CreateService(config);
  ASSERT_TRUE(service);
  auto endpoint = service->Resolve("identity_fp32", "");
  ASSERT_FALSE(endpoint.ok()) << "resolved to " << endpoint->address;
  EXPECT_EQ(endpoint.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(client::MayRetry(endpoint.status()));
  const std::string message(endpoint.status().message());
  EXPECT_THAT(message, HasSubstr("model version mismatch"));
  EXPECT_THAT(message, HasSubstr((Version("v1") / "config.pbtxt").string()));
  EXPECT_THAT(message, HasSubstr(absl::StrCat("server 'a' (", old_version->address(), ")")));
  EXPECT_THAT(message, HasSubstr(absl::StrCat("checksum MD5:1/weights is ", kAbcMd5,
                                          " locally, ", kAMd5, " on the server")));
  auto client = client::TritonClient::Create(service->ClientOptions("identity_fp32"));
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client::GetErrorCategory(client.status()), client::ErrorCategory::kModelError);
}

TEST_F(ModelVersionTest, TheFallbackServesTheLocalVersionWhenNoServerHasIt) {
  auto old_version = StartServer("a", {{"identity_fp32", Version("v2")}});
  ASSERT_TRUE(old_version);
  ServiceConfig config = WithFallback();
  config.servers = {{"a", old_version->address(), {}}};
  config.models = {LocalV1()};
  auto service = CreateService(config);
  ASSERT_TRUE(service);
  auto client = client::TritonClient::Create(service->ClientOptions("identity_fp32"));
  ASSERT_TRUE(client.ok()) << client.status() << service->FallbackLogs();
  EXPECT_NE((*client)->serverAddress(), old_version->address());
  EXPECT_EQ(service->FallbackPids().size(), 1u);
  EXPECT_TRUE(RoundTrip(**client, {3}).ok());
}

TEST_F(ModelVersionTest, AClientWithALocalConfigRefusesAnotherVersion) {
  auto old_version = StartServer("a", {{"identity_fp32", Version("v2")}});
  ASSERT_TRUE(old_version);
  client::TritonClient::Options options;
  options.server_address = old_version->address();
  options.model_name = "identity_fp32";
  options.local_config_path = (Version("v1") / "config.pbtxt").string();
  auto client = client::TritonClient::Create(options);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client::GetErrorCategory(client.status()), client::ErrorCategory::kModelError);
  const std::string message(client.status().message());
  EXPECT_THAT(message, HasSubstr("model version mismatch"));
  EXPECT_THAT(message, HasSubstr(old_version->address()));
  EXPECT_THAT(message, HasSubstr(options.local_config_path));
  options.local_config_path = (Version("v2") / "config.pbtxt").string();
  auto same = client::TritonClient::Create(options);
  EXPECT_TRUE(same.ok()) << same.status();
}

}  // namespace
}  // namespace sonic::service::testing
