// The in-process half of the demonstrator as a plugin (libsonic_demo_direct.so): direct inference
// (DirectEngine over the server's execution path) and the model generator (LibTorch). The `sonic`
// tool loads it only for what needs it (`sonic run --mode direct`, validation against direct
// inference, `sonic models generate`), so that the client side (perf, scan, plan, run through
// SONIC) links neither LibTorch nor the server core.
//
// The plugin is part of the same build as its users (one compiler, one Abseil): the table passes
// C++ types. A version number guards against a plugin from another build.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "demonstrator/ml/inference_engine.h"
#include "demonstrator/models/model_zoo.h"

namespace sonic::demo {

inline constexpr int kDirectPluginVersion = 2;

struct DirectPluginApi {
  int version = kDirectPluginVersion;
  // DirectEngine::Create: the model in `model_dir` (a Triton model directory) loaded in-process.
  absl::StatusOr<std::unique_ptr<InferenceEngine>> (*create_engine)(
      const std::filesystem::path& model_dir) = nullptr;
  // models::GenerateModels and models::ModelNames (model_zoo.h); null in a build without
  // LibTorch (SONIC_WITH_TORCH=OFF).
  absl::StatusOr<models::GenerateReport> (*generate_models)(
      const std::filesystem::path& out, uint64_t seed,
      const models::GenerateOptions& options) = nullptr;
  std::vector<std::string> (*model_names)() = nullptr;
};

// The plugin's file name, and its default place: the `lib` directory beside the running
// executable's `bin` (the build tree and an installed tree alike).
inline constexpr const char* kDirectPluginFile = "libsonic_demo_direct.so";
std::filesystem::path DefaultDirectPluginPath();

// Loads the plugin once per process (later calls return the same table; it is never unloaded).
// FAILED_PRECONDITION naming the path and the loader's reason when the file is missing, cannot
// load or comes from another build. Thread-safe.
absl::StatusOr<const DirectPluginApi*> LoadDirectPlugin(
    const std::filesystem::path& path = DefaultDirectPluginPath());

}  // namespace sonic::demo

// The plugin's one exported symbol.
extern "C" const sonic::demo::DirectPluginApi* SonicDemoDirectPluginApi();
