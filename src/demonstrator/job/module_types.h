// The module types a job configures, in one table: the parameters each takes, whether it runs a
// model and which one by default, its report category, and how its producer is made. The config
// parser (job_config.cc) and the job (job.cc) read it; a new module type is one entry here.
// Thread-safe (the table is immutable).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "demonstrator/job/job_config.h"
#include "demonstrator/ml/inference_engine.h"
#include "sonic/framework/module.h"

namespace sonic::demo {

// Makes a module's producer for one stream, given the stream's engine for its model (null for a
// module type that runs none).
using ProducerFactory = std::function<absl::StatusOr<std::unique_ptr<framework::Module>>(
    std::unique_ptr<InferenceEngine> engine)>;

struct ModuleType {
  std::string_view name;      // the config's `type`
  std::string_view category;  // in the report: "ParticleNet", "DeepMET", "DeepTau", "Echo", ...
  // Keys it takes besides type and label (and model and client, for a type that runs a model).
  std::vector<std::string> parameters;
  bool runs_model = true;
  // The model of `module` when its config names none; "" when the config must name one.
  std::string (*default_model)(const ModuleConfig& module) = nullptr;
  // Checks `module`'s parameters (INVALID_ARGUMENT naming the bad one) and returns the factory
  // of its producers.
  absl::StatusOr<ProducerFactory> (*configure)(const ModuleConfig& module) = nullptr;
};

// Every known module type, sorted by name.
const std::vector<ModuleType>& ModuleTypes();

// The type named `name`; null when there is none.
const ModuleType* FindModuleType(std::string_view name);

// The model `module` runs: its config's `model`, else its type's default ("" for a type that
// runs none, or an unknown type).
std::string ModelOf(const ModuleConfig& module);

}  // namespace sonic::demo
