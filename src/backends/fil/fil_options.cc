#include "backends/fil/fil_options.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "backends/common/model_config_util.h"

namespace sonic::backends::fil {
namespace {

absl::StatusOr<bool> ReadBool(const inference::ModelConfig& config, std::string_view key) {
  const std::optional<std::string> value = GetParameter(config, key);
  if (!value.has_value() || *value == "false") return false;
  if (*value == "true") return true;
  return absl::InvalidArgumentError(
      absl::StrCat("fil model '", config.name(), "': parameter ", std::string(key),
                   " must be \"true\" or \"false\", got '", *value, "'"));
}

}  // namespace

absl::StatusOr<FilOptions> ReadFilOptions(const inference::ModelConfig& config) {
  FilOptions options;
  const std::string type = GetParameter(config, "model_type").value_or("xgboost");
  std::string default_file;
  if (type == "xgboost") {
    options.model_type = ModelType::kXgboost;
    default_file = "xgboost.model";
  } else if (type == "xgboost_json") {
    options.model_type = ModelType::kXgboostJson;
    default_file = "xgboost.json";
  } else if (type == "xgboost_ubj") {
    options.model_type = ModelType::kXgboostUbj;
    default_file = "xgboost.ubj";
  } else if (type == "lightgbm" || type == "treelite_checkpoint") {
    return absl::UnimplementedError(absl::StrCat(
        "fil model '", config.name(), "': model_type '", type,
        "' is not supported by this build: it serves XGBoost models (xgboost, xgboost_json, "
        "xgboost_ubj) through Debian's libxgboost; ",
        type == "lightgbm" ? "LightGBM" : "Treelite", " is not available here"));
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "fil model '", config.name(), "': unknown model_type '", type,
        "' (expected xgboost, xgboost_json, xgboost_ubj, lightgbm or treelite_checkpoint)"));
  }
  options.model_file =
      config.default_model_filename().empty() ? default_file : config.default_model_filename();
  absl::StatusOr<bool> output_class = ReadBool(config, "output_class");
  if (!output_class.ok()) return output_class.status();
  absl::StatusOr<bool> predict_proba = ReadBool(config, "predict_proba");
  if (!predict_proba.ok()) return predict_proba.status();
  options.output_class = *output_class;
  options.predict_proba = *predict_proba;
  if (options.predict_proba && !options.output_class) {
    return absl::InvalidArgumentError(
        absl::StrCat("fil model '", config.name(), "': predict_proba needs output_class \"true\""));
  }
  if (const std::optional<std::string> threshold = GetParameter(config, "threshold")) {
    if (!absl::SimpleAtof(*threshold, &options.threshold)) {
      return absl::InvalidArgumentError(absl::StrCat("fil model '", config.name(),
                                                     "': parameter threshold must be a number, "
                                                     "got '",
                                                     *threshold, "'"));
    }
  }
  return options;
}

int64_t OutputWidth(const FilOptions& options, int64_t predicted_width, int64_t config_width) {
  if (!options.output_class) return predicted_width;
  if (!options.predict_proba) return 1;
  if (predicted_width == 1 && config_width == 2) return 2;
  return predicted_width;
}

void ShapeOutput(const FilOptions& options, std::span<const float> predicted, int64_t rows,
                 int64_t predicted_width, int64_t output_width, std::span<float> output) {
  for (int64_t row = 0; row < rows; ++row) {
    const float* in = predicted.data() + row * predicted_width;
    float* out = output.data() + row * output_width;
    if (!options.output_class || (options.predict_proba && output_width == predicted_width)) {
      std::copy(in, in + predicted_width, out);
    } else if (options.predict_proba) {  // a binary model's score as [1 - p, p]
      out[0] = 1.0f - in[0];
      out[1] = in[0];
    } else if (predicted_width == 1) {
      out[0] = in[0] > options.threshold ? 1.0f : 0.0f;
    } else {
      out[0] = static_cast<float>(std::max_element(in, in + predicted_width) - in);
    }
  }
}

}  // namespace sonic::backends::fil
