// Verifies JWT bearer tokens (RFC 7519, signed as JWS compact serialization) with libjwt against
// keys from files (verification_keys.h): the signature with a key of the token's algorithm
// family ("none" is refused), then the claims: "exp" is required and must not have passed,
// "nbf" must have come (both within a leeway for clock skew), "iss" must be one of the
// configured issuers and "aud" (a string or a list) must contain the configured audience, when
// those are set. The token's scopes are read from "scope" (space-separated, RFC 8693 / OAuth 2)
// and "scp" (a string or a list).
//
// The key files are read again when one of them changes (key rotation: a Kubernetes secret
// updated in place), checked at most once a second; a rotated file that does not load keeps
// the keys in use (a warning in the log). Verified tokens are remembered (bounded), so a job
// sending the same token with every request pays for one signature check.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/auth/verification_keys.h"

namespace sonic::server::auth {

// What a verified token says about its bearer.
struct TokenClaims {
  std::string subject;  // "sub", may be empty
  std::set<std::string> scopes;
  int64_t expires_at = 0;  // "exp", seconds since the epoch
  int64_t not_before = 0;  // "nbf", 0 when absent
};

class TokenVerifier {
 public:
  struct Options {
    std::vector<std::filesystem::path> secret_files;      // HMAC secrets
    std::vector<std::filesystem::path> public_key_files;  // PEM, RSA or EC
    std::vector<std::filesystem::path> jwks_files;
    // Accepted "iss" values; empty: any issuer.
    std::vector<std::string> issuers;
    // Required in "aud"; empty: any audience.
    std::string audience;
    // Clock skew allowed on "exp" and "nbf".
    int64_t leeway_seconds = 60;
    // Seconds since the epoch; injectable for tests. Default: the system clock.
    std::function<int64_t()> now;
    // Verified tokens remembered at most.
    size_t cache_entries = 4096;
  };

  // Reads every key file. INVALID_ARGUMENT naming the file when one does not load, or when no
  // key at all is configured.
  static absl::StatusOr<std::unique_ptr<TokenVerifier>> Create(Options options);

  // The claims of `token` (the compact JWS, without "Bearer "). UNAUTHENTICATED saying what is
  // wrong: malformed, unknown key id, bad signature, expired, not yet valid, wrong issuer or
  // audience. Never retryable with the same token.
  absl::StatusOr<TokenClaims> Verify(std::string_view token) const;

 private:
  struct KeySet {
    std::vector<VerificationKey> keys;
    // The key files' modification times and sizes when read.
    std::vector<std::pair<std::filesystem::file_time_type, uintmax_t>> stamps;
  };

  explicit TokenVerifier(Options options) : options_(std::move(options)) {}
  static absl::StatusOr<std::shared_ptr<const KeySet>> LoadKeys(const Options& options);
  int64_t Now() const;
  // The keys in use, reloaded first when a file changed (checked once a second).
  std::shared_ptr<const KeySet> Keys() const;
  absl::StatusOr<TokenClaims> VerifySignature(const std::string& token, const KeySet& keys) const;
  absl::Status CheckTimes(const TokenClaims& claims) const;

  const Options options_;
  mutable absl::Mutex mutex_;
  mutable std::shared_ptr<const KeySet> keys_ ABSL_GUARDED_BY(mutex_);
  mutable int64_t last_check_ ABSL_GUARDED_BY(mutex_) = 0;
  mutable absl::flat_hash_map<std::string, TokenClaims> verified_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace sonic::server::auth
