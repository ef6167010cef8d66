// The fil backend's configuration, as Triton's FIL backend reads it (parameters are strings):
//  - model_type: "xgboost" (XGBoost's binary format), "xgboost_json", "xgboost_ubj" (XGBoost's
//    JSON and UBJSON formats); "lightgbm" and "treelite_checkpoint" are Triton's too but need
//    LightGBM or Treelite, which this build lacks: UNIMPLEMENTED naming them. Default "xgboost".
//  - the model file: default_model_filename, else Triton FIL's default for the type
//    (xgboost.model, xgboost.json, xgboost.ubj);
//  - output_class ("true"/"false", default false): a classifier. Without predict_proba the output
//    is one class id per row: for a model giving one value per row (binary), 1 when the value is
//    above `threshold` (default 0.5) else 0; for one value per class, the class with the highest;
//  - predict_proba (default false; only with output_class): the per-class scores instead. A
//    binary model's one score p is output as [p] when the output's dims are [1], or as
//    [1 - p, p] when they are [2];
//  - output_class false: XGBoost's prediction as it gives it (its objective's transform applied:
//    regression values, or probabilities for a logistic objective), one value per row or per
//    class.
// Thread-safe: plain data and stateless functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "inference/model_config.pb.h"

namespace sonic::backends::fil {

enum class ModelType { kXgboost, kXgboostJson, kXgboostUbj };

struct FilOptions {
  ModelType model_type = ModelType::kXgboost;
  std::string model_file;  // relative to the version directory
  bool output_class = false;
  bool predict_proba = false;
  float threshold = 0.5f;
};

// Reads the parameters above. INVALID_ARGUMENT naming the parameter for a value that is not one
// of those listed (or not a number, for threshold); UNIMPLEMENTED for lightgbm and
// treelite_checkpoint ("not supported by this build: ...").
absl::StatusOr<FilOptions> ReadFilOptions(const inference::ModelConfig& config);

// How many values per row the output has, given XGBoost's `predicted_width` values per row and
// the width the config's output dims ask for (-1 when variable): see predict_proba above.
int64_t OutputWidth(const FilOptions& options, int64_t predicted_width, int64_t config_width);

// Turns `predicted` (rows x predicted_width, row-major, from XGBoost) into `output`
// (rows x output_width, output_width from OutputWidth) as described above.
// REQUIRES: predicted.size() == rows * predicted_width, output.size() == rows * output_width.
void ShapeOutput(const FilOptions& options, std::span<const float> predicted, int64_t rows,
                 int64_t predicted_width, int64_t output_width, std::span<float> output);

}  // namespace sonic::backends::fil
