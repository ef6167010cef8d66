// What one client job of a saturation scan reports, as JSON in the file the scan names:
//   {"events": N, "wall_seconds": S, "events_per_second": R, ...optional fields}
// These three keys are what `sonic run --report` writes for the demonstrator, so any job that
// writes them can be scanned. Our client job (client_job.h) adds "mean_latency_ms",
// "failures", "threads" and "late" (it was ready only after the common start time).
// Stateless functions; thread-compatible.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sonic::tools {

struct JobReport {
  double events = 0;  // events (or inferences) completed in the measured time
  double wall_seconds = 0;
  double events_per_second = 0;
  std::optional<double> mean_latency_ms;  // per event, when the job measures it
  int64_t failures = 0;
  bool late = false;
};

// INVALID_ARGUMENT naming the file when it is not JSON or lacks events_per_second; NOT_FOUND
// when it cannot be read (the job did not write it).
absl::StatusOr<JobReport> ReadJobReport(const std::filesystem::path& file);

// INTERNAL when the file cannot be written.
absl::Status WriteJobReport(const JobReport& report, int threads,
                            const std::filesystem::path& file);

}  // namespace sonic::tools
