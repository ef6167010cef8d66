#include "server/repository/model_checksum.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <memory>
#include <system_error>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/repository/model_file_paths.h"
#include "sonic/common/status.h"

namespace sonic::server {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMd5HexDigits = 32;

// OpenSSL's digest context, freed on every path out.
struct DigestContextDeleter {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};
using DigestContext = std::unique_ptr<EVP_MD_CTX, DigestContextDeleter>;

// MD5 over the chunks `next` returns until it returns an empty view (or an error). INTERNAL when
// OpenSSL fails (no MD5 in its providers, e.g. a FIPS-only configuration).
template <typename NextChunk>
absl::StatusOr<std::string> Md5Of(NextChunk next) {
  DigestContext context(EVP_MD_CTX_new());
  if (context == nullptr || EVP_DigestInit_ex(context.get(), EVP_md5(), nullptr) != 1) {
    return absl::InternalError("OpenSSL cannot compute MD5 here");
  }
  for (;;) {
    SONIC_ASSIGN_OR_RETURN(std::string_view chunk, next());
    if (chunk.empty()) break;
    if (EVP_DigestUpdate(context.get(), chunk.data(), chunk.size()) != 1) {
      return absl::InternalError("OpenSSL's MD5 update failed");
    }
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(context.get(), digest.data(), &length) != 1) {
    return absl::InternalError("OpenSSL's MD5 final step failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

bool IsMd5Hex(std::string_view text) {
  return text.size() == kMd5HexDigits &&
         std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isxdigit(c); });
}

// `file` under `model_dir`, refused when it leads elsewhere. A path into a version directory
// ("1/model.pt") is confined to that directory, which may itself be a link (a repository of
// links to the real version directories, as TritonService's fallback server builds), as the
// backends' files are (CheckModelFilesInside); any other path to the model directory.
absl::StatusOr<fs::path> ConfinedPath(const fs::path& model_dir, const std::string& file) {
  constexpr char kWhat[] = "checksum agent: file";
  constexpr char kWhere[] = "the model directory";
  const fs::path written(file);
  auto first = written.begin();
  const bool version_first = written.is_relative() && first != written.end() &&
                             std::next(first) != written.end() && !first->empty() &&
                             std::all_of(first->native().begin(), first->native().end(),
                                         [](unsigned char c) { return std::isdigit(c); });
  std::error_code error;
  if (version_first && fs::is_directory(model_dir / *first, error)) {
    fs::path rest;
    for (auto part = std::next(first); part != written.end(); ++part) rest /= *part;
    if (!CheckPathInside(model_dir / *first, rest.string(), kWhat, kWhere).ok()) {
      // CheckPathInside's words, with the whole name rather than the part after the version.
      return absl::InvalidArgumentError(
          absl::StrCat(kWhat, " '", Quoted(file), "' must be a relative path inside ", kWhere,
                       " (symlinks resolved); model files elsewhere are not served"));
    }
    return model_dir / *first / rest;
  }
  SONIC_RETURN_IF_ERROR(CheckPathInside(model_dir, file, kWhat, kWhere));
  return model_dir / file;
}

// One "MD5:<file>" = "<digest>" parameter.
absl::Status VerifyOne(const fs::path& model_dir, const std::string& key,
                       const std::string& expected) {
  const size_t colon = key.find(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("checksum agent: parameter '", Quoted(key), "' is not '<algorithm>:<file>'"));
  }
  const std::string algorithm = key.substr(0, colon);
  const std::string file = key.substr(colon + 1);
  if (absl::AsciiStrToLower(algorithm) != "md5") {
    return absl::InvalidArgumentError(absl::StrCat("checksum agent: algorithm '", Quoted(algorithm),
                                                   "' of '", Quoted(key),
                                                   "' is not supported (only MD5)"));
  }
  if (!IsMd5Hex(expected)) {
    return absl::InvalidArgumentError(absl::StrCat("checksum agent: the MD5 given for '",
                                                   Quoted(file), "' ('", Quoted(expected),
                                                   "') is not 32 hex digits"));
  }
  SONIC_ASSIGN_OR_RETURN(const fs::path path, ConfinedPath(model_dir, file));
  absl::StatusOr<std::string> actual = FileMd5Hex(path);
  if (!actual.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "checksum agent: cannot verify '", Quoted(file), "': ", actual.status().message()));
  }
  if (*actual != absl::AsciiStrToLower(expected)) {
    return absl::FailedPreconditionError(
        absl::StrCat("checksum agent: MD5 mismatch for file '", Quoted(file), "': config expects ",
                     absl::AsciiStrToLower(expected), ", file has ", *actual));
  }
  return absl::OkStatus();
}

}  // namespace

std::string Md5Hex(std::string_view data) {
  bool given = false;
  absl::StatusOr<std::string> hex = Md5Of([&]() -> absl::StatusOr<std::string_view> {
    if (given) return std::string_view();
    given = true;
    return data;
  });
  return hex.ok() ? *hex : std::string();
}

absl::StatusOr<std::string> FileMd5Hex(const fs::path& file) {
  std::error_code error;
  if (!fs::is_regular_file(file, error)) {
    return absl::NotFoundError(fs::exists(file, error) ? "it is not a regular file"
                                                       : "the file does not exist");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return absl::InternalError("cannot open the file for reading");
  std::vector<char> buffer(1 << 20);
  return Md5Of([&]() -> absl::StatusOr<std::string_view> {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    if (in.bad()) return absl::InternalError("reading the file failed");
    return std::string_view(buffer.data(), static_cast<size_t>(in.gcount()));
  });
}

absl::Status VerifyModelChecksums(const inference::ModelConfig& config, const fs::path& model_dir,
                                  std::string_view context) {
  for (const auto& agent : config.model_repository_agents().agents()) {
    if (agent.name() != "checksum") {
      return absl::FailedPreconditionError(
          absl::StrCat(std::string(context), ": repository agent '", Quoted(agent.name()),
                       "' is not available in this server (only 'checksum' is built in)"));
    }
    // Sorted, so the first failure reported does not depend on the map's order.
    std::vector<std::pair<std::string, std::string>> parameters(agent.parameters().begin(),
                                                                agent.parameters().end());
    std::sort(parameters.begin(), parameters.end());
    for (const auto& [key, value] : parameters) {
      SONIC_RETURN_IF_ERROR(Annotate(VerifyOne(model_dir, key, value), context));
    }
  }
  return absl::OkStatus();
}

}  // namespace sonic::server
