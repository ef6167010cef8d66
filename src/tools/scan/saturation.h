// Where a server saturates in a scan over the number of simultaneous client jobs K.
//
// At each step the scan knows the total throughput of the K jobs and the throughput of the
// average job. While the server keeps up, the total grows with K and a job runs as fast as it
// runs alone. A step is saturated when both
//   - the average job's throughput has fallen by more than `drop` (a fraction) below that of
//     the first (smallest) K, and
//   - the total throughput has grown by less than `drop` over the best total of the steps
//     before it (the server has no more to give).
// The server sustains the K of the last step before the first saturated one. When no step is
// saturated, it sustains at least the largest K scanned.
// Stateless functions; thread-compatible.
#pragma once

#include <optional>
#include <vector>

namespace sonic::tools {

struct ScanPoint {
  int jobs = 0;                     // K
  int threads = 0;                  // T per job
  double total_throughput = 0;      // events (inferences) per second, all jobs together
  double per_job_throughput = 0;    // their mean over the K jobs
  double min_job_throughput = 0;    // the slowest job
  std::optional<double> mean_latency_ms;  // over the jobs that report one
};

struct Saturation {
  int sustained_jobs = 0;           // the answer: K jobs of T threads
  bool saturated = false;           // false: the scan did not reach saturation
  std::optional<int> saturated_at;  // K of the first saturated step
  double peak_throughput = 0;       // the largest total throughput of the scan
};

// `points` in increasing K, at least one; `drop` in (0, 1).
Saturation FindSaturation(const std::vector<ScanPoint>& points, double drop);

}  // namespace sonic::tools
