// A plan as a kustomize overlay of the scale-out files (deploy/kubernetes): `sonic plan
// --deploy DIR` writes
//   DIR/kustomization.yaml   the base folder as a resource, the patches, the extra groups
//   DIR/sonic-server.yaml    a patch of the base Deployment sonic-server, for the first server
//                            group (below): replicas, the container's args (the base's, with
//                            --model-control-mode=explicit and a --load-model per model of the
//                            group) and resources (CPU cores requested: the plan's provisioned
//                            cores per server, at least 1, when the profiles measured the
//                            server's CPU, else the base's; nvidia.com/gpu: GPUs per server when
//                            the plan is for GPUs, none otherwise; the same for every group)
//   DIR/scaling.yaml         a patch of the ScaledObject sonic-server: minReplicaCount = the
//                            first server group's servers (the autoscaler never goes below the
//                            plan), maxReplicaCount raised to it when lower
//   DIR/server-groups.yaml   only when the plan's groups of devices hold more than one set of
//                            models: per further server group a Deployment sonic-server-gN (the
//                            base's, with its own labels, replicas, --load-model list and
//                            resources) and a Service sonic-server-gN for its gRPC and HTTP
//                            ports; jobs reach those models there, as the balancer fronts the
//                            first server group only
//   DIR/model-repository/<model>/configs/sonic-plan.pbtxt
//                            only with a model repository: per planned model its config.pbtxt
//                            with the plan's settings, as Triton's custom configurations that
//                            `--model-config-name=sonic-plan` (added to every group's args)
//                            selects: each instance_group's count = the plan's instances per
//                            device (one group of KIND_GPU or KIND_CPU when it has none), and for
//                            a model that batches (max_batch_size > 0) dynamic_batching's
//                            preferred_batch_size = [the plan's, at most max_batch_size] and
//                            max_queue_delay_microseconds; everything else stays. The folder is
//                            copied onto the servers' repository (a server falls back to
//                            config.pbtxt for a model without the file, as Triton).
// A server group is one pool of identical servers behind one Service: the groups of devices
// that hold the same set of models (a model's devices filled at the target load and the device of
// its remainder alone, say), in the order of each set's first group of devices, so the first
// group of devices' models are sonic-server's. Its replicas: the sum over those groups of
// ceil(devices of the group / GPUs per server), as the plan counts its servers (a server holds
// the GPUs of one group of devices), so the replicas of all server groups add up to the plan's
// servers. Its --load-model list: the models of its first group of devices.
//
// Stateless; thread-safe.
#pragma once

#include <filesystem>
#include <string>

#include "absl/status/status.h"
#include "planner.h"

namespace sonic::tools {

struct DeployOptions {
  std::filesystem::path base;  // the folder of kustomization.yaml and sonic-server.yaml
  std::filesystem::path out;   // created if missing; the files above are replaced
  std::string device = "gpu";  // the plan's device kind (constraints.device)
  // The site's model repository (config.pbtxt per model); empty: no model configs written.
  std::filesystem::path model_repository = {};
};

// The name of the configurations written (configs/<name>.pbtxt; --model-config-name).
inline constexpr char kPlanConfigName[] = "sonic-plan";

// NOT_FOUND when the base has no sonic-server.yaml or the model repository lacks a planned
// model's config.pbtxt; INVALID_ARGUMENT when the base lacks the Deployment or the ScaledObject
// sonic-server or the container sonic-server, or a config.pbtxt does not parse; INTERNAL when a
// file cannot be written.
absl::Status WriteDeployment(const Plan& plan, const DeployOptions& options);

}  // namespace sonic::tools
