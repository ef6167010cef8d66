#include "demonstrator/job/job.h"

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "demonstrator/direct/direct_plugin.h"
#include "demonstrator/events/ttbar_generator.h"
#include "demonstrator/ml/ml_producers.h"
#include "demonstrator/ml/sonic_engine.h"
#include "demonstrator/models/model_shapes.h"
#include "demonstrator/reco/pf_isolation.h"
#include "sonic/common/status.h"
#include "sonic/service/triton_service.h"

namespace sonic::demo {
namespace {

// Per ML module label, per event number: the module's product.
using ProductStore = std::map<std::string, std::map<uint64_t, MlProduct>>;

bool IsMlModule(const ModuleConfig& module) { return module.type != "pf_isolation"; }

std::string ModelOf(const ModuleConfig& module) {
  if (!module.model.empty()) return module.model;
  if (module.type == "particlenet") {
    auto inputs = module.parameters.find("inputs");
    const bool padded = inputs != module.parameters.end() && inputs->second == "padded";
    return std::string(padded ? models::kParticleNetPadded : models::kParticleNetRagged);
  }
  if (module.type == "deepmet") return std::string(models::kDeepMet);
  if (module.type == "deeptau") return std::string(models::kDeepTau);
  return "";
}

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

// Makes the model end of an ML module for one stream.
class EngineFactory {
 public:
  EngineFactory(InferenceMode mode, std::filesystem::path models, service::TritonService* service)
      : mode_(mode), models_(std::move(models)), service_(service) {}

  absl::StatusOr<std::unique_ptr<InferenceEngine>> Make(const ModuleConfig& module) const {
    const std::string model = ModelOf(module);
    if (mode_ == InferenceMode::kDirect) {
      SONIC_ASSIGN_OR_RETURN(const DirectPluginApi* direct, LoadDirectPlugin());
      return direct->create_engine(models_ / model);
    }
    client::TritonClient::Options options = service_->ClientOptions(model);
    options.mode = module.client.mode;
    options.allowed_tries = module.client.allowed_tries;
    options.retry_chain = module.client.retry_chain;
    options.timeout = module.client.timeout_ms;
    options.timeout_unit = client::TimeoutUnit::kMilliseconds;
    options.compression = module.client.compression;
    options.shared_memory = module.client.shared_memory;
    return SonicEngine::Create(options);
  }

 private:
  InferenceMode mode_;
  std::filesystem::path models_;
  service::TritonService* service_;
};

absl::StatusOr<framework::ModuleDescription> Describe(const ModuleConfig& module,
                                                      const EngineFactory& engines) {
  framework::ModuleDescription description{module.label, ModuleCategory(module.type), {}};
  const std::string label = module.label;
  if (module.type == "pf_isolation") {
    int cones = 0;
    if (!absl::SimpleAtoi(Parameter(module, "cones", "10"), &cones) || cones < 1) {
      return BadParameter(module, "cones", "a whole number >= 1");
    }
    description.factory = [label,
                           cones](int) -> absl::StatusOr<std::unique_ptr<framework::Module>> {
      return std::make_unique<PfIsolationProducer>(label, cones);
    };
    return description;
  }
  const std::string type = module.type;
  JetCollection jets = JetCollection::kAk4;
  bool padded = false;
  if (type == "particlenet") {
    const std::string jet_name = Parameter(module, "jets", "ak4");
    if (jet_name != "ak4" && jet_name != "ak8") return BadParameter(module, "jets", "ak4 or ak8");
    jets = jet_name == "ak4" ? JetCollection::kAk4 : JetCollection::kAk8;
    const std::string inputs =
        Parameter(module, "inputs",
                  ModelOf(module).find("padded") != std::string::npos ? "padded" : "ragged");
    if (inputs != "padded" && inputs != "ragged") {
      return BadParameter(module, "inputs", "ragged or padded");
    }
    padded = inputs == "padded";
  }
  if (type == "pf_echo" && module.model.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("module '", module.label, "' (pf_echo) needs a model"));
  }
  const std::string input = Parameter(module, "input", "INPUT0");
  const std::string output = Parameter(module, "output", "OUTPUT0");
  description.factory = [=, &engines](int) -> absl::StatusOr<std::unique_ptr<framework::Module>> {
    SONIC_ASSIGN_OR_RETURN(std::unique_ptr<InferenceEngine> engine, engines.Make(module));
    std::unique_ptr<framework::Module> producer;
    if (type == "particlenet") {
      producer = std::make_unique<ParticleNetProducer>(label, std::move(engine), jets, padded);
    } else if (type == "deepmet") {
      producer = std::make_unique<DeepMetProducer>(label, std::move(engine));
    } else if (type == "deeptau") {
      producer = std::make_unique<DeepTauProducer>(label, std::move(engine));
    } else {
      producer = std::make_unique<PfEchoProducer>(label, std::move(engine), input, output);
    }
    return producer;
  };
  return description;
}

struct Run {
  framework::ProcessorReport report;
  std::vector<std::string> servers;
  std::vector<service::ServerState> server_states;
};

absl::StatusOr<Run> RunOnce(const JobConfig& config, InferenceMode mode, ProductStore* store,
                            const std::function<void(const framework::Progress&)>& on_progress) {
  // Direct inference and the fallback server need the models here; remote servers do not.
  const bool local_models = mode == InferenceMode::kDirect || config.service.fallback.enabled;
  std::error_code error;
  if (local_models && !std::filesystem::is_directory(config.models, error)) {
    return absl::NotFoundError(absl::StrCat("model repository ", config.models.string(),
                                            " not found (write it with `sonic models generate "
                                            "--out ",
                                            config.models.string(), "`)"));
  }
  std::unique_ptr<service::TritonService> service;
  if (mode == InferenceMode::kSonic) {
    SONIC_ASSIGN_OR_RETURN(service, service::TritonService::Create({.config = config.service}));
    for (const ModuleConfig& module : config.modules) {
      if (!IsMlModule(module)) continue;
      SONIC_RETURN_IF_ERROR(
          service->DeclareModel({ModelOf(module), config.models / ModelOf(module), ""}));
    }
  }
  const EngineFactory engines(mode, config.models, service.get());
  const TtbarGenerator generator(config.seed);
  framework::ProcessorOptions options;
  options.events = config.events;
  options.first_event = config.first_event;
  options.threads = config.threads;
  options.streams = config.concurrent_events;
  options.source = [&generator](framework::Event& event) {
    event.put(kEventDataLabel, generator.Generate(event.id()));
    return absl::OkStatus();
  };
  for (const ModuleConfig& module : config.modules) {
    SONIC_ASSIGN_OR_RETURN(framework::ModuleDescription description, Describe(module, engines));
    options.modules.push_back(std::move(description));
  }
  absl::Mutex mu;
  if (store != nullptr) {
    options.on_event_done = [&](framework::Event& event) {
      for (const ModuleConfig& module : config.modules) {
        if (!IsMlModule(module)) continue;
        absl::StatusOr<const MlProduct*> product = event.get<MlProduct>(module.label);
        if (!product.ok()) continue;  // compared as missing
        absl::MutexLock lock(&mu);
        (*store)[module.label][event.id()] = **product;
      }
    };
  }
  options.on_progress = on_progress;
  absl::StatusOr<framework::ProcessorReport> report = framework::RunEvents(options);
  if (!report.ok() && service != nullptr) {
    const std::string logs = service->FallbackLogs();
    if (!logs.empty())
      return Annotate(report.status(), absl::StrCat("fallback server log:\n", logs));
  }
  SONIC_RETURN_IF_ERROR(report.status());
  Run run{*std::move(report), {}, {}};
  if (service != nullptr) {
    run.server_states = service->Servers();
    for (const service::ServerState& server : run.server_states) {
      run.servers.push_back(absl::StrCat(server.name, " ", server.address,
                                         server.fallback ? " (local fallback)" : ""));
    }
  }
  return run;
}

// Adds the comparison of `a` (measured run) and `b` (reference) for one event to `rows`.
void Compare(const std::string& label, const MlProduct& a, const MlProduct* b,
             std::map<std::string, QuantityComparison>& rows) {
  for (const auto& [quantity, objects] : a.quantities) {
    QuantityComparison& row = rows[quantity];
    row.module = label;
    row.objects = a.objects;
    row.quantity = quantity;
    const std::vector<std::vector<float>>* other = nullptr;
    if (b != nullptr) {
      auto it = b->quantities.find(quantity);
      if (it != b->quantities.end()) other = &it->second;
    }
    const size_t count = other == nullptr ? 0 : other->size();
    row.mismatched_objects += std::max(objects.size(), count) - std::min(objects.size(), count);
    for (size_t i = 0; i < std::min(objects.size(), count); ++i) {
      const std::vector<float>& x = objects[i];
      const std::vector<float>& y = (*other)[i];
      ++row.objects_compared;
      if (x.size() != y.size()) {
        ++row.mismatched_objects;
        continue;
      }
      for (size_t v = 0; v < x.size(); ++v) {
        const double scale = std::max({1.0, std::abs(double{x[v]}), std::abs(double{y[v]})});
        const double difference = std::abs(double{x[v]} - double{y[v]}) / scale;
        row.largest_difference =
            std::max(row.largest_difference, std::isnan(difference) ? INFINITY : difference);
        ++row.values_compared;
      }
    }
  }
}

Validation Validate(const ProductStore& measured, const ProductStore& reference,
                    InferenceMode reference_mode, double tolerance, uint64_t events) {
  Validation validation{reference_mode, tolerance, events, {}};
  for (const auto& [label, by_event] : measured) {
    std::map<std::string, QuantityComparison> rows;
    auto ref = reference.find(label);
    for (const auto& [event, product] : by_event) {
      const MlProduct* other = nullptr;
      if (ref != reference.end()) {
        auto it = ref->second.find(event);
        if (it != ref->second.end()) other = &it->second;
      }
      Compare(label, product, other, rows);
    }
    for (auto& [quantity, row] : rows) validation.quantities.push_back(std::move(row));
  }
  return validation;
}

}  // namespace

std::string ModuleCategory(const std::string& type) {
  if (type == "particlenet") return "ParticleNet";
  if (type == "deepmet") return "DeepMET";
  if (type == "deeptau") return "DeepTau";
  if (type == "pf_echo") return "Echo";
  return "other";
}

bool Validation::passed() const {
  for (const QuantityComparison& row : quantities) {
    if (row.mismatched_objects > 0 || !(row.largest_difference <= tolerance)) return false;
  }
  return !quantities.empty();
}

absl::StatusOr<JobResult> RunJob(const JobConfig& config, const JobOptions& options) {
  ProductStore measured;
  SONIC_ASSIGN_OR_RETURN(
      Run run,
      RunOnce(config, config.mode, options.validate ? &measured : nullptr, options.on_progress));
  JobResult result{config.mode,  std::move(run.report),  std::nullopt,
                   std::nullopt, std::move(run.servers), std::move(run.server_states)};
  if (!options.validate) return result;
  const InferenceMode reference_mode =
      config.mode == InferenceMode::kSonic ? InferenceMode::kDirect : InferenceMode::kSonic;
  ProductStore reference;
  SONIC_ASSIGN_OR_RETURN(Run check, RunOnce(config, reference_mode, &reference, nullptr));
  if (check.report.events != result.report.events) {
    return absl::FailedPreconditionError(
        absl::StrCat("the validation run processed ", check.report.events,
                     " events, the measured run ", result.report.events));
  }
  result.validation =
      Validate(measured, reference, reference_mode, options.tolerance, result.report.events);
  result.reference_report = std::move(check.report);
  return result;
}

}  // namespace sonic::demo
