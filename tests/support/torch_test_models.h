// Internal to sonic_test_models: the parts that need LibTorch (torch_test_models.cc), or their
// stand-ins without it (torch_test_models_stub.cc).
#pragma once

#include <filesystem>

#include "absl/status/status.h"

namespace sonic::testing {

// Writes torch_mlp/1/model.pt and torch_two_io/1/model.pt under `dir` (see test_models.h).
absl::Status WriteTorchModelFiles(const std::filesystem::path& dir);

}  // namespace sonic::testing
