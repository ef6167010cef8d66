#include "backends/common/model_config_util.h"

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace sonic::backends {

absl::StatusOr<inference::ModelConfig> ParseModelConfig(const SonicBackendModelSpec& spec) {
  inference::ModelConfig config;
  if (spec.config_size > static_cast<size_t>(INT32_MAX) ||
      (spec.config == nullptr && spec.config_size > 0) ||
      !config.ParseFromArray(spec.config, static_cast<int>(spec.config_size))) {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", spec.name == nullptr ? "" : spec.name,
                     "': the server passed a configuration that is not a serialized "
                     "inference.ModelConfig (",
                     spec.config_size, " bytes)"));
  }
  return config;
}

std::optional<std::string> GetParameter(const inference::ModelConfig& config,
                                        std::string_view key) {
  auto it = config.parameters().find(std::string(key));
  if (it == config.parameters().end()) return std::nullopt;
  return it->second.string_value();
}

absl::StatusOr<int64_t> GetIntParameter(const inference::ModelConfig& config, std::string_view key,
                                        int64_t default_value, int64_t min_value,
                                        int64_t max_value) {
  std::optional<std::string> text = GetParameter(config, key);
  if (!text.has_value()) return default_value;
  int64_t value = 0;
  if (!absl::SimpleAtoi(*text, &value) || value < min_value || value > max_value) {
    return absl::InvalidArgumentError(absl::StrCat("config parameter '", std::string(key),
                                                   "' is \"", *text, "\"; expected an integer in [",
                                                   min_value, ", ", max_value, "]"));
  }
  return value;
}

}  // namespace sonic::backends
