// Writing TorchScript modules from C++, without Python: methods given as TorchScript source,
// parameters drawn from a seeded generator, saved as the model.pt that the pytorch backend loads.
// For the demonstrator's model generator and the tests' models. LibTorch stays inside
// torchscript_writer.cc; this header has no LibTorch type.
//
// Thread-compatible (LibTorch's global state aside).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace sonic::backends::pytorch {

// A float parameter with values uniform in [-bound, bound).
struct TorchScriptParameter {
  std::string name;
  std::vector<int64_t> shape;
  double bound = 0;
};

struct TorchScriptModule {
  std::string name;
  // Drawn in this order from one std::mt19937_64 seeded with `seed`, using the top 53 bits of
  // each draw (the same values with any standard library).
  std::vector<TorchScriptParameter> parameters;
  uint64_t seed = 0;
  // TorchScript `def`s, each may call the others and use the parameters as self.<name>.
  std::vector<std::string> methods;
};

// The values WriteTorchScriptModule gives `module`'s parameters, in order, each row-major (for
// writing the same model in another format). Needs no LibTorch.
std::vector<std::vector<float>> DrawParameters(const TorchScriptModule& module);

// Compiles `module` and saves it to `file` (parent folders created). INVALID_ARGUMENT with
// LibTorch's message when a method does not compile; INTERNAL when the file cannot be written.
absl::Status WriteTorchScriptModule(const TorchScriptModule& module,
                                    const std::filesystem::path& file);

}  // namespace sonic::backends::pytorch
