// The files a model's config names: default_model_filename and cc_model_filenames (in the
// version directory), label_filename (in the model directory). A config can come from a
// RepositoryModelLoad request ('config' override), so these names are client input: they must not
// reach files elsewhere on the disk, and a refusal must not tell whether such a file exists.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "inference/model_config.pb.h"

namespace sonic::server {

// OK when `name` is a relative path that stays inside `directory` with every symlink under it
// resolved (a link pointing out of the directory is outside, whether or not its target exists).
// INVALID_ARGUMENT saying that `what` ("default_model_filename", ...) must be inside `where`
// otherwise: the same text for any name outside, so it reveals nothing about files there. A path
// that does not exist inside is OK here (the backend reports it). Reads only symlinks (lstat,
// readlink), never the files.
absl::Status CheckPathInside(const std::filesystem::path& directory, const std::string& name,
                             std::string_view what, std::string_view where);

// CheckPathInside for every file `config` names: default_model_filename and each
// cc_model_filenames entry in `version_path`, each output's label_filename in its parent (the
// model directory). Errors are prefixed with `context` (the model and version).
absl::Status CheckModelFilesInside(const inference::ModelConfig& config,
                                   const std::filesystem::path& version_path,
                                   std::string_view context);

}  // namespace sonic::server
