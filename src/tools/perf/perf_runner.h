// A perf run: for each load level visited (options.search over options.range), a load
// (LoadGenerator) runs while measurement windows are taken (options.measurement_mode), until the
// last three agree within the stability threshold, or max_trials windows have been taken, or
// (with a latency threshold) one of the last three reached it; the level's result merges those last
// three windows (their requests, the server's statistics and GPU metrics across them), as
// perf_analyzer reports. An async load whose throughput settles while its latency keeps growing
// counts as stable, as in perf_analyzer. A level whose stability latency reaches the latency
// threshold ends a linear sweep and is not reported; in a binary search it bounds the search
// from above. Unlike perf_analyzer, a level whose windows never agree is reported all the same,
// marked unstable, and the sweep goes on (perf_analyzer drops it and stops).
//
// Thread-compatible: one Run at a time; the progress callback runs on the calling thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "infer_request.h"
#include "inference_connection.h"
#include "measurement.h"
#include "perf_options.h"
#include "request_recorder.h"
#include "server_metrics.h"
#include "shared_memory_requests.h"

namespace sonic::tools {

struct PerfResult {
  LoadKind kind = LoadKind::kConcurrency;
  double load = 0;          // concurrency or requests per second
  Measurement measurement;  // the last (up to) three windows merged
  bool stable = false;
  int windows = 0;          // windows taken
  std::string first_error;  // of any failed request at this level; "" when none failed
  std::optional<GpuMetrics> gpu;  // with options.metrics
};

// Whether `result`'s stability latency (the mean, or the percentile) reaches `threshold`, in
// whole milliseconds as perf_analyzer compares them.
bool ExceedsLatencyThreshold(const PerfResult& result, std::optional<int> percentile,
                             absl::Duration threshold);

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
  // options that do not go together (streaming without async, an unbounded range without a
  // latency threshold, a binary search without one or without an end), and for shapes, batch
  // size or input data that do not fit the model; the server's code for RPCs (UNAVAILABLE when
  // it cannot be reached, NOT_FOUND for an unknown model).
  static absl::StatusOr<std::unique_ptr<PerfRunner>> Create(const PerfOptions& options);

  const ModelInterface& model() const { return model_; }
  // Whether the server answers ModelStatistics (the server-side breakdown needs it).
  bool has_server_statistics() const { return has_server_statistics_; }

  // Measures the levels options.search visits, in that order; the results are those reported
  // (within the latency threshold). UNAVAILABLE (with the first error) when a window has
  // failures and no successes, or the metrics endpoint fails; DEADLINE_EXCEEDED when no request
  // ended within the windows a level's result merges (requests slower than the windows, as
  // perf_analyzer refuses them); the results so far are then lost.
  absl::StatusOr<std::vector<PerfResult>> Run(const ProgressCallback& progress);

  // Measures one load level; errors as Run's.
  absl::StatusOr<PerfResult> MeasureLevel(double load, const ProgressCallback& progress);

 private:
  struct Window;

  PerfRunner(PerfOptions options, std::unique_ptr<InferenceConnection> connection,
             ModelInterface model);
  absl::Status BuildRequests();
  absl::StatusOr<std::vector<PerfResult>> RunLinear(const ProgressCallback& progress);
  absl::StatusOr<std::vector<PerfResult>> RunBinary(const ProgressCallback& progress);
  bool Exceeds(const PerfResult& result) const;
  // Waits until the window that began at `start` ends (by options.measurement_mode).
  absl::Time AwaitWindowEnd(const RequestRecorder& recorder, absl::Time start) const;
  // Whether, with a latency threshold, one of the last three windows reached it (perf_analyzer
  // then stops taking windows).
  bool OverThresholdLately(std::span<const Measurement> windows) const;
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
