#include "server/repository/model_files_directory.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace sonic::server {
namespace {

namespace fs = std::filesystem;

// The path of `key` ("<version>/<relative path>") under the model directory, checked.
absl::StatusOr<fs::path> FilePath(const std::string& key) {
  const size_t slash = key.find('/');
  int64_t version = 0;
  auto invalid = [&key](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("load parameter 'file:", key, "': ", std::string(why)));
  };
  if (slash == std::string::npos || !absl::SimpleAtoi(key.substr(0, slash), &version) ||
      version <= 0 || key[0] == '0' || key[0] == '+') {
    return invalid("must start with a positive version number, as file:<version>/<name>");
  }
  const fs::path relative = fs::path(key.substr(slash + 1)).lexically_normal();
  if (relative.empty() || relative.is_absolute() || *relative.begin() == ".." ||
      relative.filename().empty()) {
    return invalid("the file must be a path inside its version directory");
  }
  return fs::path(key.substr(0, slash)) / relative;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ModelFilesDirectory>> ModelFilesDirectory::Create(
    const std::string& model_name, const std::map<std::string, std::string>& files) {
  std::vector<std::pair<fs::path, const std::string*>> checked;
  for (const auto& [key, contents] : files) {
    absl::StatusOr<fs::path> path = FilePath(key);
    if (!path.ok()) return path.status();
    checked.emplace_back(*path, &contents);
  }
  std::error_code error;
  fs::path base = fs::temp_directory_path(error);
  if (error) base = "/tmp";
  std::string pattern = (base / "sonic_model_files_XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp ", pattern, ": ", std::strerror(errno)));
  }
  std::unique_ptr<ModelFilesDirectory> directory(
      new ModelFilesDirectory(pattern, fs::path(pattern) / model_name));
  for (const auto& [relative, contents] : checked) {
    const fs::path path = directory->path_ / relative;
    fs::create_directories(path.parent_path(), error);
    std::ofstream out(path, std::ios::binary);
    out.write(contents->data(), static_cast<std::streamsize>(contents->size()));
    if (error || !out) {
      return absl::InternalError(absl::StrCat("cannot write model file ", path.string()));
    }
  }
  return directory;
}

ModelFilesDirectory::~ModelFilesDirectory() {
  std::error_code ignored;
  fs::remove_all(root_, ignored);
}

}  // namespace sonic::server
