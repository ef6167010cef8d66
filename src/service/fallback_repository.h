// The model repository of a fallback server: exactly the given models, each a folder with a
// rewritten config.pbtxt and symlinks to the rest of the declared model directory. Internal to
// the service; stateless free functions.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sonic/service/service_config.h"

namespace sonic::service::internal {

// The model instances a config.pbtxt asks for (the sum of instance_group counts; 1 per group
// without a count; 1 without groups). 1 when the text does not parse.
int InstanceCount(const std::string& config_text);

// `config_text` with parameters INTRA_OP_THREAD_COUNT = `threads`, unless it sets it already
// or does not parse (then unchanged: the server reports the config's error itself).
std::string WithThreadCount(const std::string& config_text, int threads);

struct WrittenModels {
  int threads_per_instance = 1;
  int instances = 0;  // of the models written
};

// Writes `models` into `repository` (created; a model's folder already there is replaced).
// Threads per instance are `cores` divided by the instances of these models and
// `other_instances` (those of models already served), at least 1. INVALID_ARGUMENT for a model
// without name or without <directory>/config.pbtxt; INTERNAL for a file system error.
absl::StatusOr<WrittenModels> WriteFallbackRepository(const std::filesystem::path& repository,
                                                      const std::vector<ModelDeclaration>& models,
                                                      int cores, int other_instances = 0);

}  // namespace sonic::service::internal
