// The MLP as a TorchScript module written by the pytorch backend's TorchScript writer: weights as
// parameters, forward() compiled from TorchScript source.
#include "torch_mlp.h"

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "backends/pytorch/torchscript_writer.h"

namespace sonic::testing {
namespace {

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
  backends::pytorch::TorchScriptModule module{"TorchMlp", {}, seed, {}};
  for (size_t i = 0; i + 1 < layer_sizes.size(); ++i) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(layer_sizes[i]));
    module.parameters.push_back(
        {absl::StrCat("w", i), {layer_sizes[i], layer_sizes[i + 1]}, bound});
    module.parameters.push_back({absl::StrCat("b", i), {layer_sizes[i + 1]}, bound});
  }
  module.methods = {ForwardSource(layer_sizes.size() - 1)};
  return backends::pytorch::WriteTorchScriptModule(module, file);
}

}  // namespace sonic::testing
