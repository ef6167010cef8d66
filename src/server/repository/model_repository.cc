#include "server/repository/model_repository.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <set>
#include <system_error>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sonic/common/status.h"

namespace sonic::server {
namespace fs = std::filesystem;
namespace {

bool IsHidden(const fs::path& path) {
  const std::string name = path.filename().string();
  return !name.empty() && name.front() == '.';
}

// Incremental 64-bit FNV-1a: small, deterministic across runs and good enough to tell "changed"
// from "unchanged" (the fingerprint is compared, never trusted for integrity).
class Fnv1a {
 public:
  void Add(std::string_view bytes) {
    for (unsigned char c : bytes) {
      hash_ = (hash_ ^ c) * 0x100000001b3ULL;
    }
    // A separator, so that ("ab", "c") and ("a", "bc") differ.
    hash_ = (hash_ ^ 0xff) * 0x100000001b3ULL;
  }
  void Add(int64_t value) { Add(absl::StrCat(value)); }
  std::string Hex() const {
    char buffer[17];
    std::snprintf(buffer, sizeof(buffer), "%016llx", static_cast<unsigned long long>(hash_));
    return buffer;
  }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ULL;
};

// "relative/path kind size mtime" for every entry under `dir`, sorted by path.
std::vector<std::string> DescribeTree(const fs::path& dir) {
  std::vector<std::string> lines;
  std::error_code error;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, error);
  for (; !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    const fs::directory_entry& entry = *it;
    std::error_code entry_error;
    const bool is_file = entry.is_regular_file(entry_error);  // follows symlinks
    const int64_t size = is_file ? static_cast<int64_t>(entry.file_size(entry_error)) : 0;
    const int64_t mtime = entry.last_write_time(entry_error).time_since_epoch().count();
    lines.push_back(absl::StrCat(entry.path().lexically_relative(dir).generic_string(), " ",
                                 is_file ? "f" : "d", " ", size, " ", mtime,
                                 entry_error ? " ?" : ""));
  }
  if (error) lines.push_back(absl::StrCat("? ", error.message()));
  std::sort(lines.begin(), lines.end());
  return lines;
}

// Only regular files are read: a directory would make the stream throw, a FIFO would block.
// At most the first mebibyte (a config larger than that is refused at load, and its size and
// modification time are in DescribeTree's lines), so a huge file costs no memory.
std::string ReadFileOrEmpty(const fs::path& file) {
  constexpr std::streamsize kMaxBytes = 1 << 20;
  std::error_code error;
  if (!fs::is_regular_file(file, error)) return "";
  std::ifstream stream(file, std::ios::binary);
  std::string contents(kMaxBytes, '\0');
  stream.read(contents.data(), kMaxBytes);
  contents.resize(static_cast<size_t>(std::max<std::streamsize>(stream.gcount(), 0)));
  return contents;
}

}  // namespace

ModelRepository::ModelRepository(std::vector<fs::path> roots) : roots_(std::move(roots)) {}

absl::StatusOr<std::unique_ptr<ModelRepository>> ModelRepository::Create(
    std::vector<fs::path> roots) {
  if (roots.empty()) {
    return absl::InvalidArgumentError("at least one model repository directory is required");
  }
  std::set<fs::path> seen;
  for (const fs::path& root : roots) {
    std::error_code error;
    if (!fs::is_directory(root, error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("model repository '", root.string(), "' is not an existing directory"));
    }
    if (!seen.insert(fs::weakly_canonical(root, error)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("model repository '", root.string(), "' is given more than once"));
    }
  }
  return std::unique_ptr<ModelRepository>(new ModelRepository(std::move(roots)));
}

std::vector<std::string> ModelRepository::ListModels() const {
  std::set<std::string> names;
  for (const fs::path& root : roots_) {
    std::error_code error;
    fs::directory_iterator it(root, error);
    for (; !error && it != fs::directory_iterator(); it.increment(error)) {
      std::error_code entry_error;
      if (IsHidden(it->path()) || !it->is_directory(entry_error)) continue;
      names.insert(it->path().filename().string());
    }
  }
  return std::vector<std::string>(names.begin(), names.end());
}

absl::StatusOr<fs::path> ModelRepository::ModelDirectory(std::string_view name) const {
  if (name.empty() || name.front() == '.' || name.find('/') != std::string_view::npos ||
      name.find('\\') != std::string_view::npos || name.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", Quoted(name), "' is not a valid model name"));
  }
  std::vector<fs::path> found;
  for (const fs::path& root : roots_) {
    std::error_code error;
    if (fs::is_directory(root / name, error)) found.push_back(root / name);
  }
  if (found.empty()) {
    return absl::NotFoundError(
        absl::StrCat("model '", Quoted(name), "' is not in any model repository"));
  }
  if (found.size() > 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("model '", ToAbsl(name), "' is not unique across all model repositories: ",
                     absl::StrJoin(found, ", ", [](std::string* out, const fs::path& path) {
                       absl::StrAppend(out, path.string());
                     })));
  }
  return std::move(found.front());
}

std::vector<int64_t> ModelRepository::ListVersions(const fs::path& model_dir) {
  std::vector<int64_t> versions;
  std::error_code error;
  fs::directory_iterator it(model_dir, error);
  for (; !error && it != fs::directory_iterator(); it.increment(error)) {
    const std::string name = it->path().filename().string();
    int64_t version = 0;
    std::error_code entry_error;
    if (name.empty() || name.front() == '0' ||
        !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        !absl::SimpleAtoi(name, &version) || !it->is_directory(entry_error)) {
      continue;
    }
    versions.push_back(version);
  }
  std::sort(versions.begin(), versions.end());
  return versions;
}

absl::StatusOr<std::string> ModelRepository::Fingerprint(std::string_view name) const {
  SONIC_ASSIGN_OR_RETURN(const fs::path dir, ModelDirectory(name));
  Fnv1a hash;
  hash.Add(ReadFileOrEmpty(dir / "config.pbtxt"));
  for (int64_t version : ListVersions(dir)) hash.Add(version);
  for (const std::string& line : DescribeTree(dir)) hash.Add(line);
  return hash.Hex();
}

}  // namespace sonic::server
