// The fil backend's model and instance: a tree ensemble loaded with XGBoost's C API (Debian's
// libxgboost) and run on the server's batch in place (XGBoosterPredictFromDense over the input
// buffer, no copy).
//
// Configuration (see fil_options.h for the parameters): one input, FP32, [features] per row
// (max_batch_size > 0) or [rows, features] (max_batch_size 0); one output, FP32, [width] per row
// or [rows, width]. The features must match the model's (XGBoosterGetNumFeature) unless the dims
// are -1; the width must match what the parameters make of the model's prediction (one value per
// row, or one per class) unless -1. NaN input values are missing values, as in XGBoost.
// Instances run on the CPU (a GPU instance is FAILED_PRECONDITION, so KIND_AUTO falls back to the
// CPU); each holds its own booster, with XGBoost's own thread pool (OpenMP), sized by the
// parameter nthread when given (Triton FIL has no such parameter; XGBoost uses every core by
// default).
#pragma once

#include <memory>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sonic/backend/backend_api.h"

namespace sonic::backends::fil {

class FilInstance;

// One loaded model version. Thread-safe: instances only read it.
class FilModel {
 public:
  struct State;  // Defined in xgboost_model.cc.

  // Reads the parameters and the model file, loads it once to check it and learn its features
  // and output width. INVALID_ARGUMENT naming the file when it is missing or XGBoost cannot load
  // it (with XGBoost's message), or when the config's tensors disagree with the model; the errors
  // of ReadFilOptions (UNIMPLEMENTED for lightgbm and treelite_checkpoint).
  static absl::StatusOr<std::unique_ptr<FilModel>> Create(const SonicBackendModelSpec& spec);

  ~FilModel();

  // A new booster loaded from the model's bytes. FAILED_PRECONDITION for a GPU instance.
  absl::StatusOr<std::unique_ptr<FilInstance>> CreateInstance(
      const SonicBackendInstanceSpec& spec) const;

 private:
  explicit FilModel(std::shared_ptr<const State> state);
  std::shared_ptr<const State> state_;
};

// Not thread-safe: one Execute at a time (the backend interface guarantees it).
class FilInstance {
 public:
  struct State;  // Defined in xgboost_model.cc.

  explicit FilInstance(std::unique_ptr<State> state);
  ~FilInstance();

  // Predicts every row of the input and writes the output (`batch_size` is not needed: a row is
  // an entry). INVALID_ARGUMENT for a missing or mistyped input, a row of the wrong width, or an
  // unknown output name; INTERNAL when XGBoost fails or the allocator refuses.
  absl::Status Execute(std::span<const SonicBackendTensor> inputs,
                       std::span<const char* const> output_names, uint64_t batch_size,
                       const SonicBackendOutputAllocator& allocator);

 private:
  std::unique_ptr<State> state_;
};

}  // namespace sonic::backends::fil
