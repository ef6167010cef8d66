// A perf run: for each load level of the range, a load (LoadGenerator) runs while measurement
// windows of measurement_interval are taken, until the last three agree within the stability
// threshold or max_trials windows have been taken; the level's result merges those last three
// windows (their requests, and the server's statistics across them), as perf_analyzer reports.
// A level whose windows never agree is reported all the same, marked unstable (perf_analyzer
// would fail the run; we keep the numbers and say so).
//
// Thread-compatible: one Run at a time; the progress callback runs on the calling thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "infer_request.h"
#include "inference_connection.h"
#include "measurement.h"
#include "perf_options.h"
#include "shared_memory_requests.h"

namespace sonic::tools {

struct PerfResult {
  LoadKind kind = LoadKind::kConcurrency;
  double load = 0;          // concurrency or requests per second
  Measurement measurement;  // the last (up to) three windows merged
  bool stable = false;
  int windows = 0;          // windows taken
  std::string first_error;  // of any failed request at this level; "" when none failed
};

// Reported after every window.
struct PerfProgress {
  LoadKind kind = LoadKind::kConcurrency;
  double load = 0;
  int window = 0;      // 1-based
  int max_windows = 0;
  Measurement last;    // the window just taken
};
using ProgressCallback = std::function<void(const PerfProgress&)>;

class PerfRunner {
 public:
  // Connects, reads the model's metadata and config, builds the requests (generated or from
  // the JSON file) and, with shared memory, registers the regions. Errors: INVALID_ARGUMENT for
  // shapes, batch size or input data that do not fit the model; the server's code for RPCs
  // (UNAVAILABLE when it cannot be reached, NOT_FOUND for an unknown model).
  static absl::StatusOr<std::unique_ptr<PerfRunner>> Create(const PerfOptions& options);

  const ModelInterface& model() const { return model_; }
  // Whether the server answers ModelStatistics (the server-side breakdown needs it).
  bool has_server_statistics() const { return has_server_statistics_; }

  // Measures every level of options.range in order. UNAVAILABLE (with the first error) when a
  // window has failures and no successes; the results so far are then lost.
  absl::StatusOr<std::vector<PerfResult>> Run(const ProgressCallback& progress);

  // Measures one load level.
  absl::StatusOr<PerfResult> MeasureLevel(double load, const ProgressCallback& progress);

 private:
  struct Window;

  PerfRunner(PerfOptions options, std::unique_ptr<InferenceConnection> connection,
             ModelInterface model);
  absl::Status BuildRequests();
  std::optional<inference::ModelStatistics> Snapshot();
  LoadSpec LoadSpecFor(double load) const;
  PerfResult MergeLastWindows(double load, const std::vector<Window>& windows) const;

  const PerfOptions options_;
  std::unique_ptr<InferenceConnection> connection_;
  const ModelInterface model_;
  std::vector<inference::ModelInferRequest> requests_;
  std::unique_ptr<SharedMemoryRequests> shared_memory_;
  bool has_server_statistics_ = false;
};

}  // namespace sonic::tools
