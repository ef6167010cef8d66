#include "demonstrator/job/job.h"

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "demonstrator/direct/direct_plugin.h"
#include "demonstrator/events/ttbar_generator.h"
#include "demonstrator/job/module_types.h"
#include "demonstrator/ml/sonic_engine.h"
#include "sonic/common/status.h"
#include "sonic/service/triton_service.h"

namespace sonic::demo {
namespace {

bool RunsModel(const ModuleConfig& module) {
  const ModuleType* type = FindModuleType(module.type);
  return type != nullptr && type->runs_model;
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
  const ModuleType* type = FindModuleType(module.type);
  if (type == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("module '", module.label, "': unknown type '", module.type, "'"));
  }
  SONIC_ASSIGN_OR_RETURN(ProducerFactory make, type->configure(module));
  framework::ModuleDescription description{module.label, std::string(type->category), {}};
  const bool runs_model = type->runs_model;
  description.factory = [module, runs_model, make = std::move(make),
                         &engines](int) -> absl::StatusOr<std::unique_ptr<framework::Module>> {
    std::unique_ptr<InferenceEngine> engine;
    if (runs_model) {
      SONIC_ASSIGN_OR_RETURN(engine, engines.Make(module));
    }
    return make(std::move(engine));
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
      if (!RunsModel(module)) continue;
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
        if (!RunsModel(module)) continue;
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

}  // namespace

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
