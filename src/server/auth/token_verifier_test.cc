#include "server/auth/token_verifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>

#include "absl/strings/str_cat.h"
#include "server/auth/test_tokens.h"

namespace sonic::server::auth {
namespace {

using ::testing::HasSubstr;
using testing::MakeKeyPair;
using testing::SignToken;
using testing::WriteFile;

constexpr int64_t kNow = 1'800'000'000;
const std::string kSecret = "0123456789abcdef0123456789abcdef-test-secret";

class TokenVerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/sonic_auth_test_XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path Write(const std::string& name, const std::string& contents) {
    WriteFile(dir_ / name, contents);
    return dir_ / name;
  }

  TokenVerifier::Options Options() {
    TokenVerifier::Options options;
    options.now = [this] { return now_.load(); };
    return options;
  }

  static std::string Claims(const std::string& extra = "", int64_t exp = kNow + 600) {
    return absl::StrCat(R"({"exp": )", exp, R"(, "sub": "alice")", extra, "}");
  }

  std::filesystem::path dir_;
  std::atomic<int64_t> now_{kNow};
};

TEST_F(TokenVerifierTest, Hs256SecretVerifiesAndReadsScopes) {
  TokenVerifier::Options options = Options();
  options.secret_files = {Write("secret", kSecret + "\n")};
  auto verifier = TokenVerifier::Create(options);
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  auto token =
      SignToken(Claims(R"(, "scope": "sonic.inference other", "scp": ["x"])"), "HS256", kSecret);
  ASSERT_TRUE(token.ok());
  auto claims = (*verifier)->Verify(*token);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->subject, "alice");
  EXPECT_THAT(claims->scopes, ::testing::UnorderedElementsAre("sonic.inference", "other", "x"));

  auto forged = SignToken(Claims(), "HS256", kSecret + "x");
  EXPECT_EQ((*verifier)->Verify(*forged).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(TokenVerifierTest, ShortSecretAndMissingKeysAreRefusedAtCreate) {
  TokenVerifier::Options options = Options();
  EXPECT_EQ(TokenVerifier::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.secret_files = {Write("short", "tiny")};
  auto verifier = TokenVerifier::Create(options);
  EXPECT_EQ(verifier.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(verifier.status().message(), HasSubstr("short"));
  options.secret_files = {dir_ / "absent"};
  EXPECT_EQ(TokenVerifier::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.secret_files.clear();
  options.public_key_files = {Write("garbage.pem", "not a key")};
  EXPECT_THAT(TokenVerifier::Create(options).status().message(), HasSubstr("garbage.pem"));
}

TEST_F(TokenVerifierTest, Rs256AndEs256PublicKeys) {
  auto rsa = MakeKeyPair("RSA");
  auto ec = MakeKeyPair("EC");
  ASSERT_TRUE(rsa.ok() && ec.ok());
  TokenVerifier::Options options = Options();
  options.public_key_files = {Write("rsa.pem", rsa->public_pem), Write("ec.pem", ec->public_pem)};
  auto verifier = TokenVerifier::Create(options);
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  EXPECT_TRUE((*verifier)->Verify(*SignToken(Claims(), "RS256", rsa->private_pem)).ok());
  EXPECT_TRUE((*verifier)->Verify(*SignToken(Claims(), "ES256", ec->private_pem)).ok());
  // Another key pair's signature.
  auto other = MakeKeyPair("EC");
  auto status = (*verifier)->Verify(*SignToken(Claims(), "ES256", other->private_pem)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(status.message(), HasSubstr("signature"));
}

TEST_F(TokenVerifierTest, PublicKeyCannotServeAsHmacSecretNorNone) {
  auto rsa = MakeKeyPair("RSA");
  TokenVerifier::Options options = Options();
  options.public_key_files = {Write("rsa.pem", rsa->public_pem)};
  auto verifier = TokenVerifier::Create(options);
  ASSERT_TRUE(verifier.ok());
  // The public key's PEM as an HMAC secret: libjwt alone would accept this token.
  auto confused = SignToken(Claims(), "HS256", rsa->public_pem);
  ASSERT_TRUE(confused.ok());
  auto status = (*verifier)->Verify(*confused).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(status.message(), HasSubstr("HS256"));
  auto unsigned_token = SignToken(Claims(), "none", "");
  ASSERT_TRUE(unsigned_token.ok());
  EXPECT_THAT((*verifier)->Verify(*unsigned_token).status().message(), HasSubstr("unsigned"));
  for (const char* malformed : {"", "abc", "a.b.c", "...."}) {
    EXPECT_EQ((*verifier)->Verify(malformed).status().code(), absl::StatusCode::kUnauthenticated)
        << malformed;
  }
}

TEST_F(TokenVerifierTest, ExpiryNotBeforeIssuerAndAudience) {
  TokenVerifier::Options options = Options();
  options.secret_files = {Write("secret", kSecret)};
  options.issuers = {"https://issuer.example"};
  options.audience = "sonic";
  options.leeway_seconds = 30;
  auto verifier = TokenVerifier::Create(options);
  ASSERT_TRUE(verifier.ok());
  const std::string good = R"(, "iss": "https://issuer.example", "aud": ["x", "sonic"])";
  auto token = SignToken(Claims(good), "HS256", kSecret);
  EXPECT_TRUE((*verifier)->Verify(*token).ok());

  auto no_exp = SignToken(R"({"iss": "https://issuer.example", "aud": "sonic"})", "HS256", kSecret);
  EXPECT_THAT((*verifier)->Verify(*no_exp).status().message(), HasSubstr("exp"));
  auto wrong_issuer = SignToken(Claims(R"(, "iss": "other", "aud": "sonic")"), "HS256", kSecret);
  EXPECT_THAT((*verifier)->Verify(*wrong_issuer).status().message(), HasSubstr("issuer"));
  auto wrong_audience =
      SignToken(Claims(R"(, "iss": "https://issuer.example", "aud": "else")"), "HS256", kSecret);
  EXPECT_THAT((*verifier)->Verify(*wrong_audience).status().message(), HasSubstr("audience"));
  auto early = SignToken(Claims(absl::StrCat(good, R"(, "nbf": )", kNow + 100)), "HS256", kSecret);
  EXPECT_THAT((*verifier)->Verify(*early).status().message(), HasSubstr("nbf"));

  // Within the leeway past "exp" the token still holds; past it, not (also when remembered).
  now_ = kNow + 600 + 20;
  EXPECT_TRUE((*verifier)->Verify(*token).ok());
  now_ = kNow + 600 + 31;
  auto expired = (*verifier)->Verify(*token).status();
  EXPECT_EQ(expired.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(expired.message(), HasSubstr("expired"));
}

TEST_F(TokenVerifierTest, JwksKeysByKeyIdAndRotation) {
  auto first = MakeKeyPair("EC");
  auto second = MakeKeyPair("RSA");
  ASSERT_TRUE(first.ok() && second.ok());
  const auto jwks = Write("jwks.json", absl::StrCat(R"({"keys": [)", first->Jwk("k1"), "]}"));
  TokenVerifier::Options options = Options();
  options.jwks_files = {jwks};
  auto verifier = TokenVerifier::Create(options);
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  EXPECT_TRUE((*verifier)->Verify(*SignToken(Claims(), "ES256", first->private_pem, "k1")).ok());
  auto unknown = (*verifier)->Verify(*SignToken(Claims(), "RS256", second->private_pem, "k2"));
  EXPECT_THAT(unknown.status().message(), HasSubstr("k2"));

  // The issuer rotates: k1 goes, k2 comes. Seen at the next check (a second later).
  WriteFile(jwks, absl::StrCat(R"({"keys": [)", second->Jwk("k2"), "]}"));
  now_ += 1;
  EXPECT_TRUE((*verifier)->Verify(*SignToken(Claims(), "RS256", second->private_pem, "k2")).ok());
  EXPECT_FALSE((*verifier)->Verify(*SignToken(Claims(), "ES256", first->private_pem, "k1")).ok());

  // A broken rotation keeps the keys in use.
  WriteFile(jwks, "{ not json");
  now_ += 1;
  EXPECT_TRUE((*verifier)->Verify(*SignToken(Claims(), "RS256", second->private_pem, "k2")).ok());
}

TEST_F(TokenVerifierTest, BadJwksIsInvalidArgument) {
  for (const std::string& text :
       {std::string("[]"), std::string(R"({"keys": [{"kty": "XYZ"}]})"),
        std::string(R"({"keys": [{"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}]})"),
        std::string(R"({"keys": [{"kty": "oct", "k": "c2hvcnQ"}]})")}) {
    EXPECT_EQ(ParseJwks(text, "test").status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
  // Encryption keys are skipped.
  auto keys =
      ParseJwks(R"({"keys": [{"kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB"}]})", "test");
  ASSERT_TRUE(keys.ok());
  EXPECT_TRUE(keys->empty());
}

}  // namespace
}  // namespace sonic::server::auth
