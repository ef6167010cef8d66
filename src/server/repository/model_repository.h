// The model repositories on disk, in Triton's layout:
//
//   <root>/<model>/config.pbtxt
//   <root>/<model>/<version>/<model file>      (versions are positive integers)
//
// ModelRepository finds models and their versions and tells when a model's files changed; it
// never parses configs (LoadModelConfig does) nor loads models (the model manager does).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sonic::server {

// Thread-safe: the roots are fixed by Create and every method only reads the file system, so any
// number of threads may call any methods at once. Nothing is cached: each call sees the disk as
// it is now (that is what `--model-control-mode poll` relies on).
class ModelRepository {
 public:
  // `roots` are the --model-repository directories (at least one). Errors: INVALID_ARGUMENT when
  // `roots` is empty, a root is not an existing directory, or a root is given twice.
  static absl::StatusOr<std::unique_ptr<ModelRepository>> Create(
      std::vector<std::filesystem::path> roots);

  ModelRepository(const ModelRepository&) = delete;
  ModelRepository& operator=(const ModelRepository&) = delete;

  const std::vector<std::filesystem::path>& roots() const { return roots_; }

  // Names of all models: every subdirectory of every root, hidden ones ("." prefix) skipped,
  // sorted, each name once even when several roots have it (ModelDirectory then reports the
  // clash). A root that cannot be read is skipped. Reads the disk on each call.
  std::vector<std::string> ListModels() const;

  // The directory of model `name`. Errors: INVALID_ARGUMENT when `name` is not a plain
  // directory name (empty, ".", "..", hidden, a NUL byte, or a separator: it could escape the
  // roots); FAILED_PRECONDITION when more than one root has the model (as Triton: "not unique
  // across all model repositories"); NOT_FOUND when no root has it.
  absl::StatusOr<std::filesystem::path> ModelDirectory(std::string_view name) const;

  // The versions under `model_dir`: its subdirectories whose name is a positive decimal integer
  // without leading zeros (so `model_dir / std::to_string(v)` is version v's directory), sorted
  // ascending. Anything else is ignored; an unreadable `model_dir` has no versions.
  static std::vector<int64_t> ListVersions(const std::filesystem::path& model_dir);

  // A string that differs whenever model `name` changed on disk: config.pbtxt's content, the set
  // of version directories, or any file's or directory's path, size or modification time under
  // the model directory (symlinked directories are not followed). Equal strings mean
  // "unchanged" for `--model-control-mode poll`; the string has no other meaning.
  // Errors: those of ModelDirectory.
  absl::StatusOr<std::string> Fingerprint(std::string_view name) const;

 private:
  explicit ModelRepository(std::vector<std::filesystem::path> roots);

  const std::vector<std::filesystem::path> roots_;
};

}  // namespace sonic::server
