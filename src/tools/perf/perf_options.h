// What a perf run measures (the flags of `sonic perf`, after perf_analyzer's), and the load
// levels of a range. Defaults are perf_analyzer's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "inference_connection.h"
#include "load_generator.h"
#include "request_schedule.h"

namespace sonic::tools {

// --shared-memory: none, system (POSIX), or cuda (device memory; only in a build with CUDA).
enum class SharedMemoryKind { kNone, kSystem, kCuda };

// --concurrency-range / --request-rate-range "start[:end[:step]]": end defaults to start, step
// to 1.
struct LoadRange {
  double start = 1;
  double end = 1;
  double step = 1;
};

// Parses "start[:end[:step]]". INVALID_ARGUMENT unless start > 0, end >= start and step > 0.
absl::StatusOr<LoadRange> ParseLoadRange(const std::string& text);

// start, start + step, ... up to end (inclusive, with a small tolerance for rates).
std::vector<double> LoadLevels(const LoadRange& range);

struct PerfOptions {
  ConnectionOptions connection;
  std::string model;
  std::string model_version;             // "" = the server's choice
  int64_t batch_size = 1;
  std::vector<std::string> shapes;       // --shape NAME:d1,d2,...
  std::string input_data = "random";     // zero | random | path of a JSON file
  uint64_t seed = 1;                     // of random input data and Poisson schedules
  SharedMemoryKind shared_memory = SharedMemoryKind::kNone;
  int64_t output_shared_memory_size = 102400;  // bytes, for outputs of unknown size
  int cuda_device = 0;                   // of the regions with kCuda (sonic's own flag)
  LoadKind kind = LoadKind::kConcurrency;
  LoadRange range;
  RequestDistribution distribution = RequestDistribution::kConstant;
  bool async = true;
  int max_threads = 16;                  // sync request-rate senders
  absl::Duration measurement_interval = absl::Milliseconds(5000);
  double stability_threshold = 0.10;     // fraction (--stability-percentage / 100)
  int max_trials = 10;                   // windows per load level at most
  std::optional<int> percentile;         // judge latency stability on it instead of the mean
};

}  // namespace sonic::tools
