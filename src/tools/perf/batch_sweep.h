// `sonic perf --batch-sizes ... [--compare-model ...] --plot FILE.png`: the same perf run
// (PerfRunner, every flag as given) repeated for each model and each batch size, one point per
// pair: the highest throughput among the load levels measured, and that level's latency. Written
// as a CSV and drawn by gnuplot as throughput against batch size, one line per model (the ONNX
// and TorchScript versions of a model side by side, say). Thread-compatible.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "perf_options.h"
#include "perf_runner.h"

namespace sonic::tools {

struct SweepPoint {
  std::string model;
  int64_t batch_size = 1;
  double load = 0;        // the concurrency (or request rate) of the best level
  double throughput = 0;  // inferences per second
  double mean_latency_ms = 0;
  bool stable = false;
};

// Parses "1,2,4,8" (whole numbers >= 1). INVALID_ARGUMENT naming the bad element.
absl::StatusOr<std::vector<int64_t>> ParseBatchSizes(const std::string& text);

// Called after each (model, batch size) with every level's result, for the caller's report.
using SweepResultCallback = std::function<void(const std::string& model, int64_t batch_size,
                                               const std::vector<PerfResult>& results)>;

// Runs `base` for each model of `models` and each of `batch_sizes`, in that order. Errors are
// PerfRunner's, prefixed with the model and batch size; the points so far are then lost.
absl::StatusOr<std::vector<SweepPoint>> RunBatchSweep(const PerfOptions& base,
                                                      const std::vector<std::string>& models,
                                                      const std::vector<int64_t>& batch_sizes,
                                                      const ProgressCallback& progress,
                                                      const SweepResultCallback& on_result);

// Header "model,batch_size,load,throughput_infer_per_sec,mean_latency_ms,stable", one row per
// point.
void WriteSweepCsv(std::ostream& out, const std::vector<SweepPoint>& points);

// The gnuplot program drawing `csv` (WriteSweepCsv of `points`) into `png`: throughput against
// batch size (log2 axis), one line per model.
std::string SweepGnuplotScript(const std::filesystem::path& csv, const std::filesystem::path& png,
                               const std::vector<SweepPoint>& points, const std::string& title);

// Writes the CSV at `png` with the extension .csv, then the plot (RunGnuplot's errors).
absl::Status PlotSweep(const std::filesystem::path& png, const std::vector<SweepPoint>& points,
                       const std::string& title);

}  // namespace sonic::tools
