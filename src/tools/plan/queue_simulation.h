// A discrete-event simulation of one device's queue: Poisson arrivals of several request classes
// (one per model), `servers` identical servers taking requests first come first served, service
// times drawn from each class's ServiceTime. It checks the closed-form queue time
// (queueing_model.h) beyond averages: the percentiles come from the simulated requests.
//
// Deterministic: the same options give the same result on every platform (std::mt19937_64 and
// sampling by inverse transform and Box-Muller, not the implementation-defined std::
// distributions). Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "queueing_model.h"

namespace sonic::tools {

struct SimulationOptions {
  uint64_t seed = 1;
  int64_t requests = 200000;  // measured requests, after the warm-up
  int64_t warmup = 20000;     // requests simulated first and not counted
  int servers = 1;
};

struct SimulatedQueueTime {
  int64_t requests = 0;
  double utilization = 0;  // busy time / (servers x simulated time), measured requests only
  double mean_s = 0;
  double p50_s = 0;
  double p90_s = 0;
  double p99_s = 0;
};

// INVALID_ARGUMENT for no classes, a total rate of 0, fewer than 1 request or server, or a
// load at or above the servers' capacity (the queue would grow without bound).
absl::StatusOr<SimulatedQueueTime> SimulateQueue(const std::vector<ArrivalClass>& classes,
                                                 const SimulationOptions& options);

}  // namespace sonic::tools
