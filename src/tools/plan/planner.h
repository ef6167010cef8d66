// `sonic plan`: from measured profiles, a workload and constraints (plan_inputs.h), the devices
// and servers a site needs, where the models go, and what direct inference would need instead.
// Stateless; thread-safe.
//
// The arithmetic, in order (rates per second):
//   events per thread   r = the measured rate; or 1 / cpu_time (async calls); or
//                       1 / (cpu_time + sum_m calls_m x unloaded latency_m) (sync calls), the
//                       unloaded latency being the mean latency of the lowest measured concurrency
//   events              R = jobs x threads x r;  cores = jobs x threads
//   requests of m       lambda_m = R x calls_m, of entries_m = entries_per_call_m each
//   capacity of m       C_m = entries/s one device sustains: the best measured level within the
//                       p99 budget (at the batch size that holds entries_m: the smallest measured
//                       one >= entries_m, else the largest), a level below the instance count
//                       scaled by instances / concurrency (the other instances were idle); among
//                       levels within 2% of the best, the lowest concurrency
//   load of m           L_m = lambda_m x entries_m / C_m devices' worth (utilization =
//                       demand / capacity)
//   devices             placement.h (everywhere vs split, by the numbers); servers = sum over
//                       the groups of devices of ceil(group's devices / gpus_per_server): a
//                       server loads one group's models, so groups do not share servers
//   queue time          queueing_model.h: per device an M/G/1 queue with service time entries_m /
//                       C_m per request and the spread of the level's latencies
//   p99 budget          when a device's queue p99 + a model's measured p99 exceeds the budget, the
//                       target utilization is lowered in steps of 0.05 and the placement redone
//   jobs per server     at saturation: gpus_per_server / (threads x r x sum_m calls_m entries_m /
//                       C_m); planned: jobs / servers
//   server CPU          per device sum_m lambda_m,device x CPU per request (measured, else the
//                       server's compute input + output), times the devices of the busiest
//                       group's server; network: requests x bytes per entry, alike
//   direct inference    gpus = ceil(cores / cores_per_gpu); each at utilization cores_per_gpu x r x
//                       sum_m calls_m entries_m / C_m; saving = direct gpus / planned devices
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "placement.h"
#include "plan_inputs.h"
#include "queue_simulation.h"
#include "queueing_model.h"

namespace sonic::tools {

// One model's operating point.
struct ModelLoad {
  std::string model;
  double requests_per_second = 0;  // the whole site
  double entries_per_request = 1;
  ProfileLevel level;              // where the capacity was measured
  double capacity = 0;             // entries per second on one device
  double load = 0;                 // devices' worth
  ServiceTime service;             // device time per request
  double unloaded_latency_ms = 0;
  double latency_p99_ms = 0;       // the level's, without queue
  double server_cpu_us_per_request = 0;
  std::string cpu_source;          // "measured", "compute input+output", "not measured"
  double bytes_per_request = 0;
  int instances = 1;               // per device
  double memory_mb = 0;            // all instances on one device
  int64_t preferred_batch_size = 1;
  int64_t max_queue_delay_us = 0;
};

struct DirectComparison {
  double cores = 0;
  int cores_per_gpu = 0;
  int gpus = 0;
  double utilization = 0;                    // computed from the profiles
  std::optional<double> measured_utilization;
  double saving = 0;                         // direct gpus / planned devices
};

struct Plan {
  double events_per_second_per_thread = 0;
  double events_per_second = 0;
  double cores = 0;
  std::vector<ModelLoad> models;
  Placement everywhere;
  Placement split;
  PlacementKind chosen = PlacementKind::kEverywhere;
  std::vector<QueueTime> queues;  // per group of the chosen placement
  double target_utilization = 0;  // after lowering for the p99 budget
  std::vector<std::string> notes;
  int gpus = 0;
  int gpus_per_server = 1;
  int servers = 0;
  double utilization = 0;  // total load / devices
  double server_cpu_cores = 0;      // busiest server
  double server_network_gbps = 0;   // busiest server, both directions
  double jobs_per_server = 0;
  double jobs_per_server_at_saturation = 0;
  std::optional<DirectComparison> direct;

  const Placement& placement() const {
    return chosen == PlacementKind::kEverywhere ? everywhere : split;
  }
};

// FAILED_PRECONDITION when no placement fits the devices' memory or a model has no measured level
// within the p99 budget; INVALID_ARGUMENT for an event rate that cannot be derived (async calls
// with no CPU time).
absl::StatusOr<Plan> MakePlan(const PlanInputs& inputs);

// The arrival classes of one device of `group` (for the queue estimate and the simulation).
std::vector<ArrivalClass> DeviceArrivals(const Plan& plan, const DeviceGroup& group);

// The queue of one device of each group of the chosen placement, simulated (queue_simulation.h)
// with the same arrivals and service times as the closed form. Its errors.
absl::StatusOr<std::vector<SimulatedQueueTime>> SimulatePlan(const Plan& plan,
                                                              const SimulationOptions& options);

}  // namespace sonic::tools
