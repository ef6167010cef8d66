// Model lifecycle: which versions of which models are loaded, as an explicit state machine per
// version (LOADING -> READY | UNAVAILABLE; READY -> UNLOADING -> UNAVAILABLE "unloaded"), and
// the only way the request path reaches a model (Get).
//
// A model whose directory or config is broken is UNAVAILABLE with the reason; every other model
// loads and serves. A reload loads the new versions before it drains the old ones, so a model
// that stays in the repository keeps serving throughout.
//
// Thread-safe. Load/Unload/Poll block the caller while models load or drain; Get never blocks on
// a load.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/backend/backend_registry.h"
#include "server/core/model_version.h"
#include "server/repository/model_files_directory.h"
#include "server/repository/model_repository.h"

namespace sonic::server {

enum class ModelState { kUnknown, kLoading, kReady, kUnloading, kUnavailable };

// "UNKNOWN", "LOADING", "READY", "UNLOADING", "UNAVAILABLE": the RepositoryIndex strings.
std::string_view ModelStateName(ModelState state);

enum class ModelControlMode { kNone, kExplicit, kPoll };

struct ModelIndexEntry {
  std::string name;
  std::optional<int64_t> version;  // none for a model-level row (bad config, never loaded)
  std::optional<ModelState> state;  // none: in the repository but never loaded
  std::string reason;
};

class ModelManager {
 public:
  struct Options {
    ModelRepository* repository = nullptr;  // borrowed
    BackendRegistry* backends = nullptr;    // borrowed
    ModelControlMode mode = ModelControlMode::kNone;
    const Clock* clock = &SystemClock::Get();  // borrowed
    // CUDA devices visible to the server (CudaDeviceCount()): where KIND_GPU and KIND_AUTO
    // instances go (see instance_placement.h). 0: every instance on the CPU, KIND_GPU refused.
    int gpu_count = 0;
    // Models LoadAll loads at once (tritonserver's --model-load-thread-count, default 4).
    int load_thread_count = 4;
    // Instances (one worker thread each) one model may have, all its versions together, and all
    // models of the server together. Triton has no such bounds; here a load past either is
    // refused with the reason (--max-instances-per-model, --max-instances).
    uint64_t max_instances_per_model = 64;
    uint64_t max_instances = 512;
    // The largest config.pbtxt (or load request `config` override) read, in bytes; a larger one
    // makes the model UNAVAILABLE naming --max-config-bytes.
    uint64_t max_config_bytes = uint64_t{1} << 20;
    // --model-config-name: each model's configs/<name>.pbtxt, where it has one, instead of its
    // config.pbtxt (LoadModelConfig). Empty: config.pbtxt.
    std::string config_name = {};
    // Elements one input of one request may have, for models whose config does not set its
    // own max_input_elements (model_signature.h; --max-input-elements).
    uint64_t max_input_elements = uint64_t{1} << 26;
  };

  explicit ModelManager(const Options& options) : options_(options) {}
  // Unloads everything (drains in-flight requests).
  ~ModelManager();

  // Loads (or reloads) a model from the repository; `config_json`, when given, replaces its
  // config.pbtxt (the RepositoryModelLoad `config` parameter). OK when at least one version is
  // READY; otherwise the reason (also kept for RepositoryIndex). NOT_FOUND for a model the
  // repository does not have; INVALID_ARGUMENT for more instances than max_instances_per_model;
  // RESOURCE_EXHAUSTED when the server's instances would exceed max_instances. A version that
  // cannot load (bad files, a thread the system refuses) is UNAVAILABLE with its reason.
  // `files` ("<version>/<path>" -> contents, the `file:` load parameters) replace the model's
  // directory, as Triton: the model loads from them (the repository need not have it) and
  // `config_json` is then required (INVALID_ARGUMENT without it). They are kept until the model
  // is next loaded or unloaded. An ensemble first loads its composing models that are not
  // loaded (as Triton), and is UNAVAILABLE with the reason when one cannot serve; it answers
  // UNAVAILABLE (Get, RepositoryIndex) while a composing model it needs is not ready.
  absl::Status Load(const std::string& name, std::optional<std::string> config_json = {},
                    const std::map<std::string, std::string>& files = {});

  // Unloads every version of a model once its in-flight requests have finished. NOT_FOUND when
  // it is neither loaded nor in the repository.
  absl::Status Unload(const std::string& name);

  // Loads every model of the repository (mode none and poll at startup, or `--load-model=*`),
  // up to load_thread_count at once. Per-model failures only mark those models UNAVAILABLE.
  // An ensemble's composing models load before it (and a model an ensemble loaded is not
  // loaded again).
  void LoadAll();

  // Polling: loads new models, reloads changed ones (config or files), unloads removed ones.
  void Poll();

  // Drains and unloads everything; Get answers UNAVAILABLE afterwards.
  void UnloadAll();

  // The version to run a request on: `version` empty = the highest READY version. NOT_FOUND for
  // an unknown model or version, UNAVAILABLE when it exists but is not READY.
  absl::StatusOr<std::shared_ptr<ModelVersion>> Get(std::string_view name,
                                                    std::string_view version = "") const;

  // The READY versions of a model, ascending (for ModelMetadata).
  std::vector<int64_t> ReadyVersions(std::string_view name) const;

  // Every model of the repository and every known version, sorted by name then version.
  std::vector<ModelIndexEntry> Index() const;

  // Triton's strict readiness: true when every model the server has tried to load is READY
  // (a version unloaded on request does not count against it). Models never loaded do not count.
  bool AllModelsReady() const;

  // Every READY version (for ModelStatistics with no model name).
  std::vector<std::shared_ptr<ModelVersion>> ReadyModels() const;

  ModelControlMode mode() const { return options_.mode; }

 private:
  struct VersionSlot {
    ModelState state = ModelState::kUnknown;
    std::string reason;
    std::shared_ptr<ModelVersion> model;
  };
  struct ModelSlot {
    std::map<int64_t, VersionSlot> versions;
    std::optional<ModelState> state;  // model-level: LOADING, or UNAVAILABLE for a bad config
    std::string reason;
    std::string fingerprint;  // of the files last loaded, for Poll
    bool busy = false;        // a load or unload is running; others wait
    std::shared_ptr<ModelFilesDirectory> sent_files;  // the files a load request sent, if any
    // For an ensemble: its steps' models (name, version; -1 the highest ready one).
    std::vector<std::pair<std::string, int64_t>> composing;
  };

  absl::StatusOr<inference::ModelConfig> ReadConfig(const std::string& name,
                                                    const std::filesystem::path& dir,
                                                    const std::optional<std::string>& json) const;
  // The directory to load `name` from: the repository's, or one made of `files`.
  absl::StatusOr<std::filesystem::path> ModelDirectoryFor(
      const std::string& name, const std::optional<std::string>& config_json,
      const std::map<std::string, std::string>& files,
      std::shared_ptr<ModelFilesDirectory>& sent_files) const;
  // Reserves the instances of the versions of `config` that a load from `model_dir` selects,
  // within the options' bounds; the caller returns the reservation to reserved_instances_.
  absl::StatusOr<uint64_t> ReserveInstances(const inference::ModelConfig& config,
                                            const std::filesystem::path& model_dir);
  // Loads the selected versions of `config`; returns the slots to install.
  std::map<int64_t, VersionSlot> LoadVersions(const inference::ModelConfig& config,
                                              const std::filesystem::path& model_dir) const;
  // Puts a load's result in place; returns the versions it displaced, still to be drained. A
  // load with no READY version leaves a serving model as it was.
  std::vector<std::shared_ptr<ModelVersion>> Install(ModelSlot& slot,
                                                     std::map<int64_t, VersionSlot> loaded,
                                                     bool any_ready, const absl::Status& result)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // For an ensemble being loaded (`chain`: it and the ensembles that load it): refuses circular
  // dependencies, loads the composing models not loaded yet, and checks the ensemble against
  // their configs. Triton's reasons ("ensemble 'e' depends on 'm' which has no loaded version").
  absl::Status PrepareEnsemble(const inference::ModelConfig& config,
                               std::vector<std::string> chain);
  // The chain of ensembles from `config` that leads back to one of `chain`, or empty.
  std::string FindEnsembleCycle(const inference::ModelConfig& config,
                                std::vector<std::string>& chain) const;
  // Loads `name` unless it has a ready version or, outside explicit mode, was tried already;
  // first waits for a load or unload of it that runs.
  void EnsureLoaded(const std::string& name, std::vector<std::string> chain);
  absl::Status LoadWithChain(const std::string& name, std::optional<std::string> config_json,
                             const std::map<std::string, std::string>& files,
                             std::vector<std::string> chain);
  // OK when every composing model of the ensemble in `slot` (none for other models) has the
  // ready version it needs, else UNAVAILABLE saying which does not.
  absl::Status ComposingReady(std::string_view name, const ModelSlot& slot, int depth = 0) const
      ABSL_SHARED_LOCKS_REQUIRED(mutex_);
  // Waits until no other load/unload of `name` runs, then marks it busy.
  void Acquire(const std::string& name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Marks versions UNLOADING, drains them outside the lock, then records them unloaded.
  void Retire(const std::string& name, std::vector<std::shared_ptr<ModelVersion>> old);

  const Options options_;
  mutable absl::Mutex mutex_;
  std::map<std::string, ModelSlot, std::less<>> models_ ABSL_GUARDED_BY(mutex_);
  bool shut_down_ ABSL_GUARDED_BY(mutex_) = false;
  // Instances of loads in progress, counted against max_instances with the loaded ones.
  uint64_t reserved_instances_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace sonic::server
