// Internal to sonic_test_models: the parts that need LibTorch (torch_test_models.cc), or their
// stand-ins without it (torch_test_models_stub.cc).
#pragma once

#include <filesystem>

#include "absl/status/status.h"

namespace sonic::testing {

// Writes the model.pt of torch_mlp, torch_two_io and torch_ragged_sum under `dir` (see
// test_models.h).
absl::Status WriteTorchModelFiles(const std::filesystem::path& dir);

}  // namespace sonic::testing
