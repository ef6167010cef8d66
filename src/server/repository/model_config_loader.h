// Reading a model's config.pbtxt: parse (protobuf text format, Triton's ModelConfig schema),
// normalize (fill the defaults Triton fills) and validate (reject what is wrong or what
// sonic-server does not implement), each step usable on its own.
//
// Every error message starts with "model 'NAME': " and names the offending field, so it can be
// shown as-is as the model's reason in RepositoryIndex. None of these errors is retryable as is:
// the config (or the model directory) must change first.
//
// All functions are thread-safe (they share no state). ValidateModelConfig is implemented in
// model_config_validator.cc.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "inference/model_config.pb.h"

namespace sonic::server {

// The backends this build serves: "pytorch" (LibTorch TorchScript), "onnxruntime" (ONNX Runtime
// in an embedded CPython), "python" (Triton's Python model API), "fil" (tree ensembles on
// XGBoost), "tensorflow" (GraphDef and SavedModel) and "identity" (built in, outputs echo inputs;
// for tests). The defaults of ValidateModelConfig and LoadModelConfig.
inline constexpr std::array<std::string_view, 6> kSupportedBackends = {
    "pytorch", "onnxruntime", "python", "fil", "tensorflow", "identity"};

// The backend implementing one of Triton's platforms ("pytorch_libtorch" -> "pytorch",
// "onnxruntime_onnx" -> "onnxruntime", "tensorrt_plan" -> "tensorrt", "tensorflow_savedmodel" and
// "tensorflow_graphdef" -> "tensorflow"); empty for any other platform.
std::string_view BackendForPlatform(std::string_view platform);

// Parses config.pbtxt text. Unknown fields and bad values are errors (as in Triton).
// `model_name` is used only in error messages. No normalization or validation.
// Errors: INVALID_ARGUMENT "model 'NAME': config.pbtxt line L column C: <parser message>"
// (1-based line and column of the first error).
absl::StatusOr<inference::ModelConfig> ParseModelConfig(std::string_view pbtxt,
                                                        std::string_view model_name);

// The default bound on config.pbtxt's size (sonic-server's --max-config-bytes): Triton's
// configs are a few kilobytes; labels and weights live in other files.
inline constexpr uint64_t kDefaultMaxConfigBytes = uint64_t{1} << 20;

// Reads `model_dir`/config.pbtxt and returns the normalized, validated config. The model's name
// is the directory's name; a config that sets `name` must use that same name. At most
// `max_config_bytes` are read: a larger file is refused without being read. With a
// `config_name` (tritonserver's --model-config-name), `model_dir`/configs/<config_name>.pbtxt is
// read instead when it exists: one repository, a configuration per deployment. `config_name`
// must be a plain file name (CustomConfigNameError).
// Errors: NOT_FOUND when `model_dir` is not a directory; FAILED_PRECONDITION when config.pbtxt is
// missing, unreadable or not a regular file; INVALID_ARGUMENT for a file over
// `max_config_bytes` (naming --max-config-bytes), a parse error, a name mismatch or an invalid
// config; UNIMPLEMENTED for a valid config that sonic-server does not support (see
// ValidateModelConfig).
absl::StatusOr<inference::ModelConfig> LoadModelConfig(
    const std::filesystem::path& model_dir,
    std::span<const std::string_view> supported_backends = kSupportedBackends,
    uint64_t max_config_bytes = kDefaultMaxConfigBytes, std::string_view config_name = {});

// Why `name` cannot be a --model-config-name (empty, a separator, whitespace, a NUL byte, "." or
// "..": the file must stay in the model's configs/ folder); OK when it can.
absl::Status CustomConfigNameError(std::string_view name);

// Fills in, in place, what Triton fills in before it validates, so that the config reported by
// the ModelConfig RPC matches Triton's:
// - backend from platform (pytorch_libtorch -> pytorch, onnxruntime_onnx -> onnxruntime,
//   tensorrt_plan -> tensorrt, tensorflow_savedmodel / tensorflow_graphdef -> tensorflow) and
//   platform from backend (pytorch -> pytorch_libtorch, onnxruntime -> onnxruntime_onnx,
//   tensorrt -> tensorrt_plan);
// - default_model_filename from the backend (model.pt, model.onnx, model.plan,
//   model.savedmodel, model.graphdef; none for identity) when empty;
// - version_policy latest { num_versions: 1 } when no policy is chosen;
// - one instance group { kind: KIND_AUTO } when there is none; each group's count 1 when 0
//   (proto3 cannot tell an unset count from 0) and name "<model>_<index>" when empty.
//   KIND_AUTO is kept: the server resolves it against the devices it finds.
// An ensemble (platform "ensemble") gets only the version policy: it has no backend, files or
// instances.
// Never fails; a config that cannot be normalized is left for ValidateModelConfig to reject.
void NormalizeModelConfig(inference::ModelConfig& config);

// Bounds beyond which a config is refused (Triton has none): a model past them could load READY
// and never answer (a queue delay of years, a tensor no request can carry) or overflow the
// nanosecond arithmetic of the batcher.
inline constexpr uint64_t kMaxQueueDelayMicroseconds = 60'000'000;          // one minute
inline constexpr uint64_t kMaxQueueTimeoutMicroseconds = 86'400'000'000;    // one day
inline constexpr uint64_t kMaxTensorElements = uint64_t{1} << 32;  // fixed dims x max_batch_size

// Checks a (normally already normalized) config. Returns the first problem found:
// INVALID_ARGUMENT for a config that is wrong (also for Triton), e.g.
//   "model 'mlp': input[1] 'x': dims must be positive or -1, got 0", or out of the bounds above;
// an ensemble's steps are checked by BuildEnsembleGraph (ensemble_config.h);
// UNIMPLEMENTED for a valid config using what sonic-server does not support: a backend not in
// `supported_backends`, sequence_batching, model_transaction_policy.decoupled, response_cache.enable, instance kind KIND_MODEL.
absl::Status ValidateModelConfig(
    const inference::ModelConfig& config,
    std::span<const std::string_view> supported_backends = kSupportedBackends);

}  // namespace sonic::server
