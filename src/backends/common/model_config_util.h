// Reading the model configuration a backend receives through SonicBackendModelSpec.
// Thread-safe: stateless functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "inference/model_config.pb.h"
#include "sonic/backend/backend_api.h"

namespace sonic::backends {

// Parses spec.config (a serialized inference.ModelConfig). INVALID_ARGUMENT when the bytes do not
// parse (the server sent something else: a server bug or an ABI mismatch).
absl::StatusOr<inference::ModelConfig> ParseModelConfig(const SonicBackendModelSpec& spec);

// The string_value of config parameter `key`; nullopt when the parameter is absent.
std::optional<std::string> GetParameter(const inference::ModelConfig& config, std::string_view key);

// Config parameter `key` as an integer in [min_value, max_value]; `default_value` when absent.
// INVALID_ARGUMENT naming the parameter when it is not a decimal integer or out of range.
absl::StatusOr<int64_t> GetIntParameter(const inference::ModelConfig& config, std::string_view key,
                                        int64_t default_value, int64_t min_value,
                                        int64_t max_value);

}  // namespace sonic::backends
