// What a TritonClient measured, for the end-of-job report of a verbose client.
#pragma once

#include <cstdint>
#include <string>

#include "absl/time/time.h"

namespace sonic::client {

// The server's statistics for one model over an interval (a difference of two ModelStatistics
// snapshots). Counts and times cover every client of the model on that server.
struct ServerSideStatistics {
  uint64_t inference_count = 0;  // batch entries inferred
  uint64_t execution_count = 0;  // model executions (batches)
  uint64_t success_count = 0;    // successful requests
  absl::Duration request_time;   // total time of successful requests in the server
  absl::Duration queue_time;
  absl::Duration compute_input_time;
  absl::Duration compute_infer_time;
  absl::Duration compute_output_time;
};

struct ClientStatistics {
  uint64_t dispatches = 0;  // completed dispatches, successful or not
  uint64_t failures = 0;    // dispatches that ended in an error
  uint64_t attempts = 0;    // evaluations, retries included
  uint64_t requests = 0;    // ModelInfer RPCs sent
  absl::Duration wait_time; // dispatch to result, summed over dispatches
  ServerSideStatistics server;

  // A few lines: averages per dispatch and, when the server inferred anything, per request
  // (queue and compute times), like CMSSW's verbose TritonClient report.
  std::string ToString() const;
};

}  // namespace sonic::client
