// A model directory made of files sent in a load request (Triton's `file:<version>/<path>` load
// parameters): written into a fresh temporary directory laid out as a repository's model
// directory, removed with its contents by the destructor.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace sonic::server {

class ModelFilesDirectory {
 public:
  // `files` maps "<version>/<relative path>" to the file's contents. INVALID_ARGUMENT naming the
  // file for a key that does not start with a positive version number, or whose path is empty,
  // absolute or climbs out ("..") of its version directory; INTERNAL when writing fails.
  static absl::StatusOr<std::unique_ptr<ModelFilesDirectory>> Create(
      const std::string& model_name, const std::map<std::string, std::string>& files);
  ~ModelFilesDirectory();
  ModelFilesDirectory(const ModelFilesDirectory&) = delete;
  ModelFilesDirectory& operator=(const ModelFilesDirectory&) = delete;

  // The model directory (its version subdirectories hold the files).
  const std::filesystem::path& path() const { return path_; }

 private:
  explicit ModelFilesDirectory(std::filesystem::path root, std::filesystem::path path)
      : root_(std::move(root)), path_(std::move(path)) {}
  const std::filesystem::path root_;  // the temporary directory, removed at destruction
  const std::filesystem::path path_;  // root_ / model name
};

}  // namespace sonic::server
