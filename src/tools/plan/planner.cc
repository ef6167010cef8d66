#include "planner.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sonic/common/status.h"

namespace sonic::tools {
namespace {

// Levels within this fraction of the best capacity count as equal (measurement noise).
constexpr double kCapacityTie = 0.02;
constexpr double kUtilizationStep = 0.05;

const ModelProfile* FindProfile(const PlanInputs& inputs, const std::string& model) {
  for (const ModelProfile& profile : inputs.profiles) {
    if (profile.model == model && profile.device == inputs.constraints.device) return &profile;
  }
  return nullptr;
}

// The measured batch size that holds `entries`: the smallest >= entries, else the largest.
int64_t BatchSizeFor(const ModelProfile& profile, double entries) {
  int64_t above = std::numeric_limits<int64_t>::max(), largest = 0;
  for (const ProfileLevel& level : profile.levels) {
    largest = std::max(largest, level.batch_size);
    if (level.batch_size >= entries) above = std::min(above, level.batch_size);
  }
  return above == std::numeric_limits<int64_t>::max() ? largest : above;
}

double EffectiveCapacity(const ProfileLevel& level, int instances) {
  return level.throughput * std::max(1.0, instances / std::max(level.concurrency, 1.0));
}

// Capacity, level and unloaded latency of `profile` at `batch` (levels of other sizes ignored).
absl::Status ChooseLevel(const ModelProfile& profile, int64_t batch,
                         std::optional<double> p99_budget_ms, ModelLoad& load) {
  const ProfileLevel* best = nullptr;
  const ProfileLevel* lowest = nullptr;
  double best_capacity = 0;
  for (const ProfileLevel& level : profile.levels) {
    if (level.batch_size != batch) continue;
    if (lowest == nullptr || level.concurrency < lowest->concurrency) lowest = &level;
    if (p99_budget_ms && level.latency_p99_us / 1000 > *p99_budget_ms) continue;
    best_capacity = std::max(best_capacity, EffectiveCapacity(level, profile.instances));
  }
  for (const ProfileLevel& level : profile.levels) {
    if (level.batch_size != batch) continue;
    if (p99_budget_ms && level.latency_p99_us / 1000 > *p99_budget_ms) continue;
    if (EffectiveCapacity(level, profile.instances) < (1 - kCapacityTie) * best_capacity) continue;
    if (best == nullptr || level.concurrency < best->concurrency) best = &level;
  }
  if (best == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no measured level of ", profile.model, " at batch size ", batch,
        " has a p99 latency within the budget of ", p99_budget_ms.value_or(0), " ms"));
  }
  load.level = *best;
  load.capacity = EffectiveCapacity(*best, profile.instances);
  load.unloaded_latency_ms = lowest->latency_avg_us / 1000;
  load.latency_p99_ms = best->latency_p99_us / 1000;
  const double per_instance = std::max(1.0, std::floor(best->concurrency / profile.instances));
  load.preferred_batch_size = best->batch_size * static_cast<int64_t>(per_instance);
  return absl::OkStatus();
}

absl::StatusOr<ModelLoad> ModelOperatingPoint(const PlanInputs& inputs, const WorkloadModel& model) {
  const ModelProfile* profile = FindProfile(inputs, model.model);
  if (profile == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("no profile of ", model.model, " on ", inputs.constraints.device));
  }
  ModelLoad load;
  load.model = model.model;
  load.entries_per_request = model.entries_per_call;
  SONIC_RETURN_IF_ERROR(ChooseLevel(*profile, BatchSizeFor(*profile, model.entries_per_call),
                                    inputs.constraints.p99_latency_ms, load));
  load.service = ServiceTimeFromPercentiles(load.entries_per_request / load.capacity,
                                            load.level.latency_p50_us, load.level.latency_p99_us);
  if (profile->server_cpu_us_per_request) {
    load.server_cpu_us_per_request = *profile->server_cpu_us_per_request;
    load.cpu_source = "measured";
  } else if (load.level.server_host_us) {
    load.server_cpu_us_per_request = *load.level.server_host_us;
    load.cpu_source = "compute input+output";
  } else {
    load.cpu_source = "not measured";
  }
  load.bytes_per_request = model.entries_per_call *
                           (profile->request_bytes_per_entry + profile->response_bytes_per_entry);
  load.instances = profile->instances;
  load.memory_mb = profile->instances * profile->memory_mb_per_instance;
  return load;
}

absl::StatusOr<double> EventsPerThread(const Workload& workload,
                                       const std::vector<ModelLoad>& models) {
  if (workload.events_per_second_per_thread) return *workload.events_per_second_per_thread;
  double seconds = workload.cpu_ms_per_event.value_or(0) / 1000;
  if (workload.client_mode == ClientMode::kSync) {
    for (size_t i = 0; i < models.size(); ++i) {
      seconds += workload.models[i].calls_per_event * models[i].unloaded_latency_ms / 1000;
    }
  }
  if (seconds <= 0) {
    return absl::InvalidArgumentError(
        "the event rate cannot be derived: cpu_ms_per_event is 0 and no call waits");
  }
  return 1 / seconds;
}

std::vector<PlacementItem> Items(const std::vector<ModelLoad>& models) {
  std::vector<PlacementItem> items;
  for (const ModelLoad& m : models) items.push_back({m.load, m.memory_mb});
  return items;
}

// The worst (queue p99 + measured p99) over the models of the chosen placement, in ms.
double WorstLatencyP99Ms(const Plan& plan) {
  double worst = 0;
  const std::vector<DeviceGroup>& groups = plan.placement().groups;
  for (size_t g = 0; g < groups.size(); ++g) {
    for (const DeviceShare& share : groups[g].shares) {
      worst = std::max(worst, plan.models[share.model].latency_p99_ms + plan.queues[g].p99_s * 1000);
    }
  }
  return worst;
}

absl::Status PlaceAndQueue(const Constraints& constraints, double target, Plan& plan) {
  const std::vector<PlacementItem> items = Items(plan.models);
  plan.target_utilization = target;
  plan.everywhere = PlaceEverywhere(items, target, constraints.gpu_memory_mb);
  plan.split = PlaceSplit(items, target, constraints.gpu_memory_mb);
  const Placement& chosen = ChoosePlacement(plan.everywhere, plan.split);
  if (!chosen.feasible) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no placement fits: everywhere: ", plan.everywhere.reason, "; split: ", plan.split.reason));
  }
  plan.chosen = chosen.kind;
  plan.queues.clear();
  for (const DeviceGroup& group : chosen.groups) {
    plan.queues.push_back(MG1QueueTime(DeviceArrivals(plan, group)));
  }
  return absl::OkStatus();
}

// Places at the target utilization, lowered until the p99 estimate fits the budget.
absl::Status PlaceWithinBudget(const Constraints& constraints, Plan& plan) {
  double target = constraints.target_utilization;
  SONIC_RETURN_IF_ERROR(PlaceAndQueue(constraints, target, plan));
  if (!constraints.p99_latency_ms) return absl::OkStatus();
  while (WorstLatencyP99Ms(plan) > *constraints.p99_latency_ms && target > kUtilizationStep) {
    target = std::max(kUtilizationStep, target - kUtilizationStep);
    SONIC_RETURN_IF_ERROR(PlaceAndQueue(constraints, target, plan));
  }
  if (target < constraints.target_utilization) {
    plan.notes.push_back(absl::StrFormat(
        "target utilization lowered from %.2f to %.2f so that the p99 latency fits %.1f ms",
        constraints.target_utilization, target, *constraints.p99_latency_ms));
  }
  if (WorstLatencyP99Ms(plan) > *constraints.p99_latency_ms) {
    plan.notes.push_back(absl::StrFormat("the p99 latency estimate %.1f ms exceeds the budget",
                                         WorstLatencyP99Ms(plan)));
  }
  return absl::OkStatus();
}

// A server holds devices of one group only (it loads that group's models).
int DevicesPerServer(const DeviceGroup& group, int gpus_per_server) {
  return std::min(group.count, gpus_per_server);
}

// Server CPU and network of the busiest server: its group's per-device load times its devices.
void ServerResources(Plan& plan) {
  double cpu = 0, network = 0;
  for (const DeviceGroup& group : plan.placement().groups) {
    double group_cpu = 0, group_network = 0;
    for (const DeviceShare& share : group.shares) {
      const ModelLoad& m = plan.models[share.model];
      const double rate = m.requests_per_second * share.fraction;
      group_cpu += rate * m.server_cpu_us_per_request / 1e6;
      group_network += rate * m.bytes_per_request * 8 / 1e9;
    }
    const int devices = DevicesPerServer(group, plan.gpus_per_server);
    cpu = std::max(cpu, group_cpu * devices);
    network = std::max(network, group_network * devices);
  }
  plan.server_cpu_cores = cpu;
  plan.server_network_gbps = network;
}

// Device time per event (device-seconds), the sum over models of calls x entries / capacity.
double DeviceSecondsPerEvent(const PlanInputs& inputs, const Plan& plan) {
  double seconds = 0;
  for (size_t i = 0; i < plan.models.size(); ++i) {
    seconds += inputs.workload.models[i].calls_per_event * plan.models[i].entries_per_request /
               plan.models[i].capacity;
  }
  return seconds;
}

void Totals(const PlanInputs& inputs, Plan& plan) {
  const Workload& workload = inputs.workload;
  plan.gpus = plan.placement().devices;
  plan.gpus_per_server = inputs.constraints.gpus_per_server;
  plan.servers = 0;
  for (const DeviceGroup& group : plan.placement().groups) {
    plan.servers += (group.count + plan.gpus_per_server - 1) / plan.gpus_per_server;
  }
  double total_load = 0;
  for (const ModelLoad& m : plan.models) total_load += m.load;
  plan.utilization = total_load / plan.gpus;
  plan.jobs_per_server = workload.jobs / plan.servers;
  const double job_load =
      workload.threads * plan.events_per_second_per_thread * DeviceSecondsPerEvent(inputs, plan);
  plan.jobs_per_server_at_saturation = job_load > 0 ? plan.gpus_per_server / job_load
                                                    : std::numeric_limits<double>::infinity();
  ServerResources(plan);
  if (!inputs.direct) return;
  DirectComparison direct;
  direct.cores = plan.cores;
  direct.cores_per_gpu = inputs.direct->cores_per_gpu;
  direct.gpus = static_cast<int>(std::ceil(plan.cores / direct.cores_per_gpu - 1e-9));
  direct.utilization = direct.cores_per_gpu * plan.events_per_second_per_thread *
                       DeviceSecondsPerEvent(inputs, plan);
  direct.measured_utilization = inputs.direct->measured_utilization;
  direct.saving = static_cast<double>(direct.gpus) / plan.gpus;
  plan.direct = direct;
}

// Batching settings from the planned queue: the queue delay the p99 budget leaves room for (a
// tenth of the slack), none without a budget.
void BatchingSettings(const Constraints& constraints, Plan& plan) {
  if (!constraints.p99_latency_ms) return;
  const std::vector<DeviceGroup>& groups = plan.placement().groups;
  std::vector<double> slack_ms(plan.models.size(), std::numeric_limits<double>::infinity());
  for (size_t g = 0; g < groups.size(); ++g) {
    for (const DeviceShare& share : groups[g].shares) {
      const ModelLoad& m = plan.models[share.model];
      slack_ms[share.model] =
          std::min(slack_ms[share.model], *constraints.p99_latency_ms - m.latency_p99_ms -
                                              plan.queues[g].p99_s * 1000);
    }
  }
  for (size_t i = 0; i < plan.models.size(); ++i) {
    if (std::isfinite(slack_ms[i])) {
      plan.models[i].max_queue_delay_us = static_cast<int64_t>(std::max(0.0, slack_ms[i] * 100));
    }
  }
}

}  // namespace

std::vector<ArrivalClass> DeviceArrivals(const Plan& plan, const DeviceGroup& group) {
  std::vector<ArrivalClass> classes;
  for (const DeviceShare& share : group.shares) {
    const ModelLoad& m = plan.models[share.model];
    classes.push_back({m.requests_per_second * share.fraction, m.service});
  }
  return classes;
}

absl::StatusOr<std::vector<SimulatedQueueTime>> SimulatePlan(const Plan& plan,
                                                              const SimulationOptions& options) {
  std::vector<SimulatedQueueTime> results;
  for (const DeviceGroup& group : plan.placement().groups) {
    const std::vector<ArrivalClass> arrivals = DeviceArrivals(plan, group);
    double rate = 0;
    for (const ArrivalClass& c : arrivals) rate += c.rate_per_s;
    if (rate <= 0) {  // an idle device never queues
      results.emplace_back();
      continue;
    }
    absl::StatusOr<SimulatedQueueTime> result = SimulateQueue(arrivals, options);
    if (!result.ok()) return result.status();
    results.push_back(*result);
  }
  return results;
}

absl::StatusOr<Plan> MakePlan(const PlanInputs& inputs) {
  Plan plan;
  for (const WorkloadModel& model : inputs.workload.models) {
    SONIC_ASSIGN_OR_RETURN(ModelLoad load, ModelOperatingPoint(inputs, model));
    plan.models.push_back(std::move(load));
  }
  SONIC_ASSIGN_OR_RETURN(plan.events_per_second_per_thread,
                         EventsPerThread(inputs.workload, plan.models));
  plan.cores = inputs.workload.jobs * inputs.workload.threads;
  plan.events_per_second = plan.cores * plan.events_per_second_per_thread;
  for (size_t i = 0; i < plan.models.size(); ++i) {
    ModelLoad& m = plan.models[i];
    m.requests_per_second = plan.events_per_second * inputs.workload.models[i].calls_per_event;
    m.load = m.requests_per_second * m.entries_per_request / m.capacity;
  }
  SONIC_RETURN_IF_ERROR(PlaceWithinBudget(inputs.constraints, plan));
  Totals(inputs, plan);
  BatchingSettings(inputs.constraints, plan);
  return plan;
}

}  // namespace sonic::tools
