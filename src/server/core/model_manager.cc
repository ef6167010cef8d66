#include "server/core/model_manager.h"

#include <algorithm>
#include <atomic>
#include <set>
#include <system_error>
#include <thread>

#include <google/protobuf/util/json_util.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/core/instance_placement.h"
#include "server/repository/ensemble_config.h"
#include "server/repository/model_config_loader.h"
#include "server/repository/version_policy.h"
#include "sonic/common/status.h"

namespace sonic::server {

std::string_view ModelStateName(ModelState state) {
  switch (state) {
    case ModelState::kLoading:
      return "LOADING";
    case ModelState::kReady:
      return "READY";
    case ModelState::kUnloading:
      return "UNLOADING";
    case ModelState::kUnavailable:
      return "UNAVAILABLE";
    case ModelState::kUnknown:
      break;
  }
  return "UNKNOWN";
}

ModelManager::~ModelManager() { UnloadAll(); }

absl::StatusOr<std::filesystem::path> ModelManager::ModelDirectoryFor(
    const std::string& name, const std::optional<std::string>& config_json,
    const std::map<std::string, std::string>& files,
    std::shared_ptr<ModelFilesDirectory>& sent_files) const {
  absl::StatusOr<std::filesystem::path> dir = options_.repository->ModelDirectory(name);
  if (files.empty()) return dir;
  if (absl::IsInvalidArgument(dir.status())) return dir.status();  // not a model name
  if (!config_json) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model '", name, "': model files in a load request need the 'config' parameter too"));
  }
  SONIC_ASSIGN_OR_RETURN(sent_files, ModelFilesDirectory::Create(name, files));
  return sent_files->path();
}

absl::StatusOr<inference::ModelConfig> ModelManager::ReadConfig(
    const std::string& name, const std::filesystem::path& dir,
    const std::optional<std::string>& json) const {
  if (!json) {
    return LoadModelConfig(dir, kSupportedBackends, options_.max_config_bytes,
                           options_.config_name);
  }
  if (json->size() > options_.max_config_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model '", name, "': the 'config' load parameter has ", json->size(),
        " bytes, more than --max-config-bytes ", options_.max_config_bytes));
  }
  inference::ModelConfig config;
  auto parsed = google::protobuf::util::JsonStringToMessage(*json, &config);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("model '", name,
                                                   "': the 'config' load parameter is not a "
                                                   "ModelConfig in JSON: ", parsed.ToString()));
  }
  if (config.name().empty()) config.set_name(name);
  if (config.name() != name) {
    return absl::InvalidArgumentError(absl::StrCat("model '", name, "': the 'config' parameter "
                                                   "names model '", config.name(), "'"));
  }
  NormalizeModelConfig(config);
  SONIC_RETURN_IF_ERROR(ValidateModelConfig(config));
  return config;
}

std::map<int64_t, ModelManager::VersionSlot> ModelManager::LoadVersions(
    const inference::ModelConfig& config, const std::filesystem::path& model_dir) const {
  std::map<int64_t, VersionSlot> slots;
  // An ensemble runs on its composing models, not on a backend.
  absl::StatusOr<const SonicBackendApi*> backend =
      IsEnsemble(config) ? nullptr : options_.backends->Get(config.backend());
  const BackendSettings settings = options_.backends->SettingsFor(config.backend());
  for (int64_t version :
       SelectVersions(config.version_policy(), ModelRepository::ListVersions(model_dir))) {
    VersionSlot& slot = slots[version];
    absl::StatusOr<std::shared_ptr<ModelVersion>> loaded =
        backend.ok() ? ModelVersion::Load({.config = config,
                                           .version = version,
                                           .version_path = model_dir / std::to_string(version),
                                           .backend = *backend,
                                           .backend_settings = settings,
                                           .clock = options_.clock,
                                           .gpu_count = options_.gpu_count,
                                           .max_input_elements = options_.max_input_elements,
                                           .resolve_model =
                                               [this](const std::string& model, int64_t number) {
                                                 return Get(model, number < 0
                                                                       ? std::string()
                                                                       : std::to_string(number));
                                               }})
                     : backend.status();
    if (loaded.ok()) {
      slot.state = ModelState::kReady;
      slot.model = *std::move(loaded);
    } else {
      slot.state = ModelState::kUnavailable;
      slot.reason = std::string(loaded.status().message());
    }
  }
  return slots;
}

absl::StatusOr<uint64_t> ModelManager::ReserveInstances(const inference::ModelConfig& config,
                                                        const std::filesystem::path& model_dir) {
  const uint64_t versions =
      SelectVersions(config.version_policy(), ModelRepository::ListVersions(model_dir)).size();
  uint64_t wanted = 0;
  if (__builtin_mul_overflow(CountInstances(config, options_.gpu_count), versions, &wanted)) {
    wanted = UINT64_MAX;
  }
  if (wanted > options_.max_instances_per_model) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model '", config.name(), "': instance_group asks for ", wanted, " instances (",
        versions, " version(s)), more than the ", options_.max_instances_per_model,
        " a model may have (--max-instances-per-model)"));
  }
  absl::MutexLock lock(&mutex_);
  uint64_t in_use = reserved_instances_;
  for (const auto& [name, slot] : models_) {
    if (name == config.name()) continue;  // a reload replaces this model's instances
    for (const auto& [version, entry] : slot.versions) {
      if (entry.model) in_use += CountInstances(entry.model->config(), options_.gpu_count);
    }
  }
  if (in_use + wanted > options_.max_instances) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "model '", config.name(), "': its ", wanted, " instances would bring the server to ",
        in_use + wanted, ", more than the ", options_.max_instances,
        " it may run (--max-instances); unload a model first"));
  }
  reserved_instances_ += wanted;
  return wanted;
}

void ModelManager::Acquire(const std::string& name) {
  auto idle = [this, &name]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    auto it = models_.find(name);
    return it == models_.end() || !it->second.busy;
  };
  mutex_.Await(absl::Condition(&idle));
  models_[name].busy = true;
}

absl::Status ModelManager::Load(const std::string& name, std::optional<std::string> config_json,
                                const std::map<std::string, std::string>& files) {
  return LoadWithChain(name, std::move(config_json), files, {});
}

absl::Status ModelManager::LoadWithChain(const std::string& name,
                                         std::optional<std::string> config_json,
                                         const std::map<std::string, std::string>& files,
                                         std::vector<std::string> chain) {
  std::shared_ptr<ModelFilesDirectory> sent_files;
  absl::StatusOr<std::filesystem::path> dir =
      ModelDirectoryFor(name, config_json, files, sent_files);
  if (!files.empty() && !dir.ok()) return dir.status();
  std::string fingerprint =
      files.empty() ? options_.repository->Fingerprint(name).value_or("") : "";
  {
    absl::MutexLock lock(&mutex_);
    if (shut_down_) return absl::UnavailableError("the server is shutting down");
    // A name in several repositories is a model that cannot load: UNAVAILABLE with the reason,
    // as Triton. Other directory errors (no such model, a name that is not one) leave no trace.
    const bool ambiguous = dir.status().code() == absl::StatusCode::kFailedPrecondition;
    if (!dir.ok() && !ambiguous && !models_.contains(name)) return dir.status();
    Acquire(name);
    models_[name].state = ModelState::kLoading;
  }
  absl::StatusOr<inference::ModelConfig> config =
      dir.ok() ? ReadConfig(name, *dir, config_json)
               : absl::StatusOr<inference::ModelConfig>(dir.status());
  std::vector<std::pair<std::string, int64_t>> composing;
  if (config.ok() && IsEnsemble(*config)) {
    for (const auto& step : config->ensemble_scheduling().step()) {
      composing.emplace_back(step.model_name(), step.model_version());
    }
    chain.push_back(name);
    absl::Status prepared = PrepareEnsemble(*config, std::move(chain));
    if (!prepared.ok()) config = prepared;
  }
  absl::StatusOr<uint64_t> reserved =
      config.ok() ? ReserveInstances(*config, *dir) : absl::StatusOr<uint64_t>(0);
  if (!reserved.ok()) config = reserved.status();
  std::map<int64_t, VersionSlot> loaded;
  if (config.ok()) loaded = LoadVersions(*config, *dir);

  absl::Status result = config.status();
  if (config.ok() && loaded.empty()) {
    result = absl::NotFoundError(absl::StrCat("model '", name, "' has no version directory that "
                                              "its version_policy selects"));
  }
  bool any_ready = false;
  for (const auto& [version, slot] : loaded) {
    any_ready |= slot.state == ModelState::kReady;
    if (result.ok() && slot.state != ModelState::kReady) {
      result = absl::UnavailableError(slot.reason);
    }
  }
  if (any_ready) result = absl::OkStatus();

  std::vector<std::shared_ptr<ModelVersion>> old;
  {
    absl::MutexLock lock(&mutex_);
    old = Install(models_[name], std::move(loaded), any_ready, result);
    reserved_instances_ -= reserved.value_or(0);
    models_[name].fingerprint = fingerprint;
    if (any_ready) models_[name].sent_files = std::move(sent_files);
    if (any_ready || !composing.empty()) models_[name].composing = std::move(composing);
  }
  Retire(name, std::move(old));
  return result;
}

std::vector<std::shared_ptr<ModelVersion>> ModelManager::Install(
    ModelSlot& slot, std::map<int64_t, VersionSlot> loaded, bool any_ready,
    const absl::Status& result) {
  std::vector<std::shared_ptr<ModelVersion>> old;
  bool serving = false;
  for (const auto& [version, entry] : slot.versions) serving |= entry.model != nullptr;
  slot.state.reset();
  slot.reason.clear();
  if (!any_ready && (serving || loaded.empty())) {
    // Nothing new can serve: keep what serves now and say why the load failed.
    slot.state = ModelState::kUnavailable;
    slot.reason = std::string(result.message());
    return old;
  }
  for (auto& [version, entry] : slot.versions) {
    if (entry.model) old.push_back(std::move(entry.model));
  }
  slot.versions = std::move(loaded);
  for (const auto& retired : old) {
    slot.versions.try_emplace(retired->version(), VersionSlot{ModelState::kUnloading, "", nullptr});
  }
  return old;
}

void ModelManager::Retire(const std::string& name,
                          std::vector<std::shared_ptr<ModelVersion>> old) {
  for (auto& version : old) version->Drain();
  absl::MutexLock lock(&mutex_);
  ModelSlot& slot = models_[name];
  for (auto& version : old) {
    auto it = slot.versions.find(version->version());
    if (it != slot.versions.end() && it->second.state == ModelState::kUnloading) {
      it->second = VersionSlot{ModelState::kUnavailable, "unloaded", nullptr};
    }
  }
  slot.busy = false;
}

absl::Status ModelManager::Unload(const std::string& name) {
  std::vector<std::shared_ptr<ModelVersion>> old;
  {
    absl::MutexLock lock(&mutex_);
    if (!models_.contains(name)) {
      SONIC_RETURN_IF_ERROR(options_.repository->ModelDirectory(name).status());
    }
    Acquire(name);
    ModelSlot& slot = models_[name];
    for (auto& [version, entry] : slot.versions) {
      if (!entry.model) continue;
      entry.state = ModelState::kUnloading;
      old.push_back(std::move(entry.model));
    }
    slot.fingerprint.clear();
    slot.sent_files.reset();
    // Why an earlier load failed no longer applies: the model is now simply unloaded.
    slot.state.reset();
    slot.reason.clear();
  }
  Retire(name, std::move(old));
  return absl::OkStatus();
}

bool ModelManager::AllModelsReady() const {
  absl::MutexLock lock(&mutex_);
  for (const auto& [name, slot] : models_) {
    if (slot.state == ModelState::kLoading) return false;
    bool any_ready = false;
    for (const auto& [version, version_slot] : slot.versions) {
      if (version_slot.state == ModelState::kReady) {
        any_ready = true;
      } else if (version_slot.reason != "unloaded") {
        return false;  // loading, unloading, or a version that failed to load
      }
    }
    // A failed reload that left the previous versions serving does not make the server unready.
    if (slot.state == ModelState::kUnavailable && !any_ready) return false;
  }
  return true;
}

std::string ModelManager::FindEnsembleCycle(const inference::ModelConfig& config,
                                            std::vector<std::string>& chain) const {
  for (const auto& step : config.ensemble_scheduling().step()) {
    const std::string& model = step.model_name();
    if (std::find(chain.begin(), chain.end(), model) != chain.end()) {
      std::string cycle;
      for (auto it = std::find(chain.begin(), chain.end(), model); it != chain.end(); ++it) {
        absl::StrAppend(&cycle, "'", *it, "' -> ");
      }
      return absl::StrCat(cycle, "'", model, "'");
    }
    absl::StatusOr<std::filesystem::path> dir = options_.repository->ModelDirectory(model);
    if (!dir.ok()) continue;
    absl::StatusOr<inference::ModelConfig> composing = ReadConfig(model, *dir, std::nullopt);
    if (!composing.ok() || !IsEnsemble(*composing)) continue;
    chain.push_back(model);
    std::string cycle = FindEnsembleCycle(*composing, chain);
    chain.pop_back();
    if (!cycle.empty()) return cycle;
  }
  return "";
}

void ModelManager::EnsureLoaded(const std::string& name, std::vector<std::string> chain) {
  {
    absl::MutexLock lock(&mutex_);
    auto idle = [this, &name]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
      auto it = models_.find(name);
      return shut_down_ || it == models_.end() || !it->second.busy;
    };
    mutex_.Await(absl::Condition(&idle));
    auto it = models_.find(name);
    if (shut_down_) return;
    if (it != models_.end()) {
      const ModelSlot& slot = it->second;
      const bool ready = std::any_of(slot.versions.begin(), slot.versions.end(), [](const auto& v) {
        return v.second.state == ModelState::kReady;
      });
      // Explicit mode loads what is not serving, as Triton does for an ensemble's composing
      // models; otherwise a model already tried (LoadAll, Poll) is left as it is.
      const bool tried = !slot.versions.empty() || slot.state;
      if (ready || (tried && options_.mode != ModelControlMode::kExplicit)) return;
    }
  }
  LoadWithChain(name, std::nullopt, {}, std::move(chain)).IgnoreError();  // kept for the index
}

absl::Status ModelManager::PrepareEnsemble(const inference::ModelConfig& config,
                                           std::vector<std::string> chain) {
  const std::string& name = config.name();
  std::string cycle = FindEnsembleCycle(config, chain);
  if (!cycle.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ensemble '", name, "' has a circular dependency: ", cycle));
  }
  std::set<std::string> loaded;
  for (const auto& step : config.ensemble_scheduling().step()) {
    if (loaded.insert(step.model_name()).second) EnsureLoaded(step.model_name(), chain);
  }
  SONIC_ASSIGN_OR_RETURN(EnsembleGraph graph, BuildEnsembleGraph(config));
  std::vector<std::shared_ptr<ModelVersion>> models;
  std::vector<const inference::ModelConfig*> configs;
  for (const EnsembleGraph::Step& step : graph.steps) {
    absl::StatusOr<std::shared_ptr<ModelVersion>> model =
        Get(step.model_name,
            step.model_version < 0 ? std::string() : std::to_string(step.model_version));
    if (!model.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ensemble '", name, "' depends on '", step.model_name, "' which has no loaded version",
          step.model_version < 0 ? "" : absl::StrCat(" ", step.model_version), ": ",
          model.status().message()));
    }
    configs.push_back(&(*model)->config());
    models.push_back(*std::move(model));
  }
  return ValidateComposingModels(config, graph, configs);
}

absl::Status ModelManager::ComposingReady(std::string_view name, const ModelSlot& slot,
                                          int depth) const {
  // Deeper than any sane nesting: the configs changed into a cycle since they were checked.
  constexpr int kMaxEnsembleDepth = 16;
  for (const auto& [model, version] : slot.composing) {
    auto it = models_.find(model);
    const ModelSlot* composing = it == models_.end() ? nullptr : &it->second;
    bool ready = false;
    if (composing != nullptr) {
      for (const auto& [number, entry] : composing->versions) {
        ready |= entry.state == ModelState::kReady && (version < 0 || number == version);
      }
    }
    if (ready && depth < kMaxEnsembleDepth) {
      absl::Status nested = ComposingReady(model, *composing, depth + 1);
      if (nested.ok()) continue;
    }
    return absl::UnavailableError(absl::StrCat(
        "ensemble '", ToAbsl(name), "' depends on '", model, "' which has no ",
        version < 0 ? std::string("ready version") : absl::StrCat("ready version ", version)));
  }
  return absl::OkStatus();
}

void ModelManager::LoadAll() {
  const std::vector<std::string> names = options_.repository->ListModels();
  std::atomic<size_t> next{0};
  auto load_some = [&] {
    for (size_t i = next++; i < names.size(); i = next++) {
      EnsureLoaded(names[i], {});  // the reason is kept for RepositoryIndex
    }
  };
  const size_t threads =
      std::min<size_t>(names.size(), static_cast<size_t>(std::max(options_.load_thread_count, 1)));
  std::vector<std::thread> loaders;
  try {
    for (size_t t = 1; t < threads; ++t) loaders.emplace_back(load_some);
  } catch (const std::system_error&) {
    // Fewer loaders than asked: the ones running (and this thread) share the list.
  }
  load_some();
  for (std::thread& loader : loaders) loader.join();
}

void ModelManager::Poll() {
  std::vector<std::string> present = options_.repository->ListModels();
  for (const std::string& name : present) {
    std::string fingerprint = options_.repository->Fingerprint(name).value_or("");
    bool changed;
    {
      absl::MutexLock lock(&mutex_);
      auto it = models_.find(name);
      changed = it == models_.end() || it->second.fingerprint != fingerprint;
      // An ensemble that could not load for want of a composing model tries again.
      changed |= it != models_.end() && !it->second.composing.empty() &&
                 std::none_of(it->second.versions.begin(), it->second.versions.end(),
                              [](const auto& v) { return v.second.state == ModelState::kReady; });
    }
    if (changed) Load(name).IgnoreError();  // the reason is kept for RepositoryIndex
  }
  std::vector<std::string> gone;
  {
    absl::MutexLock lock(&mutex_);
    for (const auto& [name, slot] : models_) {
      if (!std::binary_search(present.begin(), present.end(), name)) gone.push_back(name);
    }
  }
  for (const std::string& name : gone) {
    Unload(name).IgnoreError();
    absl::MutexLock lock(&mutex_);
    if (!models_[name].busy) models_.erase(name);
  }
}

void ModelManager::UnloadAll() {
  std::vector<std::string> names;
  {
    absl::MutexLock lock(&mutex_);
    shut_down_ = true;
    for (const auto& [name, slot] : models_) names.push_back(name);
  }
  for (const std::string& name : names) Unload(name).IgnoreError();
}

absl::StatusOr<std::shared_ptr<ModelVersion>> ModelManager::Get(std::string_view name,
                                                                std::string_view version) const {
  // Every request looks its model up: no copy of the names, and lookups never wait for each other.
  absl::ReaderMutexLock lock(&mutex_);
  auto it = models_.find(name);
  if (it == models_.end() || (it->second.versions.empty() && !it->second.state)) {
    // Triton's words, which clients (Triton's own examples among them) look for.
    return absl::NotFoundError(absl::StrCat("Request for unknown model: '", Quoted(name),
                                            "' is not found"));
  }
  const auto& versions = it->second.versions;
  if (version.empty()) {
    for (auto v = versions.rbegin(); v != versions.rend(); ++v) {
      if (v->second.state != ModelState::kReady) continue;
      SONIC_RETURN_IF_ERROR(ComposingReady(name, it->second));
      return v->second.model;
    }
    std::string reason = it->second.reason;
    if (reason.empty() && !versions.empty()) reason = versions.rbegin()->second.reason;
    return absl::UnavailableError(absl::StrCat("model '", ToAbsl(name), "' has no ready version",
                                               reason.empty() ? "" : ": ", reason));
  }
  int64_t number = 0;
  if (!absl::SimpleAtoi(ToAbsl(version), &number)) {
    return absl::InvalidArgumentError(absl::StrCat("model '", ToAbsl(name), "': version '",
                                                   Quoted(version), "' is not a number"));
  }
  auto v = versions.find(number);
  if (v == versions.end()) {
    return absl::NotFoundError(absl::StrCat("Request for unknown model: '", Quoted(name),
                                            "' version ", number, " is not found"));
  }
  if (v->second.state != ModelState::kReady) {
    return absl::UnavailableError(absl::StrCat("model '", ToAbsl(name), "' version ", number,
                                               " is ", std::string(ModelStateName(v->second.state)),
                                               v->second.reason.empty() ? "" : ": ",
                                               v->second.reason));
  }
  SONIC_RETURN_IF_ERROR(ComposingReady(name, it->second));
  return v->second.model;
}

std::vector<int64_t> ModelManager::ReadyVersions(std::string_view name) const {
  std::vector<int64_t> ready;
  absl::MutexLock lock(&mutex_);
  auto it = models_.find(name);
  if (it == models_.end()) return ready;
  for (const auto& [version, slot] : it->second.versions) {
    if (slot.state == ModelState::kReady) ready.push_back(version);
  }
  return ready;
}

std::vector<ModelIndexEntry> ModelManager::Index() const {
  std::vector<std::string> present = options_.repository->ListModels();
  std::vector<ModelIndexEntry> index;
  absl::MutexLock lock(&mutex_);
  for (const auto& [name, slot] : models_) {
    if (slot.state) index.push_back({name, std::nullopt, slot.state, slot.reason});
    const absl::Status composing = ComposingReady(name, slot);
    for (const auto& [version, entry] : slot.versions) {
      if (entry.state == ModelState::kReady && !composing.ok()) {
        index.push_back({name, version, ModelState::kUnavailable, std::string(composing.message())});
      } else {
        index.push_back({name, version, entry.state, entry.reason});
      }
    }
  }
  for (const std::string& name : present) {
    if (!models_.contains(name)) index.push_back({name, std::nullopt, std::nullopt, ""});
  }
  std::sort(index.begin(), index.end(), [](const ModelIndexEntry& a, const ModelIndexEntry& b) {
    return std::tie(a.name, a.version) < std::tie(b.name, b.version);
  });
  return index;
}

std::vector<std::shared_ptr<ModelVersion>> ModelManager::ReadyModels() const {
  std::vector<std::shared_ptr<ModelVersion>> ready;
  absl::MutexLock lock(&mutex_);
  for (const auto& [name, slot] : models_) {
    for (const auto& [version, entry] : slot.versions) {
      if (entry.state == ModelState::kReady) ready.push_back(entry.model);
    }
  }
  return ready;
}

}  // namespace sonic::server
