#include "server/core/model_version.h"

#include <fstream>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "server/core/instance_placement.h"
#include "server/repository/model_checksum.h"
#include "server/repository/model_file_paths.h"
#include "sonic/common/status.h"

namespace sonic::server {
namespace {

// One instance where `placement` says; a KIND_AUTO GPU instance the backend refuses with
// FAILED_PRECONDITION (it cannot use GPUs) is made on the CPU instead.
absl::StatusOr<std::unique_ptr<BackendInstance>> CreateInstance(BackendModel& model,
                                                                const InstancePlacement& placement) {
  absl::StatusOr<std::unique_ptr<BackendInstance>> instance =
      BackendInstance::Create(model, placement.name, placement.kind, placement.device_id);
  if (!instance.ok() && placement.cpu_fallback &&
      instance.status().code() == absl::StatusCode::kFailedPrecondition) {
    return BackendInstance::Create(model, placement.name, SONIC_BACKEND_INSTANCE_CPU, -1);
  }
  return instance;
}

}  // namespace

namespace {

// Each output's label file (label_filename, relative to the model directory): one label a line.
absl::StatusOr<std::map<std::string, std::vector<std::string>, std::less<>>> ReadLabels(
    const inference::ModelConfig& config, const std::filesystem::path& model_dir,
    const std::string& context) {
  std::map<std::string, std::vector<std::string>, std::less<>> labels;
  for (const inference::ModelOutput& output : config.output()) {
    if (output.label_filename().empty()) continue;
    const std::filesystem::path path = model_dir / output.label_filename();
    std::error_code error;
    if (!std::filesystem::is_regular_file(path, error)) {  // a FIFO would block the load
      return absl::InvalidArgumentError(absl::StrCat(context, ": label file '", path.string(),
                                                     "' of output '", output.name(),
                                                     "' is not a regular file"));
    }
    std::ifstream file(path);
    if (!file) {
      return absl::InvalidArgumentError(absl::StrCat(context, ": cannot read label file '",
                                                     path.string(), "' of output '",
                                                     output.name(), "'"));
    }
    std::vector<std::string>& lines = labels[output.name()];
    for (std::string line; std::getline(file, line);) lines.push_back(line);
  }
  return labels;
}

}  // namespace

absl::StatusOr<std::shared_ptr<ModelVersion>> ModelVersion::Load(Options options) {
  std::string context = absl::StrCat("model '", options.config.name(), "' version ",
                                     options.version);
  std::shared_ptr<ModelVersion> loaded(
      new ModelVersion(std::move(options.config), options.version));
  const inference::ModelConfig& config = loaded->config_;
  if (IsEnsemble(config)) {
    SONIC_ASSIGN_OR_RETURN(loaded->signature_,
                           ModelSignature::Create(config, options.max_input_elements));
    SONIC_ASSIGN_OR_RETURN(loaded->ensemble_, EnsembleScheduler::Create(
                                                  {.config = &config,
                                                   .version = options.version,
                                                   .stats = &loaded->stats_,
                                                   .clock = options.clock,
                                                   .signature = loaded->signature_.get(),
                                                   .resolve = std::move(options.resolve_model)}));
    return loaded;
  }
  // Placed before the model loads, so a config this machine cannot serve fails at once. These
  // errors, and BackendModel's and BackendInstance's, already name the model and the group or
  // instance.
  SONIC_ASSIGN_OR_RETURN(std::vector<InstancePlacement> placements,
                         PlaceInstances(config, options.gpu_count));
  SONIC_ASSIGN_OR_RETURN(loaded->signature_,
                         ModelSignature::Create(config, options.max_input_elements));
  // Before any file is read: a config (maybe a load request's override) names files only in
  // the model's own directory.
  SONIC_RETURN_IF_ERROR(CheckModelFilesInside(config, options.version_path, context));
  SONIC_RETURN_IF_ERROR(
      VerifyModelChecksums(config, options.version_path.parent_path(), context));
  SONIC_ASSIGN_OR_RETURN(loaded->labels_,
                         ReadLabels(config, options.version_path.parent_path(), context));
  SONIC_ASSIGN_OR_RETURN(loaded->model_,
                         BackendModel::Create(options.backend, config.name(), options.version,
                                              options.version_path, config,
                                              options.backend_settings));
  for (const InstancePlacement& placement : placements) {
    SONIC_ASSIGN_OR_RETURN(auto instance, CreateInstance(*loaded->model_, placement));
    loaded->instances_.push_back(std::move(instance));
  }
  if (loaded->instances_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(context, ": no instance_group instances"));
  }

  std::vector<BackendInstance*> instances;
  for (auto& instance : loaded->instances_) instances.push_back(instance.get());
  Scheduler::Options scheduler_options{&config, options.version, &loaded->stats_, options.clock,
                                       loaded->signature_.get()};
  SONIC_ASSIGN_OR_RETURN(loaded->scheduler_,
                         Scheduler::Create(scheduler_options, std::move(instances)));
  return loaded;
}

const std::vector<std::string>* ModelVersion::labels(std::string_view output) const {
  auto it = labels_.find(output);
  return it == labels_.end() ? nullptr : &it->second;
}

ModelVersion::~ModelVersion() {
  if (scheduler_) scheduler_->Drain();
  if (ensemble_) ensemble_->Drain();
}

}  // namespace sonic::server
