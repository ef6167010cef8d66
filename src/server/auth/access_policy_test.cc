#include "server/auth/access_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include "absl/strings/str_cat.h"
#include "server/auth/test_tokens.h"

namespace sonic::server::auth {
namespace {

using ::testing::HasSubstr;

const std::string kSecret = "0123456789abcdef0123456789abcdef-policy-secret";

Caller Local(std::string_view authorization = "") { return Caller{authorization, true}; }
Caller Remote(std::string_view authorization = "") { return Caller{authorization, false}; }

class AccessPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/sonic_policy_test_XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    testing::WriteFile(dir_ / "secret", kSecret);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  AccessPolicy::Options WithTokens() {
    AccessPolicy::Options options;
    TokenVerifier::Options verifier_options;
    verifier_options.secret_files = {dir_ / "secret"};
    auto verifier = TokenVerifier::Create(verifier_options);
    EXPECT_TRUE(verifier.ok()) << verifier.status();
    options.verifier = *std::move(verifier);
    return options;
  }

  static std::string Bearer(const std::string& scope) {
    const int64_t exp = time(nullptr) + 600;
    return "Bearer " +
           *testing::SignToken(absl::StrCat(R"({"exp": )", exp, R"(, "scope": ")", scope, R"("})"),
                               "HS256", kSecret);
  }

  std::filesystem::path dir_;
};

TEST_F(AccessPolicyTest, WithoutTokensEverythingIsOpenButRemoteRepositoryControl) {
  AccessPolicy policy(AccessPolicy::Options{});
  EXPECT_TRUE(policy.Check(AccessClass::kInference, Remote()).ok());
  EXPECT_TRUE(policy.Check(AccessClass::kSharedMemory, Remote()).ok());
  EXPECT_TRUE(policy.CheckRepositoryControl(Local()).ok());
  auto remote = policy.CheckRepositoryControl(Remote());
  EXPECT_EQ(remote.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(remote.message(), HasSubstr("--repository-control"));

  AccessPolicy::Options open;
  open.repository_control = RepositoryControl::kAny;
  AccessPolicy any(std::move(open));
  EXPECT_TRUE(any.CheckRepositoryControl(Remote()).ok());
  AccessPolicy::Options closed;
  closed.repository_control = RepositoryControl::kOff;
  AccessPolicy off(std::move(closed));
  EXPECT_EQ(off.CheckRepositoryControl(Local()).code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(AccessPolicyTest, TokensAndScopes) {
  AccessPolicy policy(WithTokens());
  EXPECT_TRUE(policy.Check(AccessClass::kHealth, Remote()).ok());
  auto missing = policy.Check(AccessClass::kInference, Remote());
  EXPECT_EQ(missing.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(policy.Check(AccessClass::kInference, Remote("Basic abc")).code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(policy.Check(AccessClass::kInference, Remote("Bearer not.a.token")).code(),
            absl::StatusCode::kUnauthenticated);

  const std::string inference = Bearer("sonic.inference");
  EXPECT_TRUE(policy.Check(AccessClass::kInference, Remote(inference)).ok());
  auto denied = policy.Check(AccessClass::kSharedMemory, Remote(inference));
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(denied.message(), HasSubstr("sonic.shared_memory"));

  const std::string admin = Bearer("sonic.repository sonic.statistics");
  EXPECT_TRUE(policy.CheckRepositoryControl(Local(admin)).ok());
  // The token does not lift the loopback rule.
  EXPECT_EQ(policy.CheckRepositoryControl(Remote(admin)).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(policy.CheckRepositoryControl(Local(inference)).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(AccessPolicyTest, AnonymousClassesAndRenamedScopes) {
  AccessPolicy::Options options = WithTokens();
  options.anonymous = {AccessClass::kStatistics};
  options.scopes[AccessClass::kInference] = "compute.create";
  options.scopes[AccessClass::kSharedMemory] = "";
  AccessPolicy policy(std::move(options));
  EXPECT_TRUE(policy.Check(AccessClass::kStatistics, Remote()).ok());
  EXPECT_TRUE(policy.Check(AccessClass::kInference, Remote(Bearer("compute.create"))).ok());
  EXPECT_EQ(policy.Check(AccessClass::kInference, Remote(Bearer("sonic.inference"))).code(),
            absl::StatusCode::kPermissionDenied);
  // An empty scope: any valid token.
  EXPECT_TRUE(policy.Check(AccessClass::kSharedMemory, Remote(Bearer(""))).ok());
  // A token sent to an anonymous class is still checked.
  EXPECT_EQ(policy.Check(AccessClass::kStatistics, Remote("Bearer x")).code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(BearerTokenTest, ParsesTheScheme) {
  EXPECT_EQ(BearerToken("Bearer abc.def"), "abc.def");
  EXPECT_EQ(BearerToken("bearer   abc "), "abc");
  EXPECT_EQ(BearerToken("Bearer"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearerabc"), std::nullopt);
  EXPECT_EQ(BearerToken("Basic abc"), std::nullopt);
}

TEST(LoopbackTest, AddressesAndGrpcPeers) {
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackAddress("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackAddress("::1"));
  EXPECT_TRUE(IsLoopbackAddress("::ffff:127.0.0.1"));
  EXPECT_FALSE(IsLoopbackAddress("10.0.0.1"));
  EXPECT_FALSE(IsLoopbackAddress("::ffff:10.0.0.1"));
  EXPECT_FALSE(IsLoopbackAddress("localhost"));
  EXPECT_TRUE(IsLoopbackGrpcPeer("ipv4:127.0.0.1:45678"));
  EXPECT_TRUE(IsLoopbackGrpcPeer("ipv6:[::1]:45678"));
  EXPECT_TRUE(IsLoopbackGrpcPeer("ipv6:%5B::1%5D:45678"));
  EXPECT_TRUE(IsLoopbackGrpcPeer("unix:/tmp/socket"));
  EXPECT_FALSE(IsLoopbackGrpcPeer("ipv4:192.168.1.4:45678"));
  EXPECT_FALSE(IsLoopbackGrpcPeer("fd:12"));
}

}  // namespace
}  // namespace sonic::server::auth
