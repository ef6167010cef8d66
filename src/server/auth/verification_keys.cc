#include "server/auth/verification_keys.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "sonic/common/status.h"

namespace sonic::server::auth {
namespace {

// Key files and JWKS documents are small; anything larger is not one.
constexpr uintmax_t kMaxKeyFileBytes = 1 << 20;
constexpr size_t kMinSecretBytes = 32;

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* bld) const { OSSL_PARAM_BLD_free(bld); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* params) const { OSSL_PARAM_free(params); }
};
struct BnFree {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

absl::StatusOr<std::string> ReadKeyFile(const std::filesystem::path& file) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(file, error)) {
    return absl::InvalidArgumentError(absl::StrCat("'", file.string(), "' is not a readable file"));
  }
  if (std::filesystem::file_size(file, error) > kMaxKeyFileBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", file.string(), "' is larger than ", kMaxKeyFileBytes, " bytes"));
  }
  std::ifstream in(file, std::ios::binary);
  std::stringstream contents;
  contents << in.rdbuf();
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read '", file.string(), "'"));
  return contents.str();
}

absl::StatusOr<std::string> PemOf(EVP_PKEY* key) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) {
    return absl::InternalError("cannot write a public key as PEM");
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

// The ES algorithm of an EC key's curve, or "" for a curve JWS does not use.
std::string EcAlgorithmOf(EVP_PKEY* key) {
  char group[64] = {};
  size_t length = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                     &length) != 1) {
    return "";
  }
  const std::string_view name(group, length);
  if (name == "prime256v1" || name == "P-256") return "ES256";
  if (name == "secp384r1" || name == "P-384") return "ES384";
  if (name == "secp521r1" || name == "P-521") return "ES512";
  return "";
}

absl::StatusOr<VerificationKey> KeyOf(EVP_PKEY* key, std::string source) {
  VerificationKey result;
  result.source = std::move(source);
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      result.kind = VerificationKey::Kind::kRsa;
      break;
    case EVP_PKEY_EC:
      result.kind = VerificationKey::Kind::kEc;
      result.ec_algorithm = EcAlgorithmOf(key);
      if (result.ec_algorithm.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(result.source, ": an EC key on a curve other than P-256, P-384, P-521"));
      }
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(result.source, ": neither an RSA nor an EC public key"));
  }
  SONIC_ASSIGN_OR_RETURN(result.material, PemOf(key));
  return result;
}

absl::StatusOr<std::string> Base64Url(const nlohmann::json& jwk, const char* member,
                                      const std::string& source) {
  const auto it = jwk.find(member);
  std::string decoded;
  if (it == jwk.end() || !it->is_string() ||
      !absl::WebSafeBase64Unescape(it->get<std::string>(), &decoded) || decoded.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": member '", member, "' is missing or not base64url"));
  }
  return decoded;
}

// Builds an EVP_PKEY of `type` ("RSA", "EC") from OSSL parameters.
absl::StatusOr<Pkey> FromParams(const char* type, OSSL_PARAM_BLD* builder,
                                const std::string& source) {
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(builder));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": not a valid ", type, " public key"));
  }
  return Pkey(key);
}

absl::StatusOr<Pkey> RsaFromJwk(const nlohmann::json& jwk, const std::string& source) {
  SONIC_ASSIGN_OR_RETURN(std::string n, Base64Url(jwk, "n", source));
  SONIC_ASSIGN_OR_RETURN(std::string e, Base64Url(jwk, "e", source));
  std::unique_ptr<BIGNUM, BnFree> modulus(BN_bin2bn(
      reinterpret_cast<const unsigned char*>(n.data()), static_cast<int>(n.size()), nullptr));
  std::unique_ptr<BIGNUM, BnFree> exponent(BN_bin2bn(
      reinterpret_cast<const unsigned char*>(e.data()), static_cast<int>(e.size()), nullptr));
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> builder(OSSL_PARAM_BLD_new());
  if (!modulus || !exponent || !builder ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, modulus.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, exponent.get()) != 1) {
    return absl::InternalError(absl::StrCat(source, ": cannot build an RSA key"));
  }
  return FromParams("RSA", builder.get(), source);
}

absl::StatusOr<Pkey> EcFromJwk(const nlohmann::json& jwk, const std::string& source) {
  const std::string curve = jwk.value("crv", "");
  const std::pair<const char*, size_t> groups[] = {{"P-256", 32}, {"P-384", 48}, {"P-521", 66}};
  const char* group = nullptr;
  size_t coordinate_bytes = 0;
  for (const auto& [name, bytes] : groups) {
    if (curve == name) std::tie(group, coordinate_bytes) = std::pair(name, bytes);
  }
  if (group == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": unsupported curve '", curve, "'"));
  }
  SONIC_ASSIGN_OR_RETURN(std::string x, Base64Url(jwk, "x", source));
  SONIC_ASSIGN_OR_RETURN(std::string y, Base64Url(jwk, "y", source));
  if (x.size() != coordinate_bytes || y.size() != coordinate_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": coordinates of ", curve, " must be ", coordinate_bytes, " bytes"));
  }
  const std::string point = "\x04" + x + y;  // uncompressed (SEC 1, 2.3.3)
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> builder(OSSL_PARAM_BLD_new());
  if (!builder ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return absl::InternalError(absl::StrCat(source, ": cannot build an EC key"));
  }
  return FromParams("EC", builder.get(), source);
}

absl::StatusOr<VerificationKey> KeyFromJwk(const nlohmann::json& jwk, std::string source) {
  const std::string type = jwk.value("kty", "");
  if (type == "oct") {
    VerificationKey key;
    key.kind = VerificationKey::Kind::kHmac;
    SONIC_ASSIGN_OR_RETURN(key.material, Base64Url(jwk, "k", source));
    if (key.material.size() < kMinSecretBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": an HMAC key shorter than ", kMinSecretBytes, " bytes"));
    }
    key.source = std::move(source);
    return key;
  }
  absl::StatusOr<Pkey> pkey = absl::InvalidArgumentError(
      absl::StrCat(source, ": unsupported key type '", type, "' (RSA, EC or oct)"));
  if (type == "RSA") pkey = RsaFromJwk(jwk, source);
  if (type == "EC") pkey = EcFromJwk(jwk, source);
  if (!pkey.ok()) return pkey.status();
  return KeyOf(pkey->get(), std::move(source));
}

}  // namespace

bool VerificationKey::Accepts(std::string_view algorithm) const {
  switch (kind) {
    case Kind::kHmac:
      return algorithm == "HS256" || algorithm == "HS384" || algorithm == "HS512";
    case Kind::kRsa:
      return algorithm == "RS256" || algorithm == "RS384" || algorithm == "RS512";
    case Kind::kEc:
      return algorithm == ec_algorithm;
  }
  return false;
}

absl::StatusOr<VerificationKey> ReadSecretFile(const std::filesystem::path& file) {
  SONIC_ASSIGN_OR_RETURN(std::string secret, ReadKeyFile(file));
  secret.erase(absl::StripTrailingAsciiWhitespace(secret).size());
  if (secret.size() < kMinSecretBytes) {
    return absl::InvalidArgumentError(absl::StrCat("the secret in '", file.string(), "' has ",
                                                   secret.size(), " bytes; HS256 needs ",
                                                   kMinSecretBytes, " or more"));
  }
  VerificationKey key;
  key.kind = VerificationKey::Kind::kHmac;
  key.material = std::move(secret);
  key.source = file.string();
  return key;
}

absl::StatusOr<VerificationKey> ReadPublicKeyFile(const std::filesystem::path& file) {
  SONIC_ASSIGN_OR_RETURN(std::string pem, ReadKeyFile(file));
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Pkey key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", file.string(), "' holds no PEM public key (BEGIN PUBLIC KEY)"));
  }
  return KeyOf(key.get(), file.string());
}

absl::StatusOr<std::vector<VerificationKey>> ParseJwks(std::string_view json,
                                                       const std::string& source) {
  const nlohmann::json document = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded() || !document.is_object() || !document.contains("keys") ||
      !document["keys"].is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": not a JWKS document ({\"keys\": [...]})"));
  }
  std::vector<VerificationKey> keys;
  for (const nlohmann::json& jwk : document["keys"]) {
    if (!jwk.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": a key that is not an object"));
    }
    if (jwk.value("use", "sig") != "sig") continue;
    const std::string id = jwk.contains("kid") && jwk["kid"].is_string() ? jwk["kid"] : "";
    std::string name = absl::StrCat(source, "#", id.empty() ? std::to_string(keys.size()) : id);
    SONIC_ASSIGN_OR_RETURN(VerificationKey key, KeyFromJwk(jwk, std::move(name)));
    key.key_id = id;
    if (jwk.contains("alg") && jwk["alg"].is_string() &&
        !key.Accepts(jwk["alg"].get<std::string>())) {
      return absl::InvalidArgumentError(
          absl::StrCat(key.source, ": \"alg\" ", jwk["alg"].dump(), " does not fit the key"));
    }
    keys.push_back(std::move(key));
  }
  return keys;
}

absl::StatusOr<std::vector<VerificationKey>> ReadJwksFile(const std::filesystem::path& file) {
  SONIC_ASSIGN_OR_RETURN(std::string json, ReadKeyFile(file));
  return ParseJwks(json, file.string());
}

}  // namespace sonic::server::auth
