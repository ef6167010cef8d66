#include "server/auth/test_tokens.h"

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdlib>
#include <fstream>
#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace sonic::server::auth::testing {
namespace {

std::string Pem(EVP_PKEY* key, bool private_key) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (private_key) {
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  } else {
    PEM_write_bio_PUBKEY(bio, key);
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(size));
  BIO_free(bio);
  return pem;
}

std::string BigNumber(EVP_PKEY* key, const char* name, size_t pad_to = 0) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) return "";
  const size_t size = std::max<size_t>(pad_to, static_cast<size_t>(BN_num_bytes(bn)));
  std::string bytes(size, '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(size));
  BN_free(bn);
  return absl::WebSafeBase64Escape(bytes);
}

EVP_PKEY* ReadPublic(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return key;
}

}  // namespace

std::string TestKeyPair::Jwk(const std::string& kid) const {
  EVP_PKEY* key = ReadPublic(public_pem);
  std::string members;
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) {
    members = absl::StrCat(R"("kty": "RSA", "n": ")", BigNumber(key, OSSL_PKEY_PARAM_RSA_N),
                           R"(", "e": ")", BigNumber(key, OSSL_PKEY_PARAM_RSA_E), R"(")");
  } else {
    members = absl::StrCat(R"("kty": "EC", "crv": "P-256", "x": ")",
                           BigNumber(key, OSSL_PKEY_PARAM_EC_PUB_X, 32), R"(", "y": ")",
                           BigNumber(key, OSSL_PKEY_PARAM_EC_PUB_Y, 32), R"(")");
  }
  EVP_PKEY_free(key);
  if (!kid.empty()) absl::StrAppend(&members, R"(, "kid": ")", kid, R"(")");
  return absl::StrCat("{", members, R"(, "use": "sig"})");
}

absl::StatusOr<TestKeyPair> MakeKeyPair(const std::string& type) {
  EVP_PKEY* key = type == "RSA" ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048})
                                : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (key == nullptr) return absl::InternalError("key generation failed");
  TestKeyPair pair{Pem(key, true), Pem(key, false)};
  EVP_PKEY_free(key);
  return pair;
}

absl::StatusOr<std::string> SignToken(const std::string& claims_json, const std::string& algorithm,
                                      const std::string& key, const std::string& kid) {
  jwt_t* jwt = nullptr;
  if (jwt_new(&jwt) != 0) return absl::InternalError("jwt_new");
  std::unique_ptr<jwt_t, void (*)(jwt_t*)> owned(jwt, jwt_free);
  if (jwt_add_grants_json(jwt, claims_json.c_str()) != 0) {
    return absl::InvalidArgumentError("claims are not a JSON object");
  }
  if (!kid.empty()) jwt_add_header(jwt, "kid", kid.c_str());
  const jwt_alg_t alg = jwt_str_alg(algorithm.c_str());
  const int set = alg == JWT_ALG_NONE
                      ? jwt_set_alg(jwt, alg, nullptr, 0)
                      : jwt_set_alg(jwt, alg, reinterpret_cast<const unsigned char*>(key.data()),
                                    static_cast<int>(key.size()));
  if (set != 0) return absl::InvalidArgumentError("jwt_set_alg " + algorithm);
  char* token = jwt_encode_str(jwt);
  if (token == nullptr) return absl::InternalError("jwt_encode_str");
  std::string result(token);
  free(token);
  return result;
}

void WriteFile(const std::filesystem::path& path, const std::string& contents) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
}

}  // namespace sonic::server::auth::testing
