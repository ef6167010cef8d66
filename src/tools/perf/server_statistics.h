// The server's side of a measurement, from two ModelStatistics snapshots (docs/PROTOCOL.md):
// their difference, and the average time a request spent in each server stage. As in
// perf_analyzer, the averages are per request (queue, compute_input, compute_infer,
// compute_output divided by their own counts), and cover every client of the model on that
// server, not only this one. Stateless functions; thread-compatible.
#pragma once

#include <cstdint>

#include "absl/time/time.h"
#include "inference/grpc_service.pb.h"

namespace sonic::tools {

// `after` minus `before` for the counters a measurement reads (inference and execution counts,
// inference_stats durations and batch_stats), so a warm-up or an earlier window is left out.
inference::ModelStatistics StatisticsDelta(const inference::ModelStatistics& before,
                                           const inference::ModelStatistics& after);

// Average time per request in each server stage over a ModelStatistics delta; zero where the
// delta counts nothing.
struct ServerBreakdown {
  uint64_t request_count = 0;    // successful requests (inference_stats.success.count)
  uint64_t inference_count = 0;  // batch entries inferred
  uint64_t execution_count = 0;  // model executions
  absl::Duration queue;
  absl::Duration compute_input;
  absl::Duration compute_infer;
  absl::Duration compute_output;
  absl::Duration cache_hit;   // response cache lookups that hit (per hit)
  absl::Duration cache_miss;  // and those that missed (per miss)

  // The time the server accounts for per request (what perf_analyzer subtracts from the
  // client's wait): the four stages and the cache lookups.
  absl::Duration total() const {
    return queue + compute_input + compute_infer + compute_output + cache_hit + cache_miss;
  }
};

ServerBreakdown BreakdownOf(const inference::ModelStatistics& delta);

}  // namespace sonic::tools
