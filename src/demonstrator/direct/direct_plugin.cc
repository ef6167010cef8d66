// libsonic_demo_direct.so's table (direct_plugin.h).
#include "demonstrator/direct/direct_plugin.h"

#include "demonstrator/ml/direct_engine.h"
#ifdef SONIC_DEMO_WITH_MODEL_ZOO
#include "demonstrator/models/model_zoo.h"
#endif

namespace {

absl::StatusOr<std::unique_ptr<sonic::demo::InferenceEngine>> CreateEngine(
    const std::filesystem::path& model_dir) {
  absl::StatusOr<std::unique_ptr<sonic::demo::DirectEngine>> engine =
      sonic::demo::DirectEngine::Create(model_dir);
  if (!engine.ok()) return engine.status();
  return std::unique_ptr<sonic::demo::InferenceEngine>(*std::move(engine));
}

sonic::demo::DirectPluginApi MakeApi() {
  sonic::demo::DirectPluginApi api;
  api.create_engine = &CreateEngine;
#ifdef SONIC_DEMO_WITH_MODEL_ZOO
  api.generate_models = static_cast<absl::StatusOr<sonic::demo::models::GenerateReport> (*)(
      const std::filesystem::path&, uint64_t, const sonic::demo::models::GenerateOptions&)>(
      &sonic::demo::models::GenerateModels);
  api.model_names = &sonic::demo::models::ModelNames;
#endif
  return api;
}

}  // namespace

extern "C" __attribute__((visibility("default"))) const sonic::demo::DirectPluginApi*
SonicDemoDirectPluginApi() {
  static const sonic::demo::DirectPluginApi api = MakeApi();
  return &api;
}
