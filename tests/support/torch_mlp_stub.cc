// Without LibTorch no TorchScript MLP can be written.
#include "torch_mlp.h"

namespace sonic::testing {

absl::Status WriteTorchMlp(const std::filesystem::path&, std::vector<int64_t>, uint64_t) {
  return absl::UnimplementedError("built without LibTorch");
}

}  // namespace sonic::testing
