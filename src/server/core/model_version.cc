#include "server/core/model_version.h"

#include "absl/strings/str_cat.h"
#include "sonic/common/status.h"

namespace sonic::server {
namespace {

// CPU instances only for now; GPU instances need a CUDA build of the backend.
absl::StatusOr<SonicBackendInstanceKind> InstanceKind(const inference::ModelInstanceGroup& group) {
  switch (group.kind()) {
    case inference::ModelInstanceGroup::KIND_AUTO:
    case inference::ModelInstanceGroup::KIND_CPU:
      return SONIC_BACKEND_INSTANCE_CPU;
    default:
      return absl::UnimplementedError(
          absl::StrCat("instance_group '", group.name(), "': kind ",
                       inference::ModelInstanceGroup::Kind_Name(group.kind()),
                       " is not supported by this build (CPU only)"));
  }
}

}  // namespace

absl::StatusOr<std::shared_ptr<ModelVersion>> ModelVersion::Load(Options options) {
  std::string context = absl::StrCat("model '", options.config.name(), "' version ",
                                     options.version);
  std::shared_ptr<ModelVersion> loaded(
      new ModelVersion(std::move(options.config), options.version));
  const inference::ModelConfig& config = loaded->config_;
  // BackendModel and BackendInstance errors already name the model, version and instance.
  SONIC_ASSIGN_OR_RETURN(loaded->model_,
                         BackendModel::Create(options.backend, config.name(), options.version,
                                              options.version_path, config));

  for (const auto& group : config.instance_group()) {
    auto kind = InstanceKind(group);
    if (!kind.ok()) return Annotate(kind.status(), context);
    for (int i = 0; i < group.count(); ++i) {
      SONIC_ASSIGN_OR_RETURN(
          auto instance,
          BackendInstance::Create(*loaded->model_, absl::StrCat(group.name(), "_", i), *kind, -1));
      loaded->instances_.push_back(std::move(instance));
    }
  }
  if (loaded->instances_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(context, ": no instance_group instances"));
  }

  std::vector<BackendInstance*> instances;
  for (auto& instance : loaded->instances_) instances.push_back(instance.get());
  Scheduler::Options scheduler_options{&config, options.version, &loaded->stats_, options.clock};
  loaded->scheduler_ = std::make_unique<Scheduler>(scheduler_options, std::move(instances));
  return loaded;
}

ModelVersion::~ModelVersion() {
  if (scheduler_) scheduler_->Drain();
}

}  // namespace sonic::server
