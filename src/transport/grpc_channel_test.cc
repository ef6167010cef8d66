// Channels and credentials against an in-process gRPC server (plaintext and TLS, certificates
// made at test time): messages past gRPC's default size limit, the server's CA accepted and
// another refused, unreadable TLS files reported, shared channels shared.
#include "grpc_channel.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "grpc_call.h"
#include "inference/grpc_service.grpc.pb.h"
#include "test_certificates.h"

namespace sonic::transport {
namespace {

using ::testing::HasSubstr;

// Live, and ModelInfer answering with the request's raw contents.
class EchoService final : public inference::GRPCInferenceService::Service {
  grpc::Status ServerLive(grpc::ServerContext*, const inference::ServerLiveRequest*,
                          inference::ServerLiveResponse* response) override {
    response->set_live(true);
    return grpc::Status::OK;
  }
  grpc::Status ModelInfer(grpc::ServerContext*, const inference::ModelInferRequest* request,
                          inference::ModelInferResponse* response) override {
    *response->mutable_raw_output_contents() = request->raw_input_contents();
    return grpc::Status::OK;
  }
};

ChannelOptions To(const std::string& address,
                  grpc_compression_algorithm compression = GRPC_COMPRESS_NONE) {
  ChannelOptions options;
  options.address = address;
  options.compression = compression;
  return options;
}

ChannelOptions To(const std::string& address, const TlsOptions& tls) {
  ChannelOptions options = To(address);
  options.tls = tls;
  return options;
}

TlsOptions RootOnly(const std::string& root_certificates_file) {
  TlsOptions tls;
  tls.enabled = true;
  tls.root_certificates_file = root_certificates_file;
  return tls;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class GrpcChannelTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certs_ = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                       absl::StrCat("sonic_transport_test_", getpid()));
    std::filesystem::create_directories(*certs_);
    ASSERT_TRUE(testing::MakeTestCertificates(*certs_).ok());
    plain_ = Start(grpc::InsecureServerCredentials(), &plain_port_).release();
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back(
        {ReadFile(*certs_ / "server.key"), ReadFile(*certs_ / "server.crt")});
    tls_ = Start(grpc::SslServerCredentials(ssl), &tls_port_).release();
  }
  static void TearDownTestSuite() {
    for (grpc::Server* server : {plain_, tls_}) {
      server->Shutdown();
      delete server;
    }
    std::filesystem::remove_all(*certs_);
    delete certs_;
  }

  static std::unique_ptr<grpc::Server> Start(std::shared_ptr<grpc::ServerCredentials> credentials,
                                             int* port) {
    static EchoService service;
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", std::move(credentials), port);
    builder.SetMaxReceiveMessageSize(-1);
    builder.SetMaxSendMessageSize(-1);
    builder.RegisterService(&service);
    return builder.BuildAndStart();
  }

  static TlsOptions Tls(const std::string& ca) { return RootOnly((*certs_ / ca).string()); }

  static absl::Status Live(const std::shared_ptr<grpc::Channel>& channel) {
    auto stub = inference::GRPCInferenceService::NewStub(channel);
    grpc::ClientContext context;
    SetTimeout(context, absl::Seconds(10));
    inference::ServerLiveResponse response;
    return FromGrpc(stub->ServerLive(&context, {}, &response), "ServerLive");
  }

  static inline std::filesystem::path* certs_ = nullptr;
  static inline grpc::Server* plain_ = nullptr;
  static inline grpc::Server* tls_ = nullptr;
  static inline int plain_port_ = 0;
  static inline int tls_port_ = 0;
};

TEST_F(GrpcChannelTest, CarriesMessagesPastGrpcsDefaultLimit) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      NewChannel(To(absl::StrCat("127.0.0.1:", plain_port_)));
  ASSERT_TRUE(channel.ok()) << channel.status();
  auto stub = inference::GRPCInferenceService::NewStub(*channel);
  inference::ModelInferRequest request;
  request.add_raw_input_contents(std::string(6 << 20, 'x'));  // past the 4 MiB default
  inference::ModelInferResponse response;
  grpc::ClientContext context;
  SetTimeout(context, absl::Seconds(30));
  absl::Status status = FromGrpc(stub->ModelInfer(&context, request, &response));
  ASSERT_TRUE(status.ok()) << status;
  ASSERT_EQ(response.raw_output_contents_size(), 1);
  EXPECT_EQ(response.raw_output_contents(0).size(), size_t{6} << 20);
}

TEST_F(GrpcChannelTest, CompressedCallsReachTheServer) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      NewChannel(To(absl::StrCat("127.0.0.1:", plain_port_), GRPC_COMPRESS_GZIP));
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_TRUE(Live(*channel).ok());
}

TEST_F(GrpcChannelTest, TlsWithTheServersCa) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      NewChannel(To(absl::StrCat("127.0.0.1:", tls_port_), Tls("ca.crt")));
  ASSERT_TRUE(channel.ok()) << channel.status();
  absl::Status status = Live(*channel);
  EXPECT_TRUE(status.ok()) << status;
}

TEST_F(GrpcChannelTest, TlsRefusesAServerSignedByAnotherCa) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      NewChannel(To(absl::StrCat("127.0.0.1:", tls_port_), Tls("other_ca.crt")));
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_EQ(Live(*channel).code(), absl::StatusCode::kUnavailable);
}

TEST_F(GrpcChannelTest, PlaintextCannotTalkToATlsServer) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      NewChannel(To(absl::StrCat("127.0.0.1:", tls_port_)));
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_FALSE(Live(*channel).ok());
}

TEST(CredentialsTest, UnreadableFilesAreNamed) {
  const TlsOptions missing_root = RootOnly("/nonexistent/ca.crt");
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      MakeCredentials(missing_root);
  EXPECT_EQ(credentials.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(credentials.status().message(), HasSubstr("root certificates"));
  EXPECT_THAT(credentials.status().message(), HasSubstr("/nonexistent/ca.crt"));

  TlsOptions missing_key;
  missing_key.enabled = true;
  missing_key.private_key_file = "/nonexistent/client.key";
  missing_key.certificate_chain_file = "/nonexistent/client.crt";
  EXPECT_THAT(MakeCredentials(missing_key).status().message(), HasSubstr("private key"));
}

TEST(CredentialsTest, KeyAndCertificateChainGoTogether) {
  TlsOptions key_only;
  key_only.enabled = true;
  key_only.private_key_file = "/nonexistent/client.key";
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials = MakeCredentials(key_only);
  EXPECT_EQ(credentials.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(credentials.status().message(), HasSubstr("give both or neither"));
}

TEST(CredentialsTest, DisabledTlsIgnoresTheFiles) {
  TlsOptions disabled = RootOnly("/nonexistent/ca.crt");
  disabled.enabled = false;
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials = MakeCredentials(disabled);
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  EXPECT_NE(*credentials, nullptr);
}

TEST(SharedChannelTest, SameOptionsShareOneChannel) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> a = SharedChannel(To("127.0.0.1:1"));
  absl::StatusOr<std::shared_ptr<grpc::Channel>> b = SharedChannel(To("127.0.0.1:1"));
  absl::StatusOr<std::shared_ptr<grpc::Channel>> other_address = SharedChannel(To("127.0.0.1:2"));
  absl::StatusOr<std::shared_ptr<grpc::Channel>> other_compression =
      SharedChannel(To("127.0.0.1:1", GRPC_COMPRESS_DEFLATE));
  ASSERT_TRUE(a.ok() && b.ok() && other_address.ok() && other_compression.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *other_address);
  EXPECT_NE(*a, *other_compression);
  absl::StatusOr<std::shared_ptr<grpc::Channel>> fresh = NewChannel(To("127.0.0.1:1"));
  ASSERT_TRUE(fresh.ok());
  EXPECT_NE(*a, *fresh);
}

TEST(SharedChannelTest, ReportsAFileThatWentAwayAfterTheChannelWasMade) {
  const std::string ca = (std::filesystem::temp_directory_path() /
                          absl::StrCat("sonic_transport_ca_", getpid(), ".crt"))
                             .string();
  std::ofstream(ca) << "not checked before a handshake\n";
  const ChannelOptions options = To("127.0.0.1:1", RootOnly(ca));
  ASSERT_TRUE(SharedChannel(options).ok());
  std::filesystem::remove(ca);
  EXPECT_EQ(SharedChannel(options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ChannelArgumentsTest, NoMessageSizeLimitAndTheDefaultCompression) {
  const grpc::ChannelArguments arguments = ChannelArgumentsOf(To("", GRPC_COMPRESS_DEFLATE));
  grpc_channel_args args;  // points into `arguments`
  arguments.SetChannelArgs(&args);
  int found = 0;
  for (size_t i = 0; i < args.num_args; ++i) {
    const std::string key = args.args[i].key;
    if (key == GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH || key == GRPC_ARG_MAX_SEND_MESSAGE_LENGTH) {
      EXPECT_EQ(args.args[i].value.integer, std::numeric_limits<int>::max()) << key;
      ++found;
    }
    if (key == GRPC_COMPRESSION_CHANNEL_DEFAULT_ALGORITHM) {
      EXPECT_EQ(args.args[i].value.integer, GRPC_COMPRESS_DEFLATE);
      ++found;
    }
  }
  EXPECT_EQ(found, 3);
}

}  // namespace
}  // namespace sonic::transport
