// The keys bearer tokens are verified against, read from files: HMAC secrets (HS256/384/512),
// PEM public keys (RSA: RS256/384/512; EC P-256/P-384/P-521: ES256/ES384/ES512) and JWKS
// documents (RFC 7517: "RSA", "EC" and "oct" keys). A key verifies only its own family of
// algorithms, so a token cannot make an RSA public key serve as an HMAC secret.
//
// Thread-compatible values.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace sonic::server::auth {

struct VerificationKey {
  // What the key verifies: the JWS "alg" values it accepts.
  enum class Kind { kHmac, kRsa, kEc };
  Kind kind = Kind::kHmac;
  // The secret's bytes (kHmac) or the public key as PEM (libjwt takes PEM).
  std::string material;
  // For kEc: the one algorithm of its curve ("ES256", "ES384" or "ES512").
  std::string ec_algorithm;
  // The JWKS "kid"; empty for keys from plain files.
  std::string key_id;
  // Where the key came from, for messages: "FILE" or "FILE#kid".
  std::string source;

  // Whether this key may verify a token signed with `algorithm` (the JWS header's "alg").
  bool Accepts(std::string_view algorithm) const;
};

// A secret file's bytes, without trailing whitespace (a newline an editor added). An empty
// secret, or one shorter than 32 bytes (HS256's hash size, RFC 7518 3.2), is INVALID_ARGUMENT.
absl::StatusOr<VerificationKey> ReadSecretFile(const std::filesystem::path& file);

// A PEM public key ("-----BEGIN PUBLIC KEY-----"), RSA or EC. INVALID_ARGUMENT naming the file
// when it cannot be read or holds something else.
absl::StatusOr<VerificationKey> ReadPublicKeyFile(const std::filesystem::path& file);

// Every signing key of a JWKS document (`{"keys": [...]}`): keys whose "use" is not "sig" are
// skipped; an unsupported "kty" or curve, or a malformed key, is INVALID_ARGUMENT naming it.
absl::StatusOr<std::vector<VerificationKey>> ParseJwks(std::string_view json,
                                                       const std::string& source);
absl::StatusOr<std::vector<VerificationKey>> ReadJwksFile(const std::filesystem::path& file);

}  // namespace sonic::server::auth
