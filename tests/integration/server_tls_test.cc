// TLS and mutual TLS on sonic-server's gRPC port, with a CA, server and client certificates made
// by the openssl command line at test time (no key material is checked in).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "integration_test_util.h"
#include "test_certificates.h"

namespace sonic::testing {
namespace {

using ::testing::HasSubstr;

std::string ReadFile(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

class ServerTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { setup_status_ = StartServers(); }
  static void TearDownTestSuite() {
    tls_.reset();
    mutual_.reset();
    certs_.reset();
  }
  void SetUp() override { ASSERT_TRUE(setup_status_.ok()) << setup_status_; }

  static absl::Status StartServers() {
    absl::StatusOr<std::unique_ptr<TempDirectory>> certs = TempDirectory::Create("sonic_tls");
    if (!certs.ok()) return certs.status();
    certs_ = *std::move(certs);
    if (absl::Status made = MakeTestCertificates(Cert("")); !made.ok()) return made;
    const std::vector<std::string> server_files = {"--grpc-server-cert",
                                                   Cert("server.crt").string(), "--grpc-server-key",
                                                   Cert("server.key").string()};

    std::vector<std::string> tls_args = {"--grpc-use-ssl"};
    tls_args.insert(tls_args.end(), server_files.begin(), server_files.end());
    absl::StatusOr<TestServer> tls = StartTestServer(tls_args, {}, /*write_test_models=*/false);
    if (!tls.ok()) return tls.status();
    tls_ = std::make_unique<TestServer>(*std::move(tls));

    std::vector<std::string> mutual_args = {"--grpc-use-ssl-mutual", "--grpc-root-cert",
                                            Cert("ca.crt").string()};
    mutual_args.insert(mutual_args.end(), server_files.begin(), server_files.end());
    absl::StatusOr<TestServer> mutual =
        StartTestServer(mutual_args, {}, /*write_test_models=*/false);
    if (!mutual.ok()) return mutual.status();
    mutual_ = std::make_unique<TestServer>(*std::move(mutual));
    return absl::OkStatus();
  }

  static std::filesystem::path Cert(const std::string& name) { return certs_->path() / name; }

  // TLS credentials trusting `root_ca`, with the client certificate `client` ("" for none).
  static std::shared_ptr<grpc::ChannelCredentials> Tls(const std::string& root_ca,
                                                       const std::string& client = "") {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = ReadFile(Cert(root_ca + ".crt"));
    if (!client.empty()) {
      options.pem_private_key = ReadFile(Cert(client + ".key"));
      options.pem_cert_chain = ReadFile(Cert(client + ".crt"));
    }
    return grpc::SslCredentials(options);
  }

  // ServerLive through a channel with `credentials`; failures come back as the status.
  static grpc::Status Live(const TestServer& server,
                           std::shared_ptr<grpc::ChannelCredentials> credentials) {
    auto stub = inference::GRPCInferenceService::NewStub(
        NewChannel(server.server->address(), std::move(credentials)));
    inference::ServerLiveResponse response;
    grpc::Status status = stub->ServerLive(NewContext().get(), {}, &response);
    if (status.ok() && !response.live())
      return grpc::Status(grpc::StatusCode::INTERNAL, "not live");
    return status;
  }

  static inline std::unique_ptr<TempDirectory> certs_;
  static inline std::unique_ptr<TestServer> tls_;
  static inline std::unique_ptr<TestServer> mutual_;
  static inline absl::Status setup_status_;
};

TEST_F(ServerTlsTest, TlsServerAcceptsAClientTrustingItsCa) {
  grpc::Status status = Live(*tls_, Tls("ca"));
  EXPECT_TRUE(status.ok()) << status.error_message() << "\nserver log:\n" << tls_->server->Log();
}

TEST_F(ServerTlsTest, TlsServerRefusesAPlaintextClient) {
  EXPECT_FALSE(Live(*tls_, grpc::InsecureChannelCredentials()).ok());
}

TEST_F(ServerTlsTest, ClientRefusesAServerSignedByAnotherCa) {
  EXPECT_FALSE(Live(*tls_, Tls("other_ca")).ok());
}

TEST_F(ServerTlsTest, MutualTlsRefusesAClientWithoutCertificate) {
  EXPECT_FALSE(Live(*mutual_, Tls("ca")).ok());
  EXPECT_FALSE(Live(*mutual_, grpc::InsecureChannelCredentials()).ok());
}

TEST_F(ServerTlsTest, MutualTlsRefusesACertificateFromAnotherCa) {
  EXPECT_FALSE(Live(*mutual_, Tls("ca", "other_client")).ok());
}

TEST_F(ServerTlsTest, MutualTlsAcceptsAClientWithItsCertificate) {
  grpc::Status status = Live(*mutual_, Tls("ca", "client"));
  EXPECT_TRUE(status.ok()) << status.error_message() << "\nserver log:\n" << mutual_->server->Log();
}

TEST_F(ServerTlsTest, MissingCertificateFileStopsTheServerWithAnErrorNamingIt) {
  const std::string missing = Cert("no_such_server.crt").string();
  absl::StatusOr<TestServer> server =
      StartTestServer({"--grpc-use-ssl", "--grpc-server-cert", missing, "--grpc-server-key",
                       Cert("server.key").string()},
                      {}, /*write_test_models=*/false);
  ASSERT_FALSE(server.ok()) << "the server started without its certificate";
  EXPECT_THAT(server.status().message(), HasSubstr("exited before listening"));
  EXPECT_THAT(server.status().message(), HasSubstr(missing));
}

}  // namespace
}  // namespace sonic::testing
