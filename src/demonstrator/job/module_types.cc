#include "demonstrator/job/module_types.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "demonstrator/ml/ml_producers.h"
#include "demonstrator/models/model_shapes.h"
#include "demonstrator/reco/pf_isolation.h"

namespace sonic::demo {
namespace {

std::string Parameter(const ModuleConfig& module, const std::string& key,
                      const std::string& fallback) {
  auto it = module.parameters.find(key);
  return it == module.parameters.end() ? fallback : it->second;
}

absl::Status BadParameter(const ModuleConfig& module, const std::string& key,
                          std::string_view expected) {
  return absl::InvalidArgumentError(absl::StrCat("module '", module.label, "': ", key, " '",
                                                 Parameter(module, key, ""), "' is not ",
                                                 std::string(expected)));
}

// A factory of producers of type P made from the label and the engine alone.
template <typename P>
absl::StatusOr<ProducerFactory> EngineOnly(const ModuleConfig& module) {
  return [label = module.label](std::unique_ptr<InferenceEngine> engine)
             -> absl::StatusOr<std::unique_ptr<framework::Module>> {
    return std::make_unique<P>(label, std::move(engine));
  };
}

std::string ParticleNetModel(const ModuleConfig& module) {
  const bool padded = Parameter(module, "inputs", "") == "padded";
  return std::string(padded ? models::kParticleNetPadded : models::kParticleNetRagged);
}

absl::StatusOr<ProducerFactory> ConfigureParticleNet(const ModuleConfig& module) {
  const std::string jet_name = Parameter(module, "jets", "ak4");
  if (jet_name != "ak4" && jet_name != "ak8") return BadParameter(module, "jets", "ak4 or ak8");
  const JetCollection jets = jet_name == "ak4" ? JetCollection::kAk4 : JetCollection::kAk8;
  const std::string inputs = Parameter(
      module, "inputs", ModelOf(module).find("padded") != std::string::npos ? "padded" : "ragged");
  if (inputs != "padded" && inputs != "ragged") {
    return BadParameter(module, "inputs", "ragged or padded");
  }
  return [label = module.label, jets,
          padded = inputs == "padded"](std::unique_ptr<InferenceEngine> engine)
             -> absl::StatusOr<std::unique_ptr<framework::Module>> {
    return std::make_unique<ParticleNetProducer>(label, std::move(engine), jets, padded);
  };
}

absl::StatusOr<ProducerFactory> ConfigurePfEcho(const ModuleConfig& module) {
  if (module.model.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("module '", module.label, "' (pf_echo) needs a model"));
  }
  return [label = module.label, input = Parameter(module, "input", "INPUT0"),
          output = Parameter(module, "output", "OUTPUT0")](std::unique_ptr<InferenceEngine> engine)
             -> absl::StatusOr<std::unique_ptr<framework::Module>> {
    return std::make_unique<PfEchoProducer>(label, std::move(engine), input, output);
  };
}

absl::StatusOr<ProducerFactory> ConfigurePfIsolation(const ModuleConfig& module) {
  int cones = 0;
  if (!absl::SimpleAtoi(Parameter(module, "cones", "10"), &cones) || cones < 1) {
    return BadParameter(module, "cones", "a whole number >= 1");
  }
  return
      [label = module.label, cones](
          std::unique_ptr<InferenceEngine>) -> absl::StatusOr<std::unique_ptr<framework::Module>> {
        return std::make_unique<PfIsolationProducer>(label, cones);
      };
}

}  // namespace

const std::vector<ModuleType>& ModuleTypes() {
  static const std::vector<ModuleType> types = {
      {.name = "deepmet",
       .category = "DeepMET",
       .parameters = {},
       .runs_model = true,
       .default_model = [](const ModuleConfig&) { return std::string(models::kDeepMet); },
       .configure = EngineOnly<DeepMetProducer>},
      {.name = "deeptau",
       .category = "DeepTau",
       .parameters = {},
       .runs_model = true,
       .default_model = [](const ModuleConfig&) { return std::string(models::kDeepTau); },
       .configure = EngineOnly<DeepTauProducer>},
      {.name = "particlenet",
       .category = "ParticleNet",
       .parameters = {"inputs", "jets"},
       .runs_model = true,
       .default_model = ParticleNetModel,
       .configure = ConfigureParticleNet},
      {.name = "pf_echo",
       .category = "Echo",
       .parameters = {"input", "output"},
       .runs_model = true,
       .default_model = [](const ModuleConfig&) { return std::string(); },
       .configure = ConfigurePfEcho},
      {.name = "pf_isolation",
       .category = "other",
       .parameters = {"cones"},
       .runs_model = false,
       .default_model = [](const ModuleConfig&) { return std::string(); },
       .configure = ConfigurePfIsolation},
  };
  return types;
}

const ModuleType* FindModuleType(std::string_view name) {
  const std::vector<ModuleType>& types = ModuleTypes();
  auto it = std::find_if(types.begin(), types.end(),
                         [name](const ModuleType& type) { return type.name == name; });
  return it == types.end() ? nullptr : &*it;
}

std::string ModelOf(const ModuleConfig& module) {
  if (!module.model.empty()) return module.model;
  const ModuleType* type = FindModuleType(module.type);
  return type == nullptr ? std::string() : type->default_model(module);
}

}  // namespace sonic::demo
