// The model repository the server's integration tests run against, written on demand (no binary
// files are checked in), and in-process reference runs of its TorchScript models.
//
// Models written by WriteTestRepository (all with one version, "1"):
//  - identity_fp32: identity backend, max_batch_size 8, INPUT0 FP32 dims [-1] -> OUTPUT0.
//  - identity_delay: identity, max_batch_size 0, INPUT0 FP32 dims [4] -> OUTPUT0, every
//    execution sleeps 300 ms (parameter execute_delay_ms), for slow-model and shutdown tests.
//  - identity_all_types: identity, max_batch_size 0, one pair INPUT_<T> -> OUTPUT_<T> per wire
//    type T in BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64,
//    BYTES, BF16, all dims [-1].
//  - torch_mlp (only when HaveTorchModels()): backend "pytorch", max_batch_size 8,
//    dynamic_batching {}, INPUT__0 FP32 [16] -> OUTPUT__0 FP32 [4] computing
//    relu(x @ W1 + b1) @ W2 + b2 with 32 hidden units and weights from a fixed seed.
//  - torch_two_io (only when HaveTorchModels()): platform "pytorch_libtorch", max_batch_size 4,
//    inputs "a", "b" FP32 dims [-1] (forward(self, a, b)), outputs OUTPUT__0 = a + b and
//    OUTPUT__1 = a * b FP32 dims [-1].
//  - torch_ragged_sum (only when HaveTorchModels()): backend "pytorch", max_batch_size 16,
//    input "x" FP32 dims [-1] with allow_ragged_batch, batch_input "offsets" (INT32
//    BATCH_ACCUMULATED_ELEMENT_COUNT of "x"), outputs "sum" and "max" FP32 dims [1]: each
//    request's sum and maximum of x (0 for an empty x), one row per request; dynamic_batching with
//    max_queue_delay_microseconds 100000, so requests sent together run as one batch. Send each
//    request with batch size 1 (the model gives one row per request, not per batch item).
//  - broken_model: backend "pytorch", max_batch_size 0, INPUT__0 FP32 [4] -> OUTPUT__0 FP32 [4],
//    but 1/model.pt is garbage, so loading fails and the model is UNAVAILABLE.
//  - bad_config: a config.pbtxt with a syntax error.
//
// Not thread-safe against concurrent writers of the same directory; otherwise stateless.
#pragma once

#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sonic::testing {

inline constexpr int kTorchMlpInputSize = 16;
inline constexpr int kTorchMlpOutputSize = 4;

// Creates `dir` (and parents) and writes the models above into it, replacing files of the same
// names. INTERNAL when a file cannot be written or a TorchScript model cannot be built.
absl::Status WriteTestRepository(const std::filesystem::path& dir);

// Whether this build writes the TorchScript models (built with SONIC_WITH_TORCH).
bool HaveTorchModels();

// Saves a TorchScript module without parameters whose methods are `source` (TorchScript, e.g.
// "def forward(self, x):\n  return x * 2\n") to `file`. INVALID_ARGUMENT when the source does
// not compile; UNIMPLEMENTED without LibTorch.
absl::Status WriteTorchScriptModule(const std::filesystem::path& file, std::string_view source);

// Runs <repository>/torch_mlp/1/model.pt in this process on a batch of rows of
// kTorchMlpInputSize floats (input.size() must be a non-zero multiple of it) and returns the
// batch's outputs, kTorchMlpOutputSize floats per row. UNIMPLEMENTED without LibTorch.
absl::StatusOr<std::vector<float>> RunTorchMlpInProcess(const std::filesystem::path& repository,
                                                        std::span<const float> input);

}  // namespace sonic::testing
