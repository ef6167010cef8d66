// A TorchScript multi-layer perceptron of any size with deterministic weights, written from C++
// (no Python), for benchmarks and tests that need a model whose cost scales with its layers.
//
// The module takes one FP32 input x of shape [batch, layer_sizes.front()] and returns one FP32
// tensor of shape [batch, layer_sizes.back()]: a stack of linear layers with ReLU between them
// (the last layer is linear). With the pytorch backend its config names the input INPUT__0 (or
// anything: a single input is matched by position) and the output OUTPUT__0.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "absl/status/status.h"

namespace sonic::testing {

// Writes the MLP to `file` (creating its parent directories), loadable with torch::jit::load.
// Layer i has weights [layer_sizes[i], layer_sizes[i + 1]] and biases drawn uniformly from
// +-1/sqrt(layer_sizes[i]) (LibTorch's nn.Linear initialisation) by a 64-bit Mersenne twister
// seeded with `seed`, so the same sizes and seed give the same model on every machine and
// LibTorch version. Thread-safe. Errors: INVALID_ARGUMENT when there are fewer than two sizes or
// a size is not positive; INTERNAL when LibTorch cannot build or save the module;
// UNIMPLEMENTED when built without LibTorch.
absl::Status WriteTorchMlp(const std::filesystem::path& file, std::vector<int64_t> layer_sizes,
                           uint64_t seed);

}  // namespace sonic::testing
