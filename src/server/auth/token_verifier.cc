#include "server/auth/token_verifier.h"

#include <jwt.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <system_error>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/logging/server_log.h"
#include "sonic/common/status.h"

namespace sonic::server::auth {
namespace {

// A token is a few hundred bytes to a few kilobytes; a larger one is not read.
constexpr size_t kMaxTokenBytes = 16 << 10;

struct JwtFree {
  void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};
using Jwt = std::unique_ptr<jwt_t, JwtFree>;

absl::Status Unauthenticated(const std::string& why) {
  return absl::UnauthenticatedError(absl::StrCat("bearer token refused: ", why));
}

std::vector<std::pair<std::filesystem::file_time_type, uintmax_t>> Stamps(
    const TokenVerifier::Options& options) {
  std::vector<std::pair<std::filesystem::file_time_type, uintmax_t>> stamps;
  for (const auto* files :
       {&options.secret_files, &options.public_key_files, &options.jwks_files}) {
    for (const std::filesystem::path& file : *files) {
      std::error_code error;
      const auto time = std::filesystem::last_write_time(file, error);
      const uintmax_t size = std::filesystem::file_size(file, error);
      stamps.emplace_back(time, error ? 0 : size);
    }
  }
  return stamps;
}

// A number claim ("exp", "nbf"), integral or not; nullopt when absent, an error when not a number.
absl::StatusOr<std::optional<int64_t>> TimeClaim(const nlohmann::json& claims, const char* name) {
  const auto it = claims.find(name);
  if (it == claims.end()) return std::optional<int64_t>();
  if (!it->is_number()) return Unauthenticated(absl::StrCat("claim '", name, "' is not a number"));
  return std::optional<int64_t>(static_cast<int64_t>(it->get<double>()));
}

// "scope": "a b c" (RFC 8693), or a list; "scp": a string or a list.
std::set<std::string> ScopesOf(const nlohmann::json& claims) {
  std::set<std::string> scopes;
  for (const char* name : {"scope", "scp"}) {
    const auto it = claims.find(name);
    if (it == claims.end()) continue;
    if (it->is_string()) {
      for (absl::string_view scope :
           absl::StrSplit(it->get<std::string>(), ' ', absl::SkipEmpty())) {
        scopes.emplace(scope);
      }
    } else if (it->is_array()) {
      for (const nlohmann::json& scope : *it) {
        if (scope.is_string()) scopes.insert(scope.get<std::string>());
      }
    }
  }
  return scopes;
}

absl::StatusOr<TokenClaims> ReadClaims(jwt_t* jwt, const TokenVerifier::Options& options) {
  char* text = jwt_get_grants_json(jwt, nullptr);
  if (text == nullptr) return Unauthenticated("no claims");
  const nlohmann::json claims = nlohmann::json::parse(text, nullptr, false);
  free(text);
  if (!claims.is_object()) return Unauthenticated("the claims are not a JSON object");
  TokenClaims result;
  SONIC_ASSIGN_OR_RETURN(std::optional<int64_t> expires, TimeClaim(claims, "exp"));
  if (!expires) return Unauthenticated("no expiry ('exp')");
  result.expires_at = *expires;
  SONIC_ASSIGN_OR_RETURN(std::optional<int64_t> not_before, TimeClaim(claims, "nbf"));
  result.not_before = not_before.value_or(0);
  if (!options.issuers.empty()) {
    const std::string issuer = claims.value("iss", "");
    if (std::find(options.issuers.begin(), options.issuers.end(), issuer) ==
        options.issuers.end()) {
      return Unauthenticated(absl::StrCat("issuer '", issuer.substr(0, 128), "' is not accepted"));
    }
  }
  if (!options.audience.empty()) {
    const auto audience = claims.find("aud");
    bool found = false;
    if (audience != claims.end() && audience->is_string()) found = *audience == options.audience;
    if (audience != claims.end() && audience->is_array()) {
      for (const nlohmann::json& entry : *audience) found = found || entry == options.audience;
    }
    if (!found) {
      return Unauthenticated(absl::StrCat("audience ('aud') lacks '", options.audience, "'"));
    }
  }
  if (claims.contains("sub") && claims["sub"].is_string()) result.subject = claims["sub"];
  result.scopes = ScopesOf(claims);
  return result;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TokenVerifier>> TokenVerifier::Create(Options options) {
  if (options.secret_files.empty() && options.public_key_files.empty() &&
      options.jwks_files.empty()) {
    return absl::InvalidArgumentError("token verification needs at least one key");
  }
  SONIC_ASSIGN_OR_RETURN(std::shared_ptr<const KeySet> keys, LoadKeys(options));
  if (keys->keys.empty()) {
    return absl::InvalidArgumentError("the JWKS files hold no signing key");
  }
  std::unique_ptr<TokenVerifier> verifier(new TokenVerifier(std::move(options)));
  absl::MutexLock lock(&verifier->mutex_);
  verifier->keys_ = std::move(keys);
  verifier->last_check_ = verifier->Now();
  return verifier;
}

absl::StatusOr<std::shared_ptr<const TokenVerifier::KeySet>> TokenVerifier::LoadKeys(
    const Options& options) {
  auto keys = std::make_shared<KeySet>();
  // Stamped before reading, so a change during the read is seen at the next check.
  keys->stamps = Stamps(options);
  for (const std::filesystem::path& file : options.secret_files) {
    SONIC_ASSIGN_OR_RETURN(VerificationKey key, ReadSecretFile(file));
    keys->keys.push_back(std::move(key));
  }
  for (const std::filesystem::path& file : options.public_key_files) {
    SONIC_ASSIGN_OR_RETURN(VerificationKey key, ReadPublicKeyFile(file));
    keys->keys.push_back(std::move(key));
  }
  for (const std::filesystem::path& file : options.jwks_files) {
    SONIC_ASSIGN_OR_RETURN(std::vector<VerificationKey> jwks, ReadJwksFile(file));
    for (VerificationKey& key : jwks) keys->keys.push_back(std::move(key));
  }
  return std::shared_ptr<const KeySet>(std::move(keys));
}

int64_t TokenVerifier::Now() const {
  if (options_.now) return options_.now();
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::shared_ptr<const TokenVerifier::KeySet> TokenVerifier::Keys() const {
  const int64_t now = Now();
  absl::MutexLock lock(&mutex_);
  if (now == last_check_) return keys_;
  last_check_ = now;
  if (Stamps(options_) == keys_->stamps) return keys_;
  absl::StatusOr<std::shared_ptr<const KeySet>> reloaded = LoadKeys(options_);
  if (!reloaded.ok() || (*reloaded)->keys.empty()) {
    LogWarning(
        absl::StrCat("a token key file changed but does not load; the keys read before "
                     "stay in use: ",
                     reloaded.ok() ? "no signing key" : reloaded.status().message()));
    // Not tried again until the files change once more.
    auto kept = std::make_shared<KeySet>(*keys_);
    kept->stamps = Stamps(options_);
    keys_ = std::move(kept);
    return keys_;
  }
  LogInfo("token keys reloaded: " + std::to_string((*reloaded)->keys.size()) + " key(s)");
  keys_ = *std::move(reloaded);
  verified_.clear();
  return keys_;
}

absl::StatusOr<TokenClaims> TokenVerifier::Verify(std::string_view token) const {
  if (token.empty()) return Unauthenticated("empty");
  if (token.size() > kMaxTokenBytes) {
    return Unauthenticated(absl::StrCat("longer than ", kMaxTokenBytes, " bytes"));
  }
  const std::shared_ptr<const KeySet> keys = Keys();
  const std::string text(token);
  {
    absl::MutexLock lock(&mutex_);
    if (auto it = verified_.find(text); it != verified_.end()) {
      TokenClaims claims = it->second;
      SONIC_RETURN_IF_ERROR(CheckTimes(claims));
      return claims;
    }
  }
  SONIC_ASSIGN_OR_RETURN(TokenClaims claims, VerifySignature(text, *keys));
  SONIC_RETURN_IF_ERROR(CheckTimes(claims));
  absl::MutexLock lock(&mutex_);
  if (keys_ == keys) {  // not verified with keys that were rotated out meanwhile
    if (verified_.size() >= options_.cache_entries) verified_.clear();
    verified_.emplace(text, claims);
  }
  return claims;
}

absl::StatusOr<TokenClaims> TokenVerifier::VerifySignature(const std::string& token,
                                                           const KeySet& keys) const {
  // The header, unverified, says which key to try: a token must not choose how its own
  // signature is checked beyond picking one of the configured keys.
  std::string header_json;
  const size_t dot = token.find('.');
  if (dot == std::string::npos ||
      !absl::WebSafeBase64Unescape(absl::string_view(token).substr(0, dot), &header_json)) {
    return Unauthenticated("malformed");
  }
  const nlohmann::json header = nlohmann::json::parse(header_json, nullptr, false);
  if (!header.is_object() || !header.contains("alg") || !header["alg"].is_string()) {
    return Unauthenticated("malformed header");
  }
  const std::string algorithm_name = header["alg"];
  const jwt_alg_t algorithm = jwt_str_alg(algorithm_name.c_str());
  if (algorithm == JWT_ALG_NONE) return Unauthenticated("unsigned (alg \"none\")");
  if (algorithm == JWT_ALG_INVAL) {
    return Unauthenticated(absl::StrCat("unknown algorithm '", algorithm_name.substr(0, 32), "'"));
  }
  const std::string key_id =
      header.contains("kid") && header["kid"].is_string() ? header["kid"].get<std::string>() : "";
  std::vector<const VerificationKey*> candidates;
  for (const VerificationKey& key : keys.keys) {
    if (key.Accepts(algorithm_name) && !key.key_id.empty() && key.key_id == key_id) {
      candidates.push_back(&key);
    }
  }
  if (candidates.empty()) {
    for (const VerificationKey& key : keys.keys) {
      if (key.Accepts(algorithm_name) && key.key_id.empty()) candidates.push_back(&key);
    }
    // A kid names a JWKS key; keys without ids (plain files) may also have signed it.
    if (candidates.empty() && key_id.empty()) {
      for (const VerificationKey& key : keys.keys) {
        if (key.Accepts(algorithm_name)) candidates.push_back(&key);
      }
    }
  }
  if (candidates.empty()) {
    return Unauthenticated(absl::StrCat("no configured key verifies ", algorithm_name,
                                        key_id.empty() ? "" : " with key id '",
                                        key_id.substr(0, 128), key_id.empty() ? "" : "'"));
  }
  for (const VerificationKey* key : candidates) {
    jwt_t* decoded = nullptr;
    if (jwt_decode(&decoded, token.c_str(),
                   reinterpret_cast<const unsigned char*>(key->material.data()),
                   static_cast<int>(key->material.size())) != 0) {
      continue;
    }
    const Jwt verified(decoded);
    if (jwt_get_alg(verified.get()) != algorithm) continue;
    return ReadClaims(verified.get(), options_);
  }
  return Unauthenticated("the signature does not verify");
}

absl::Status TokenVerifier::CheckTimes(const TokenClaims& claims) const {
  const int64_t now = Now();
  if (now > claims.expires_at + options_.leeway_seconds) {
    return Unauthenticated(absl::StrCat("expired ", now - claims.expires_at, " s ago"));
  }
  if (claims.not_before != 0 && now + options_.leeway_seconds < claims.not_before) {
    return Unauthenticated("not valid yet ('nbf')");
  }
  return absl::OkStatus();
}

}  // namespace sonic::server::auth
