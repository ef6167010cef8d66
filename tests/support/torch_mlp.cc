// The MLP is built as a torch::jit::Module with its weights registered as parameters and its
// forward() compiled from TorchScript source, as torch_test_models.cc builds torch_mlp.
#include "torch_mlp.h"

#include <torch/script.h>

#include <cmath>
#include <exception>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"

namespace sonic::testing {
namespace {

// Uniform in [-bound, bound), from the top 53 bits of the generator (std::uniform_real_distribution
// differs between standard libraries; this does not).
at::Tensor UniformTensor(std::vector<int64_t> shape, double bound, std::mt19937_64& generator) {
  at::Tensor tensor = at::empty(shape, at::kFloat);
  float* data = tensor.data_ptr<float>();
  for (int64_t i = 0; i < tensor.numel(); ++i) {
    const double unit = static_cast<double>(generator() >> 11) * 0x1.0p-53;
    data[i] = static_cast<float>((2.0 * unit - 1.0) * bound);
  }
  return tensor;
}

// forward() for `layers` layers: addmm (what nn.Linear runs) with ReLU between layers.
std::string ForwardSource(size_t layers) {
  std::string source = "def forward(self, x):\n";
  for (size_t i = 0; i < layers; ++i) {
    const std::string linear = absl::StrCat("torch.addmm(self.b", i, ", x, self.w", i, ")");
    if (i + 1 < layers) {
      absl::StrAppend(&source, "    x = torch.relu(", linear, ")\n");
    } else {
      absl::StrAppend(&source, "    return ", linear, "\n");
    }
  }
  return source;
}

}  // namespace

absl::Status WriteTorchMlp(const std::filesystem::path& file, std::vector<int64_t> layer_sizes,
                           uint64_t seed) {
  if (layer_sizes.size() < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("an MLP needs at least two layer sizes, got ", layer_sizes.size()));
  }
  for (int64_t size : layer_sizes) {
    if (size <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("MLP layer sizes must be positive, got ", size));
    }
  }
  std::error_code error;
  std::filesystem::create_directories(file.parent_path(), error);
  try {
    std::mt19937_64 generator(seed);
    torch::jit::Module module("TorchMlp");
    for (size_t i = 0; i + 1 < layer_sizes.size(); ++i) {
      const double bound = 1.0 / std::sqrt(static_cast<double>(layer_sizes[i]));
      module.register_parameter(
          absl::StrCat("w", i),
          UniformTensor({layer_sizes[i], layer_sizes[i + 1]}, bound, generator), false);
      module.register_parameter(absl::StrCat("b", i),
                                UniformTensor({layer_sizes[i + 1]}, bound, generator), false);
    }
    module.define(ForwardSource(layer_sizes.size() - 1));
    module.save(file.string());
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("cannot write the MLP ", file.string(), ": ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace sonic::testing
