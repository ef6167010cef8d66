// A TritonClient sending a bearer token from a file to a sonic-server that requires one: the
// token is read again when the file changes, as a grid job's token file is refreshed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ctime>
#include <thread>

#include "absl/strings/str_cat.h"
#include "client_test_util.h"
#include "server/auth/test_tokens.h"

namespace sonic::testing {
namespace {

using client::SonicMode;
using client::TritonClient;
namespace tokens = server::auth::testing;

const std::string kSecret = "client-token-test-secret-0123456789abcdef";

class ClientTokenTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { setup_ = Start(); }
  static void TearDownTestSuite() {
    server_.reset();
    dir_.reset();
  }
  void SetUp() override { ASSERT_TRUE(setup_.ok()) << setup_; }

  static absl::Status Start() {
    SONIC_ASSIGN_OR_RETURN(dir_, TempDirectory::Create("sonic_client_token"));
    tokens::WriteFile(dir_->path() / "secret", kSecret);
    SONIC_ASSIGN_OR_RETURN(
        TestServer server,
        StartTestServer({"--auth-secret-file", (dir_->path() / "secret").string()}));
    server_ = std::make_unique<TestServer>(std::move(server));
    return absl::OkStatus();
  }

  // Writes a token for the inference and shared-memory scopes, expiring in `lifetime_s`.
  static void WriteToken(int64_t lifetime_s) {
    absl::StatusOr<std::string> token =
        tokens::SignToken(absl::StrCat(R"({"exp": )", time(nullptr) + lifetime_s,
                                       R"(, "scope": "sonic.inference sonic.shared_memory"})"),
                          "HS256", kSecret);
    ASSERT_TRUE(token.ok());
    // Replaced by rename, as token refreshers do, so the client never reads half a token.
    tokens::WriteFile(dir_->path() / "token.new", *token + "\n");
    std::filesystem::rename(dir_->path() / "token.new", dir_->path() / "token");
  }

  static TritonClient::Options Options(SonicMode mode) {
    TritonClient::Options options = ClientOptions(*server_, "identity_fp32", mode);
    options.tls.token_file = (dir_->path() / "token").string();
    options.setup_timeout = absl::Seconds(10);
    return options;
  }

  static absl::Status RoundTrip(TritonClient& client) {
    client.reset();
    SONIC_RETURN_IF_ERROR(SendFp32(client, "INPUT0", {{1, 2}}));
    return DispatchAndWait(client);
  }

  static inline absl::Status setup_;
  static inline std::unique_ptr<TempDirectory> dir_;
  static inline std::unique_ptr<TestServer> server_;
};

TEST_F(ClientTokenTest, TheTokenFileIsSentAndFollowed) {
  WriteToken(600);
  absl::StatusOr<std::unique_ptr<TritonClient>> client =
      TritonClient::Create(Options(SonicMode::kAsync));
  ASSERT_TRUE(client.ok()) << client.status();
  absl::Status first = RoundTrip(**client);
  EXPECT_TRUE(first.ok()) << first;

  // An expired token replaces it: the next requests carry it and are refused.
  WriteToken(-3600);
  absl::Status refused;
  for (int i = 0; i < 50 && refused.ok(); ++i) {
    refused = RoundTrip(**client);
    if (refused.ok()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_THAT(refused.message(), ::testing::HasSubstr("expired"));

  // The refreshed token is picked up without a new client.
  WriteToken(600);
  absl::Status again = absl::UnknownError("not tried");
  for (int i = 0; i < 50 && !again.ok(); ++i) {
    again = RoundTrip(**client);
    if (!again.ok()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(again.ok()) << again;
}

TEST_F(ClientTokenTest, WithoutATokenCreateFailsAndAMissingFileIsBadInput) {
  TritonClient::Options options = Options(SonicMode::kSync);
  options.tls.token_file.clear();
  absl::StatusOr<std::unique_ptr<TritonClient>> none = TritonClient::Create(options);
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.status().message(), ::testing::HasSubstr("bearer token"));
  options.tls.token_file = (dir_->path() / "absent").string();
  absl::StatusOr<std::unique_ptr<TritonClient>> missing = TritonClient::Create(options);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), ::testing::HasSubstr("absent"));
}

}  // namespace
}  // namespace sonic::testing
