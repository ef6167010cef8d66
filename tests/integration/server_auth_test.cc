// Bearer tokens, request classes and repository control against the real sonic-server: tokens
// signed at test time (HS256 with a secret file, RS256 with a JWKS file), checked on gRPC, on
// HTTP/REST and on the metrics endpoint; health stays open.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <ctime>
#include <optional>

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "integration_test_util.h"
#include "server/auth/test_tokens.h"

namespace sonic::testing {
namespace {

using ::testing::HasSubstr;
namespace tokens = server::auth::testing;

const std::string kSecret = "integration-test-secret-0123456789abcdef";
constexpr char kIssuer[] = "https://issuer.test";
constexpr char kAudience[] = "sonic";

// A non-loopback IPv4 address of this host, for a client that is not local; nothing when the
// host has none.
std::optional<std::string> NonLoopbackAddress() {
  ifaddrs* interfaces = nullptr;
  if (getifaddrs(&interfaces) != 0) return std::nullopt;
  std::optional<std::string> found;
  for (ifaddrs* entry = interfaces; entry != nullptr && !found; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr || entry->ifa_addr->sa_family != AF_INET) continue;
    const in_addr address = reinterpret_cast<sockaddr_in*>(entry->ifa_addr)->sin_addr;
    if ((ntohl(address.s_addr) >> 24) == 127) continue;
    char text[INET_ADDRSTRLEN] = {};
    if (inet_ntop(AF_INET, &address, text, sizeof(text)) != nullptr) found = text;
  }
  freeifaddrs(interfaces);
  return found;
}

class ServerAuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { setup_status_ = Start(); }
  static void TearDownTestSuite() {
    server_.reset();
    keys_.reset();
  }
  void SetUp() override { ASSERT_TRUE(setup_status_.ok()) << setup_status_; }

  static absl::Status Start() {
    absl::StatusOr<std::unique_ptr<TempDirectory>> keys = TempDirectory::Create("sonic_auth");
    if (!keys.ok()) return keys.status();
    keys_ = *std::move(keys);
    absl::StatusOr<tokens::TestKeyPair> rsa = tokens::MakeKeyPair("RSA");
    if (!rsa.ok()) return rsa.status();
    rsa_private_ = rsa->private_pem;
    tokens::WriteFile(keys_->path() / "secret", kSecret);
    tokens::WriteFile(keys_->path() / "jwks.json",
                      absl::StrCat(R"({"keys": [)", rsa->Jwk("rsa-1"), "]}"));
    absl::StatusOr<TestServer> server = StartTestServer(
        {"--model-control-mode=explicit", "--load-model=identity_fp32", "--auth-secret-file",
         (keys_->path() / "secret").string(), "--auth-jwks-file",
         (keys_->path() / "jwks.json").string(), "--auth-issuer", kIssuer, "--auth-audience",
         kAudience, "--http-address", "0.0.0.0"});
    if (!server.ok()) return server.status();
    server_ = std::make_unique<TestServer>(*std::move(server));
    return absl::OkStatus();
  }

  // A token for `scope`, signed with the secret (or the JWKS's RSA key), expiring in
  // `lifetime_s` seconds (negative: expired).
  static std::string Token(const std::string& scope, bool rsa = false, int64_t lifetime_s = 600) {
    const std::string claims =
        absl::StrCat(R"({"iss": ")", kIssuer, R"(", "aud": ")", kAudience, R"(", "exp": )",
                     time(nullptr) + lifetime_s, R"(, "sub": "test", "scope": ")", scope, R"("})");
    absl::StatusOr<std::string> token =
        rsa ? tokens::SignToken(claims, "RS256", rsa_private_, "rsa-1")
            : tokens::SignToken(claims, "HS256", kSecret);
    EXPECT_TRUE(token.ok()) << token.status();
    return token.value_or("");
  }

  static std::unique_ptr<grpc::ClientContext> WithToken(const std::string& token) {
    std::unique_ptr<grpc::ClientContext> context = NewContext();
    if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
    return context;
  }

  static grpc::Status InferWith(const std::string& token) {
    auto stub = NewStub(server_->server->address());
    inference::ModelInferResponse response;
    return stub->ModelInfer(WithToken(token).get(),
                            Fp32Request("identity_fp32", "INPUT0", {1, 2}, {1, 2}), &response);
  }

  static httplib::Client Http(const std::string& host = "127.0.0.1") {
    httplib::Client client(host, server_->server->http_port());
    client.set_read_timeout(30);
    return client;
  }

  static inline absl::Status setup_status_;
  static inline std::unique_ptr<TempDirectory> keys_;
  static inline std::unique_ptr<TestServer> server_;
  static inline std::string rsa_private_;
};

TEST_F(ServerAuthTest, GrpcInferenceNeedsAValidTokenWithTheScope) {
  grpc::Status none = InferWith("");
  EXPECT_EQ(none.error_code(), grpc::StatusCode::UNAUTHENTICATED) << none.error_message();
  EXPECT_THAT(none.error_message(), HasSubstr("bearer token"));
  EXPECT_TRUE(InferWith(Token("sonic.inference")).ok());
  EXPECT_TRUE(InferWith(Token("other sonic.inference", /*rsa=*/true)).ok());
  EXPECT_EQ(InferWith(Token("sonic.statistics")).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status expired = InferWith(Token("sonic.inference", false, -3600));
  EXPECT_EQ(expired.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(expired.error_message(), HasSubstr("expired"));
  EXPECT_EQ(InferWith(Token("sonic.inference") + "x").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  // Another issuer's token, correctly signed.
  auto foreign =
      tokens::SignToken(absl::StrCat(R"({"iss": "other", "aud": "sonic", "exp": )",
                                     time(nullptr) + 600, R"(, "scope": "sonic.inference"})"),
                        "HS256", kSecret);
  EXPECT_EQ(InferWith(*foreign).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(ServerAuthTest, GrpcClassesAndOpenHealth) {
  auto stub = NewStub(server_->server->address());
  inference::ServerLiveResponse live;
  EXPECT_TRUE(stub->ServerLive(NewContext().get(), {}, &live).ok());
  inference::ModelReadyRequest ready_request;
  ready_request.set_name("identity_fp32");
  inference::ModelReadyResponse ready;
  EXPECT_TRUE(stub->ModelReady(NewContext().get(), ready_request, &ready).ok());
  EXPECT_TRUE(ready.ready());

  const std::string inference = Token("sonic.inference");
  inference::ModelStatisticsResponse stats;
  EXPECT_EQ(stub->ModelStatistics(WithToken(inference).get(), {}, &stats).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(stub->ModelStatistics(WithToken(Token("sonic.statistics")).get(), {}, &stats).ok());
  inference::SystemSharedMemoryStatusResponse regions;
  grpc::Status shm = stub->SystemSharedMemoryStatus(WithToken(inference).get(), {}, &regions);
  EXPECT_EQ(shm.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(shm.error_message(), HasSubstr("sonic.shared_memory"));
  EXPECT_TRUE(
      stub->SystemSharedMemoryStatus(WithToken(Token("sonic.shared_memory")).get(), {}, &regions)
          .ok());
  inference::RepositoryIndexResponse index;
  EXPECT_TRUE(stub->RepositoryIndex(WithToken(inference).get(), {}, &index).ok());
  inference::LogSettingsResponse log;
  EXPECT_EQ(stub->LogSettings(WithToken(inference).get(), {}, &log).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // A stream is refused as a whole.
  auto context = NewContext();
  auto stream = stub->ModelStreamInfer(context.get());
  stream->WritesDone();
  inference::ModelStreamInferResponse response;
  while (stream->Read(&response)) {
  }
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);

  // grpc.health.v1 answers probes without a token.
  auto health = grpc::health::v1::Health::NewStub(NewChannel(server_->server->address()));
  grpc::health::v1::HealthCheckResponse serving;
  EXPECT_TRUE(health->Check(NewContext().get(), {}, &serving).ok());
  EXPECT_EQ(serving.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(ServerAuthTest, RepositoryControlNeedsItsScopeAndALocalCaller) {
  auto stub = NewStub(server_->server->address());
  inference::RepositoryModelUnloadRequest unload;
  unload.set_model_name("identity_fp32");
  inference::RepositoryModelUnloadResponse unloaded;
  EXPECT_EQ(
      stub->RepositoryModelUnload(WithToken(Token("sonic.inference")).get(), unload, &unloaded)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(InferWith(Token("sonic.inference")).ok());
  const std::string admin = Token("sonic.repository");
  inference::RepositoryModelLoadRequest load;
  load.set_model_name("identity_fp32");
  inference::RepositoryModelLoadResponse loaded;
  EXPECT_TRUE(stub->RepositoryModelLoad(WithToken(admin).get(), load, &loaded).ok());

  // Over HTTP from this host's own non-loopback address the same token is refused: repository
  // control is kept to local clients by default.
  std::optional<std::string> address = NonLoopbackAddress();
  if (!address) GTEST_SKIP() << "this host has no non-loopback IPv4 address";
  httplib::Headers headers = {{"Authorization", "Bearer " + admin}};
  httplib::Result remote = Http(*address).Post("/v2/repository/models/identity_fp32/load", headers,
                                               "{}", "application/json");
  ASSERT_TRUE(remote) << httplib::to_string(remote.error());
  EXPECT_EQ(remote->status, 403);
  EXPECT_THAT(remote->body, HasSubstr("--repository-control"));
  httplib::Result local =
      Http().Post("/v2/repository/models/identity_fp32/load", headers, "{}", "application/json");
  ASSERT_TRUE(local);
  EXPECT_EQ(local->status, 200) << local->body;
  // Inference from the remote address is fine with its token.
  httplib::Result metadata = Http(*address).Get(
      "/v2/models/identity_fp32", {{"Authorization", "Bearer " + Token("sonic.inference")}});
  ASSERT_TRUE(metadata);
  EXPECT_EQ(metadata->status, 200) << metadata->body;
}

TEST_F(ServerAuthTest, HttpAnswers401And403AndLeavesHealthOpen) {
  httplib::Client client = Http();
  httplib::Result ready = client.Get("/v2/health/ready");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  httplib::Result model_ready = client.Get("/v2/models/identity_fp32/ready");
  ASSERT_TRUE(model_ready);
  EXPECT_EQ(model_ready->status, 200);

  httplib::Result none = client.Get("/v2/models/identity_fp32");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(none->get_header_value("WWW-Authenticate"), "Bearer");
  const httplib::Headers inference = {{"Authorization", "Bearer " + Token("sonic.inference")}};
  httplib::Result metadata = client.Get("/v2/models/identity_fp32", inference);
  ASSERT_TRUE(metadata);
  EXPECT_EQ(metadata->status, 200);
  httplib::Result stats = client.Get("/v2/models/stats", inference);
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->status, 403);
  httplib::Result infer = client.Post(
      "/v2/models/identity_fp32/infer", inference,
      R"({"inputs": [{"name": "INPUT0", "shape": [1, 2], "datatype": "FP32", "data": [1, 2]}]})",
      "application/json");
  ASSERT_TRUE(infer);
  EXPECT_EQ(infer->status, 200) << infer->body;
}

TEST_F(ServerAuthTest, MetricsNeedTheStatisticsScope) {
  httplib::Client client("127.0.0.1", server_->server->metrics_port());
  client.set_read_timeout(30);
  httplib::Result none = client.Get("/metrics");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  httplib::Result wrong =
      client.Get("/metrics", {{"Authorization", "Bearer " + Token("sonic.inference")}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 403);
  httplib::Result good =
      client.Get("/metrics", {{"Authorization", "Bearer " + Token("sonic.statistics")}});
  ASSERT_TRUE(good);
  EXPECT_EQ(good->status, 200);
  EXPECT_THAT(good->body, HasSubstr("nv_inference_count"));
}

TEST(ServerRepositoryControlTest, OffRefusesLoadsEvenLocally) {
  absl::StatusOr<TestServer> server = StartTestServer(
      {"--model-control-mode=explicit", "--load-model=identity_fp32", "--repository-control=off"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = NewStub(server->server->address());
  inference::RepositoryModelUnloadRequest unload;
  unload.set_model_name("identity_fp32");
  inference::RepositoryModelUnloadResponse unloaded;
  grpc::Status refused = stub->RepositoryModelUnload(NewContext().get(), unload, &unloaded);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(refused.error_message(), HasSubstr("--repository-control=off"));
  EXPECT_TRUE(IsModelReady(*stub, "identity_fp32"));
  // Without tokens configured, inference needs none.
  inference::ModelInferResponse response;
  EXPECT_TRUE(Infer(*stub, Fp32Request("identity_fp32", "INPUT0", {1, 2}, {1, 2}), &response).ok());
}

TEST(ServerAuthFlagsTest, BadKeysAndSettingsWithoutKeysStopTheServer) {
  absl::StatusOr<std::unique_ptr<TempDirectory>> dir = TempDirectory::Create("sonic_auth_flags");
  ASSERT_TRUE(dir.ok());
  tokens::WriteFile((*dir)->path() / "short", "tiny");
  absl::StatusOr<TestServer> short_secret =
      StartTestServer({"--auth-secret-file", ((*dir)->path() / "short").string()});
  ASSERT_FALSE(short_secret.ok());
  EXPECT_THAT(short_secret.status().message(), HasSubstr("HS256 needs"));
  absl::StatusOr<TestServer> no_key = StartTestServer({"--auth-anonymous", "statistics"});
  ASSERT_FALSE(no_key.ok());
  EXPECT_THAT(no_key.status().message(), HasSubstr("token settings need a key"));
}

}  // namespace
}  // namespace sonic::testing
