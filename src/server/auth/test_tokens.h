// Keys and tokens for tests: key pairs made with OpenSSL, written as PEM files or a JWKS
// document, and JWTs signed with libjwt. Test-only.
#pragma once

#include <filesystem>
#include <string>

#include "absl/status/statusor.h"

namespace sonic::server::auth::testing {

// A key pair: the private key signs (libjwt takes PEM), the public one verifies.
struct TestKeyPair {
  std::string private_pem;
  std::string public_pem;
  // The public key as one JWK object (RSA: n, e; EC: crv, x, y), with `kid` when not empty.
  std::string Jwk(const std::string& kid) const;
};

// type: "RSA" (2048 bits) or "EC" (P-256).
absl::StatusOr<TestKeyPair> MakeKeyPair(const std::string& type);

// A JWT over the claims (a JSON object, e.g. R"({"exp": 2000000000, "scope": "a"})") signed
// with `algorithm` ("HS256", "RS256", "ES256", or "none") by `key` (secret bytes or private PEM),
// with header `kid` when not empty.
absl::StatusOr<std::string> SignToken(const std::string& claims_json, const std::string& algorithm,
                                      const std::string& key, const std::string& kid = "");

// Writes `contents` to `path`.
void WriteFile(const std::filesystem::path& path, const std::string& contents);

}  // namespace sonic::server::auth::testing
