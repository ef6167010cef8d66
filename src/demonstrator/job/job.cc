#include "demonstrator/job/job.h"

#include <atomic>
#include <memory>

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

// The calls and entries of one ML module over all its streams' engines.
struct CallCounter {
  std::atomic<int64_t> calls{0};
  std::atomic<int64_t> entries{0};
};

// An engine that counts the successful calls of the one it wraps and their entries.
class CountingEngine final : public InferenceEngine {
 public:
  CountingEngine(std::unique_ptr<InferenceEngine> engine, std::shared_ptr<CallCounter> counter)
      : engine_(std::move(engine)), counter_(std::move(counter)) {}

  const std::string& modelName() const override { return engine_->modelName(); }
  absl::Status setInput(const NamedInput& input) override {
    entries_ = static_cast<int64_t>(input.shapes.size());
    return engine_->setInput(input);
  }
  void infer(std::function<void(absl::Status)> done) override {
    engine_->infer(
        [counter = counter_, entries = entries_, done = std::move(done)](absl::Status status) {
          if (status.ok()) {
            counter->calls.fetch_add(1, std::memory_order_relaxed);
            counter->entries.fetch_add(entries, std::memory_order_relaxed);
          }
          done(std::move(status));
        });
  }
  absl::StatusOr<FloatOutput> output(std::string_view name) const override {
    return engine_->output(name);
  }
  void reset() override {
    entries_ = 0;
    engine_->reset();
  }

 private:
  std::unique_ptr<InferenceEngine> engine_;
  std::shared_ptr<CallCounter> counter_;
  int64_t entries_ = 0;
};

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
                                                      const EngineFactory& engines,
                                                      std::shared_ptr<CallCounter> counter) {
  const ModuleType* type = FindModuleType(module.type);
  if (type == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("module '", module.label, "': unknown type '", module.type, "'"));
  }
  SONIC_ASSIGN_OR_RETURN(ProducerFactory make, type->configure(module));
  framework::ModuleDescription description{module.label, std::string(type->category), {}};
  const bool runs_model = type->runs_model;
  description.factory = [module, runs_model, make = std::move(make), &engines,
                         counter](int) -> absl::StatusOr<std::unique_ptr<framework::Module>> {
    std::unique_ptr<InferenceEngine> engine;
    if (runs_model) {
      SONIC_ASSIGN_OR_RETURN(engine, engines.Make(module));
      engine = std::make_unique<CountingEngine>(std::move(engine), counter);
    }
    return make(std::move(engine));
  };
  return description;
}

struct Run {
  framework::ProcessorReport report;
  std::vector<std::string> servers;
  std::vector<service::ServerState> server_states;
  std::vector<ModelCallCount> model_calls;
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
  std::vector<std::shared_ptr<CallCounter>> counters;
  for (const ModuleConfig& module : config.modules) {
    counters.push_back(std::make_shared<CallCounter>());
    SONIC_ASSIGN_OR_RETURN(framework::ModuleDescription description,
                           Describe(module, engines, counters.back()));
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
  Run run{*std::move(report), {}, {}, {}};
  for (size_t i = 0; i < config.modules.size(); ++i) {
    if (!RunsModel(config.modules[i])) continue;
    run.model_calls.push_back({config.modules[i].label, ModelOf(config.modules[i]),
                               counters[i]->calls.load(), counters[i]->entries.load()});
  }
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
  JobResult result{config.mode,
                   std::move(run.report),
                   std::nullopt,
                   std::nullopt,
                   std::move(run.servers),
                   std::move(run.server_states),
                   std::move(run.model_calls)};
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
