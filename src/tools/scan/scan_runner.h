// The saturation scan: for each K of a range, K client jobs (separate processes, each with T
// threads) run together against one server over a common measured window, and their reports
// make one ScanPoint. Jobs get the common start time on their command line ({start_at_ms}),
// far enough ahead for all K to start and connect; when one of our client jobs says it was
// ready late, the step is run again with twice the head start (at most kMaxAttempts times).
//
// Files go to options.work_dir: job reports and logs (K<k>_job<j>.json / .log).
// Thread-compatible; RunScan blocks for the whole scan.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "saturation.h"

namespace sonic::tools {

struct ScanOptions {
  std::vector<int> job_counts;          // the K of each step, increasing
  int threads = 1;                      // T
  std::vector<std::string> job_command; // with placeholders (job_command.h)
  absl::Duration duration = absl::Seconds(10);  // the measured window of each step
  // Head start of the common start time: base + per_job x K (doubled after a late job).
  absl::Duration start_delay_base = absl::Seconds(1);
  absl::Duration start_delay_per_job = absl::Milliseconds(100);
  // How long after the window's end a job may take to finish and report (a job command that
  // ignores {duration_ms}, such as a fixed number of events, gets this much time in all).
  absl::Duration job_timeout = absl::Seconds(300);
  std::filesystem::path work_dir;
};

inline constexpr int kMaxAttempts = 3;

// Called after each step.
using ScanProgress = std::function<void(const ScanPoint& point)>;

// Runs the steps in order. Errors: INVALID_ARGUMENT for empty or non-increasing job counts,
// threads < 1 or an empty command; FAILED_PRECONDITION when a job exits non-zero or writes no
// valid report (the message has the end of its log), or when jobs are still late after
// kMaxAttempts; INTERNAL when a job cannot be started.
absl::StatusOr<std::vector<ScanPoint>> RunScan(const ScanOptions& options,
                                               const ScanProgress& progress);

}  // namespace sonic::tools
