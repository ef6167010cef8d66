// Bearer tokens on client channels against an in-process server that answers with the
// `authorization` metadata it received: from a file (read again after it changes) and from an
// environment variable; a missing token is an error when the channel is made.
#include "bearer_token.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "grpc_channel.h"
#include "inference/grpc_service.grpc.pb.h"

namespace sonic::transport {
namespace {

// ModelInfer answers with the request's `authorization` metadata ("" when none).
class AuthorizationEcho final : public inference::GRPCInferenceService::Service {
  grpc::Status ModelInfer(grpc::ServerContext* context, const inference::ModelInferRequest*,
                          inference::ModelInferResponse* response) override {
    const auto& metadata = context->client_metadata();
    auto it = metadata.find("authorization");
    response->set_id(it == metadata.end() ? "" : std::string(it->second.data(), it->second.size()));
    return grpc::Status::OK;
  }
};

class BearerTokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_GT(port_, 0);
    dir_ = std::filesystem::temp_directory_path() / absl::StrCat("sonic_token_test_", getpid());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    server_->Shutdown();
    std::filesystem::remove_all(dir_);
  }

  ChannelOptions With(const std::string& file, const std::string& env) {
    ChannelOptions options;
    options.address = absl::StrCat("127.0.0.1:", port_);
    options.tls.token_file = file;
    options.tls.token_env = env;
    return options;
  }

  static std::string Seen(const std::shared_ptr<grpc::Channel>& channel) {
    auto stub = inference::GRPCInferenceService::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    inference::ModelInferResponse response;
    grpc::Status status = stub->ModelInfer(&context, {}, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.id();
  }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::trunc) << text;
  }

  AuthorizationEcho service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::filesystem::path dir_;
};

TEST_F(BearerTokenTest, TokenFileIsSentAndReadAgainWhenItChanges) {
  Write("token", "first.token.value\n");
  auto channel = NewChannel(With((dir_ / "token").string(), ""));
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_EQ(Seen(*channel), "Bearer first.token.value");
  Write("token", "second.token.value-which-is-longer\n");
  bool refreshed = false;
  for (int i = 0; i < 100 && !refreshed; ++i) {
    refreshed = Seen(*channel) == "Bearer second.token.value-which-is-longer";
    if (!refreshed) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(refreshed);
  // A file replaced by an empty one (mid-rotation) keeps the last token.
  Write("token", "");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(Seen(*channel), "Bearer second.token.value-which-is-longer");
}

TEST_F(BearerTokenTest, TokenFromTheEnvironmentAndNone) {
  setenv("SONIC_TEST_BEARER_TOKEN", "env.token", 1);
  auto channel = SharedChannel(With("", "SONIC_TEST_BEARER_TOKEN"));
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_EQ(Seen(*channel), "Bearer env.token");
  auto plain = NewChannel(With("", ""));
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(Seen(*plain), "");
}

TEST_F(BearerTokenTest, AMissingTokenIsAnErrorWhenTheChannelIsMade) {
  auto missing = NewChannel(With((dir_ / "absent").string(), ""));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), ::testing::HasSubstr("absent"));
  unsetenv("SONIC_TEST_UNSET_TOKEN");
  auto unset = SharedChannel(With("", "SONIC_TEST_UNSET_TOKEN"));
  EXPECT_EQ(unset.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unset.status().message(), ::testing::HasSubstr("SONIC_TEST_UNSET_TOKEN"));
}

}  // namespace
}  // namespace sonic::transport
