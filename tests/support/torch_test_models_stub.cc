// Without LibTorch no TorchScript model is written or run.
#include "test_models.h"
#include "torch_test_models.h"

namespace sonic::testing {

bool HaveTorchModels() { return false; }

absl::Status WriteTorchModelFiles(const std::filesystem::path&) {
  return absl::UnimplementedError("built without LibTorch");
}

absl::Status WriteTorchScriptModule(const std::filesystem::path&, std::string_view) {
  return absl::UnimplementedError("built without LibTorch");
}

absl::StatusOr<std::vector<float>> RunTorchMlpInProcess(const std::filesystem::path&,
                                                        std::span<const float>) {
  return absl::UnimplementedError("built without LibTorch");
}

}  // namespace sonic::testing
