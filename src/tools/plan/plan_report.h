// How a plan is written out: a table for the console and YAML (`sonic plan --out`) whose
// `models` entries carry the sonic-server settings (instance_group count, dynamic_batching) and
// whose `devices` say which models each group of devices loads (a server's --load-model list).
// Stateless functions; thread-safe.
//
// YAML layout:
//   plan: {placement, gpus, gpus_per_server, servers, target_utilization, utilization,
//          events_per_second, cores, jobs_per_server, jobs_per_server_at_saturation,
//          server: {cpu_cores, cpu_cores_provisioned, network_gbps}, notes: [...]}
//   alternatives: {everywhere: {feasible, gpus, reason}, split: {...}}
//   models: [{name, requests_per_second, entries_per_request, capacity_entries_per_second,
//             load_gpus, measured_level: {batch_size, concurrency, throughput, latency_p99_ms},
//             unloaded_latency_ms, server_cpu_us_per_request, cpu_source, instance_group:
//             {count}, dynamic_batching: {preferred_batch_size, max_queue_delay_microseconds}}]
//   devices: [{count, load, memory_mb, models: [{name, share}],
//              queue_ms: {model: M/G/1, mean, p50, p90, p99},
//              simulated_queue_ms: {requests, utilization, mean, p50, p90, p99}}]
//   direct: {cores, cores_per_gpu, gpus, utilization, measured_utilization, saving}
#pragma once

#include <string>
#include <vector>

#include "planner.h"
#include "queue_simulation.h"

namespace sonic::tools {

// Several lines: the answer, the models, the devices (queue times, and the simulated ones when
// `simulated` has one entry per group), the comparison with direct inference.
std::string FormatPlanTable(const Plan& plan, const std::vector<SimulatedQueueTime>& simulated);

// The YAML document above; simulated_queue_ms only when `simulated` has one entry per group.
std::string PlanYaml(const Plan& plan, const std::vector<SimulatedQueueTime>& simulated);

}  // namespace sonic::tools
