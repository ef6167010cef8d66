// What a perf run measures (the flags of `sonic perf`, after perf_analyzer's), and the load
// levels of a range. Defaults are perf_analyzer's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
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
// to 1. End 0 means no end: the sweep goes on until the latency threshold is exceeded.
struct LoadRange {
  double start = 1;
  double end = 1;
  double step = 1;

  bool unbounded() const { return end == 0; }
};

// Parses "start[:end[:step]]". INVALID_ARGUMENT unless start > 0, step > 0 and end >= start
// or end == 0.
absl::StatusOr<LoadRange> ParseLoadRange(const std::string& text);

// start, start + step, ... up to end (inclusive, with a small tolerance for rates). Empty for
// an unbounded range.
std::vector<double> LoadLevels(const LoadRange& range);

// Parses -H "Name: value" into gRPC metadata: the name lowercased (gRPC's rule; header names are
// case-insensitive), the value without surrounding blanks. INVALID_ARGUMENT for a missing colon,
// an empty name, a name with other characters than [a-z0-9_.-] or starting with "grpc-", or a
// value with control characters.
absl::StatusOr<std::pair<std::string, std::string>> ParseHeader(const std::string& text);

// How a load level's windows end (--measurement-mode): after measurement_interval, or once
// measurement_request_count requests have completed and at least a second has passed (checked
// every second, as perf_analyzer does).
enum class MeasurementMode { kTimeWindows, kCountWindows };

// How the load levels of the range are visited (--binary-search).
enum class SearchMode {
  kLinear,  // start, start + step, ... until end or until the latency threshold is exceeded
  kBinary,  // start and end, then bisection between the highest level within the threshold and
            // the lowest above it until they are at most a step apart
};

// --collect-metrics: the server's Prometheus endpoint scraped during every window.
struct MetricsOptions {
  std::string url;                                // host:port/path (perf_analyzer's form)
  absl::Duration interval = absl::Milliseconds(1000);
};

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
  bool async = false;                    // perf_analyzer's default: blocking requests
  bool streaming = false;                // ModelStreamInfer, one stream per concurrency slot;
                                         // needs async
  int max_threads = 16;                  // sync request-rate senders
  int64_t string_length = 128;           // of random BYTES elements
  MeasurementMode measurement_mode = MeasurementMode::kTimeWindows;
  absl::Duration measurement_interval = absl::Milliseconds(5000);
  int64_t measurement_request_count = 50;  // kCountWindows
  double stability_threshold = 0.10;     // fraction (--stability-percentage / 100)
  int max_trials = 10;                   // windows per load level at most
  std::optional<int> percentile;         // judge latency stability on it instead of the mean
  // A level whose stability latency (mean, or the percentile) reaches it ends the sweep and is
  // not reported, as in perf_analyzer; none = no limit.
  std::optional<absl::Duration> latency_threshold;
  SearchMode search = SearchMode::kLinear;  // kBinary needs latency_threshold and a bounded range
  std::optional<MetricsOptions> metrics;
};

}  // namespace sonic::tools
