#include "backends/pytorch/torchscript_writer.h"

#include <torch/script.h>

#include <random>

#include "absl/strings/str_cat.h"

namespace sonic::backends::pytorch {
namespace {

at::Tensor Uniform(const std::vector<int64_t>& shape, double bound, std::mt19937_64& generator) {
  at::Tensor tensor = at::empty(shape, at::kFloat);
  float* data = tensor.data_ptr<float>();
  for (int64_t i = 0; i < tensor.numel(); ++i) {
    const double unit = static_cast<double>(generator() >> 11) * 0x1.0p-53;
    data[i] = static_cast<float>((2.0 * unit - 1.0) * bound);
  }
  return tensor;
}

std::string Message(const std::exception& e) {
  if (const auto* error = dynamic_cast<const c10::Error*>(&e)) {
    return error->what_without_backtrace();
  }
  return e.what();
}

}  // namespace

absl::Status WriteTorchScriptModule(const TorchScriptModule& module,
                                    const std::filesystem::path& file) {
  torch::jit::Module script(module.name);
  try {
    std::mt19937_64 generator(module.seed);
    for (const TorchScriptParameter& parameter : module.parameters) {
      script.register_parameter(parameter.name,
                                Uniform(parameter.shape, parameter.bound, generator),
                                /*is_buffer=*/false);
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
