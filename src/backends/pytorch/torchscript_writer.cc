#include "backends/pytorch/torchscript_writer.h"

#include <torch/script.h>

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"

namespace sonic::backends::pytorch {
namespace {

std::string Message(const std::exception& e) {
  if (const auto* error = dynamic_cast<const c10::Error*>(&e)) {
    return error->what_without_backtrace();
  }
  return e.what();
}

}  // namespace

std::vector<std::vector<float>> DrawParameters(const TorchScriptModule& module) {
  std::mt19937_64 generator(module.seed);
  std::vector<std::vector<float>> values;
  for (const TorchScriptParameter& parameter : module.parameters) {
    int64_t count = 1;
    for (int64_t dim : parameter.shape) count *= dim;
    std::vector<float>& data = values.emplace_back(static_cast<size_t>(count));
    for (float& value : data) {
      const double unit = static_cast<double>(generator() >> 11) * 0x1.0p-53;
      value = static_cast<float>((2.0 * unit - 1.0) * parameter.bound);
    }
  }
  return values;
}

absl::Status WriteTorchScriptModule(const TorchScriptModule& module,
                                    const std::filesystem::path& file) {
  torch::jit::Module script(module.name);
  try {
    std::vector<std::vector<float>> values = DrawParameters(module);
    for (size_t i = 0; i < module.parameters.size(); ++i) {
      at::Tensor tensor = at::empty(module.parameters[i].shape, at::kFloat);
      std::copy(values[i].begin(), values[i].end(), tensor.data_ptr<float>());
      script.register_parameter(module.parameters[i].name, tensor, /*is_buffer=*/false);
    }
    for (const std::string& method : module.methods) script.define(method);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("module ", module.name, " does not compile: ", Message(e)));
  }
  std::error_code error;
  std::filesystem::create_directories(file.parent_path(), error);
  try {
    script.save(file.string());
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("cannot save ", file.string(), ": ", Message(e)));
  }
  return absl::OkStatus();
}

}  // namespace sonic::backends::pytorch
