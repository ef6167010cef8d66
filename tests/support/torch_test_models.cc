// The TorchScript test models, built from C++ (no Python needed) and saved as model.pt.
#include "torch_test_models.h"

#include <torch/script.h>

#include <cmath>
#include <cstring>
#include <exception>
#include <string>

#include "absl/strings/str_cat.h"
#include "backends/pytorch/torchscript_writer.h"
#include "sonic/common/status.h"
#include "test_models.h"

namespace sonic::testing {
namespace {

constexpr int64_t kHidden = 32;
constexpr uint64_t kMlpSeed = 20240611;

absl::Status SaveMlp(const std::filesystem::path& file) {
  const double bound1 = 1.0 / std::sqrt(static_cast<double>(kTorchMlpInputSize));
  const double bound2 = 1.0 / std::sqrt(static_cast<double>(kHidden));
  backends::pytorch::TorchScriptModule module{"TorchMlp", {}, kMlpSeed, {}};
  module.parameters = {{"w1", {kTorchMlpInputSize, kHidden}, bound1},
                       {"b1", {kHidden}, bound1},
                       {"w2", {kHidden, kTorchMlpOutputSize}, bound2},
                       {"b2", {kTorchMlpOutputSize}, bound2}};
  module.methods = {R"(
def forward(self, x):
    return torch.relu(x @ self.w1 + self.b1) @ self.w2 + self.b2
)"};
  return backends::pytorch::WriteTorchScriptModule(module, file);
}

template <typename Fn>
absl::Status CatchTorch(std::string_view what, Fn&& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(std::string(what), ": ", e.what()));
  }
}

}  // namespace

bool HaveTorchModels() { return true; }

absl::Status WriteTorchScriptModule(const std::filesystem::path& file, std::string_view source) {
  return backends::pytorch::WriteTorchScriptModule({"TestModule", {}, 0, {std::string(source)}},
                                                   file);
}

absl::Status WriteTorchModelFiles(const std::filesystem::path& dir) {
  SONIC_RETURN_IF_ERROR(SaveMlp(dir / "torch_mlp" / "1" / "model.pt"));
  SONIC_RETURN_IF_ERROR(WriteTorchScriptModule(dir / "torch_two_io" / "1" / "model.pt", R"(
def forward(self, a, b):
    return (a + b, a * b)
)"));
  // x: every request's values one after another; offsets: where each request's values end.
  return WriteTorchScriptModule(dir / "torch_ragged_sum" / "1" / "model.pt", R"(
def forward(self, x, offsets):
    n = offsets.size(0)
    sums = torch.zeros([n, 1], dtype=x.dtype)
    maxs = torch.zeros([n, 1], dtype=x.dtype)
    start = 0
    for i in range(n):
        end = int(offsets[i])
        if end > start:
            part = x[start:end]
            sums[i, 0] = part.sum()
            maxs[i, 0] = part.max()
        start = end
    return (sums, maxs)
)");
}

absl::StatusOr<std::vector<float>> RunTorchMlpInProcess(const std::filesystem::path& repository,
                                                        std::span<const float> input) {
  if (input.empty() || input.size() % kTorchMlpInputSize != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "torch_mlp input has ", input.size(), " floats, not a multiple of ", kTorchMlpInputSize));
  }
  const std::filesystem::path file = repository / "torch_mlp" / "1" / "model.pt";
  std::vector<float> result;
  SONIC_RETURN_IF_ERROR(CatchTorch(absl::StrCat("cannot run ", file.string()), [&] {
    torch::jit::Module module = torch::jit::load(file.string());
    module.eval();
    c10::InferenceMode inference_mode;
    const int64_t batch = static_cast<int64_t>(input.size()) / kTorchMlpInputSize;
    at::Tensor x =
        at::from_blob(const_cast<float*>(input.data()), {batch, kTorchMlpInputSize}, at::kFloat);
    at::Tensor y = module.forward({x}).toTensor().contiguous();
    result.resize(static_cast<size_t>(y.numel()));
    std::memcpy(result.data(), y.data_ptr<float>(), result.size() * sizeof(float));
    return absl::OkStatus();
  }));
  return result;
}

}  // namespace sonic::testing
