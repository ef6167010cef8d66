// The transport options of TritonClient against the real server: compression gives identical
// results, and TLS / mutual TLS work with certificates made at test time.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "client_test_util.h"
#include "test_certificates.h"

namespace sonic::testing {
namespace {

using client::Compression;
using client::ErrorCategory;
using client::SonicMode;
using client::TritonClient;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ClientTransportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { setup_ = StartServers(); }
  static void TearDownTestSuite() {
    plain_.reset();
    tls_.reset();
    mutual_.reset();
    certs_.reset();
  }
  void SetUp() override { ASSERT_TRUE(setup_.ok()) << setup_; }

  static absl::Status StartServers() {
    SONIC_ASSIGN_OR_RETURN(certs_, TempDirectory::Create("sonic_client_tls"));
    SONIC_RETURN_IF_ERROR(MakeTestCertificates(certs_->path()));
    const std::vector<std::string> server_files = {"--grpc-server-cert", Cert("server.crt"),
                                                   "--grpc-server-key", Cert("server.key")};
    std::vector<std::string> tls_args = {"--grpc-use-ssl"};
    tls_args.insert(tls_args.end(), server_files.begin(), server_files.end());
    std::vector<std::string> mutual_args = {"--grpc-use-ssl-mutual", "--grpc-root-cert",
                                            Cert("ca.crt")};
    mutual_args.insert(mutual_args.end(), server_files.begin(), server_files.end());
    SONIC_ASSIGN_OR_RETURN(TestServer plain, StartTestServer({}));
    plain_ = std::make_unique<TestServer>(std::move(plain));
    SONIC_ASSIGN_OR_RETURN(TestServer tls, StartTestServer(tls_args));
    tls_ = std::make_unique<TestServer>(std::move(tls));
    SONIC_ASSIGN_OR_RETURN(TestServer mutual, StartTestServer(mutual_args));
    mutual_ = std::make_unique<TestServer>(std::move(mutual));
    return absl::OkStatus();
  }

  static std::string Cert(const std::string& name) { return (certs_->path() / name).string(); }

  static client::TlsOptions Tls(const std::string& ca, const std::string& client = "") {
    client::TlsOptions tls;
    tls.enabled = true;
    tls.root_certificates_file = Cert(ca + ".crt");
    if (!client.empty()) {
      tls.private_key_file = Cert(client + ".key");
      tls.certificate_chain_file = Cert(client + ".crt");
    }
    return tls;
  }

  // Creates a client with `tls` on `server` and runs identity_fp32 once.
  static absl::Status RoundTrip(const TestServer& server, const client::TlsOptions& tls) {
    TritonClient::Options options = ClientOptions(server, "identity_fp32", SonicMode::kAsync);
    options.tls = tls;
    options.setup_timeout = absl::Seconds(10);
    SONIC_ASSIGN_OR_RETURN(std::unique_ptr<TritonClient> client, TritonClient::Create(options));
    SONIC_RETURN_IF_ERROR(SendFp32(*client, "INPUT0", {{1, 2}}));
    SONIC_RETURN_IF_ERROR(DispatchAndWait(*client));
    SONIC_ASSIGN_OR_RETURN(auto rows, ReadFp32(*client, "OUTPUT0"));
    if (rows != std::vector<std::vector<float>>{{1, 2}}) return absl::InternalError("wrong data");
    return absl::OkStatus();
  }

  static inline std::unique_ptr<TempDirectory> certs_;
  static inline std::unique_ptr<TestServer> plain_, tls_, mutual_;
  static inline absl::Status setup_;
};

TEST_F(ClientTransportTest, CompressionGivesIdenticalResults) {
  // Compressible rows (repeating values) and incompressible-looking ones.
  std::vector<std::vector<float>> rows(4, std::vector<float>(4096));
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t i = 0; i < rows[r].size(); ++i) {
      rows[r][i] = r % 2 == 0 ? static_cast<float>(i % 8)
                              : static_cast<float>((i * 2654435761u) % 1000003) / 7.0f;
    }
  }
  std::vector<std::vector<std::vector<float>>> results;
  for (Compression compression : {Compression::kNone, Compression::kDeflate, Compression::kGzip}) {
    for (SonicMode mode : {SonicMode::kSync, SonicMode::kAsync}) {
      TritonClient::Options options = ClientOptions(*plain_, "identity_fp32", mode);
      options.compression = compression;
      absl::StatusOr<std::unique_ptr<TritonClient>> client = TritonClient::Create(options);
      ASSERT_TRUE(client.ok()) << client.status();
      ASSERT_TRUE(SendFp32(**client, "INPUT0", rows).ok());
      absl::Status status = DispatchAndWait(**client);
      ASSERT_TRUE(status.ok()) << status;
      absl::StatusOr<std::vector<std::vector<float>>> output = ReadFp32(**client, "OUTPUT0");
      ASSERT_TRUE(output.ok()) << output.status();
      results.push_back(*std::move(output));
    }
  }
  EXPECT_EQ(results.front(), rows);
  for (const auto& result : results) EXPECT_EQ(result, results.front());
}

TEST_F(ClientTransportTest, TlsWithTheServersCa) {
  absl::Status status = RoundTrip(*tls_, Tls("ca"));
  EXPECT_TRUE(status.ok()) << status << "\nserver log:\n" << tls_->server->Log();
}

TEST_F(ClientTransportTest, TlsRefusesAServerSignedByAnotherCa) {
  absl::Status status = RoundTrip(*tls_, Tls("other_ca"));
  EXPECT_EQ(client::GetErrorCategory(status), ErrorCategory::kServerUnavailable) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr(tls_->server->address()));
}

TEST_F(ClientTransportTest, PlaintextClientCannotTalkToATlsServer) {
  EXPECT_FALSE(RoundTrip(*tls_, client::TlsOptions{}).ok());
}

TEST_F(ClientTransportTest, MutualTlsWithAClientCertificate) {
  absl::Status status = RoundTrip(*mutual_, Tls("ca", "client"));
  EXPECT_TRUE(status.ok()) << status << "\nserver log:\n" << mutual_->server->Log();
}

TEST_F(ClientTransportTest, MutualTlsRefusesClientsWithoutAValidCertificate) {
  EXPECT_FALSE(RoundTrip(*mutual_, Tls("ca")).ok());
  EXPECT_FALSE(RoundTrip(*mutual_, Tls("ca", "other_client")).ok());
}

TEST_F(ClientTransportTest, MissingCertificateFilesAreBadInput) {
  client::TlsOptions tls = Tls("ca");
  tls.root_certificates_file = Cert("no_such.crt");
  absl::Status status = RoundTrip(*tls_, tls);
  EXPECT_EQ(client::GetErrorCategory(status), ErrorCategory::kBadInput);
  EXPECT_THAT(std::string(status.message()), HasSubstr("no_such.crt"));
  tls = Tls("ca", "client");
  tls.certificate_chain_file.clear();
  EXPECT_EQ(client::GetErrorCategory(RoundTrip(*tls_, tls)), ErrorCategory::kBadInput);
}

}  // namespace
}  // namespace sonic::testing
