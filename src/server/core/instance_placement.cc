#include "server/core/instance_placement.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace sonic::server {
namespace {

using inference::ModelInstanceGroup;

std::string GroupContext(const inference::ModelConfig& config, const ModelInstanceGroup& group) {
  return absl::StrCat("model '", config.name(), "' instance_group '", group.name(), "'");
}

// The GPUs a GPU group runs on: its list, each checked, or every visible one.
absl::StatusOr<std::vector<int32_t>> GroupGpus(const inference::ModelConfig& config,
                                               const ModelInstanceGroup& group, int gpu_count) {
  if (gpu_count <= 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        GroupContext(config, group),
        ": kind KIND_GPU but no CUDA device is visible to this server (no GPU, no driver, or a "
        "build without CUDA); use KIND_CPU or KIND_AUTO"));
  }
  std::vector<int32_t> gpus(group.gpus().begin(), group.gpus().end());
  for (int32_t gpu : gpus) {
    if (gpu < 0 || gpu >= gpu_count) {
      return absl::InvalidArgumentError(absl::StrCat(GroupContext(config, group), ": GPU ", gpu,
                                                     " does not exist; this server sees ",
                                                     gpu_count, " GPU(s), 0..", gpu_count - 1));
    }
  }
  if (gpus.empty()) {
    for (int32_t gpu = 0; gpu < gpu_count; ++gpu) gpus.push_back(gpu);
  }
  return gpus;
}

}  // namespace

absl::StatusOr<std::vector<InstancePlacement>> PlaceInstances(const inference::ModelConfig& config,
                                                              int gpu_count) {
  std::vector<InstancePlacement> placements;
  for (const ModelInstanceGroup& group : config.instance_group()) {
    const bool automatic = group.kind() == ModelInstanceGroup::KIND_AUTO;
    int k = 0;
    if (group.kind() == ModelInstanceGroup::KIND_CPU || (automatic && gpu_count <= 0)) {
      for (int i = 0; i < group.count(); ++i) {
        placements.push_back({absl::StrCat(group.name(), "_", k++), SONIC_BACKEND_INSTANCE_CPU,
                              -1, false});
      }
      continue;
    }
    if (!automatic && group.kind() != ModelInstanceGroup::KIND_GPU) {
      return absl::UnimplementedError(absl::StrCat(GroupContext(config, group), ": kind ",
                                                   ModelInstanceGroup::Kind_Name(group.kind()),
                                                   " is not supported"));
    }
    absl::StatusOr<std::vector<int32_t>> gpus = GroupGpus(config, group, gpu_count);
    if (!gpus.ok()) return gpus.status();
    for (int32_t gpu : *gpus) {
      for (int i = 0; i < group.count(); ++i) {
        placements.push_back({absl::StrCat(group.name(), "_", k++), SONIC_BACKEND_INSTANCE_GPU,
                              gpu, automatic});
      }
    }
  }
  return placements;
}

uint64_t CountInstances(const inference::ModelConfig& config, int gpu_count) {
  uint64_t total = 0;
  for (const ModelInstanceGroup& group : config.instance_group()) {
    const bool on_gpus = group.kind() == ModelInstanceGroup::KIND_GPU ||
                         (group.kind() == ModelInstanceGroup::KIND_AUTO && gpu_count > 0);
    const uint64_t devices =
        !on_gpus ? 1
                 : static_cast<uint64_t>(group.gpus().empty() ? std::max(gpu_count, 0)
                                                              : group.gpus().size());
    uint64_t group_total = 0;
    if (__builtin_mul_overflow(static_cast<uint64_t>(std::max(group.count(), 0)), devices,
                               &group_total) ||
        __builtin_add_overflow(total, group_total, &total)) {
      return UINT64_MAX;
    }
  }
  return total;
}

}  // namespace sonic::server
