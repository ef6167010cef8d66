// Where a model's instances run: the instance_group entries of a config resolved against the
// CUDA devices this server sees, as Triton does it.
//  - KIND_CPU: `count` CPU instances.
//  - KIND_GPU: `count` instances on each GPU in `gpus`, or on every visible GPU when `gpus` is
//    empty. Needs visible GPUs, and every listed GPU must be one of them.
//  - KIND_AUTO: as KIND_GPU when any GPU is visible, else as KIND_CPU. The GPU instances it
//    makes may fall back to the CPU when the backend cannot use a GPU (see
//    InstancePlacement::cpu_fallback).
// Instances are named "<group name>_<k>", k counting the group's instances from 0.
//
// A pure function of its arguments; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "inference/model_config.pb.h"
#include "sonic/backend/backend_api.h"

namespace sonic::server {

struct InstancePlacement {
  std::string name;
  SonicBackendInstanceKind kind = SONIC_BACKEND_INSTANCE_CPU;
  int32_t device_id = -1;  // the GPU ordinal; -1 on the CPU
  // Made for KIND_AUTO: when the backend refuses the GPU with FAILED_PRECONDITION (e.g. a
  // LibTorch without CUDA), the instance is created on the CPU instead.
  bool cpu_fallback = false;
};

// The instances of `config` (normalized: every group has a name and a count >= 1) on a machine
// with `gpu_count` visible CUDA devices, in group order. Errors name the model and the group,
// and are not retryable on this machine:
//   FAILED_PRECONDITION: a KIND_GPU group when no GPU is visible (this server was built
//     without CUDA, or has no device or driver);
//   INVALID_ARGUMENT: a listed GPU that is not visible (e.g. gpus: [1] with one GPU);
//   UNIMPLEMENTED: KIND_MODEL.
absl::StatusOr<std::vector<InstancePlacement>> PlaceInstances(const inference::ModelConfig& config,
                                                              int gpu_count);

// How many instances PlaceInstances makes of `config` on a machine with `gpu_count` GPUs (a
// listed GPU counts even when it does not exist), computed without making them, so that a count
// of billions is cheap to refuse. Saturates at UINT64_MAX.
uint64_t CountInstances(const inference::ModelConfig& config, int gpu_count);

}  // namespace sonic::server
