// What one client job of a saturation scan reports, as JSON in the file the scan names:
//   {"events": N, "wall_seconds": S, "events_per_second": R, ...optional fields}
// These three keys are what `sonic run --report` writes for the demonstrator, so any job that
// writes them can be scanned. Our client job (client_job.h) adds "mean_latency_ms",
// "failures", "threads", "late" (it was ready only after the common start time) and "models",
// as `sonic run --report` does (so that `sonic plan` reads either as a job's workload).
// Stateless functions; thread-compatible.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sonic::tools {

// One model's calls in the measured time and the entries (batch) they carried.
struct ModelCalls {
  std::string model;
  double calls = 0;
  double entries = 0;
};

struct JobReport {
  double events = 0;  // events (or inferences) completed in the measured time
  double wall_seconds = 0;
  double events_per_second = 0;
  std::optional<double> mean_latency_ms;  // per event, when the job measures it
  int64_t failures = 0;
  bool late = false;
  std::vector<ModelCalls> models;  // written as "models": [{"model", "calls", "entries"}]
};

// INVALID_ARGUMENT naming the file when it is not JSON or lacks events_per_second; NOT_FOUND
// when it cannot be read (the job did not write it).
absl::StatusOr<JobReport> ReadJobReport(const std::filesystem::path& file);

// INTERNAL when the file cannot be written.
absl::Status WriteJobReport(const JobReport& report, int threads,
                            const std::filesystem::path& file);

}  // namespace sonic::tools
