#include "perf_runner.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "input_data_file.h"
#include "load_generator.h"
#include "sonic/common/status.h"

namespace sonic::tools {

struct PerfRunner::Window {
  std::vector<RequestRecord> records;
  std::optional<inference::ModelStatistics> before;
  std::optional<inference::ModelStatistics> after;
  std::vector<GpuMetrics> gpu;  // the scrapes during the window
  Measurement measurement;
};

namespace {

absl::Status CheckOptions(const PerfOptions& options) {
  if (options.max_trials < 1 || options.measurement_interval <= absl::ZeroDuration() ||
      options.measurement_request_count < 1) {
    return absl::InvalidArgumentError(
        "a perf run needs max_trials >= 1, a positive interval and request count");
  }
  if (options.streaming && !options.async) {
    return absl::InvalidArgumentError("--streaming needs asynchronous requests (not --sync)");
  }
  if (options.range.unbounded() && !options.latency_threshold.has_value()) {
    return absl::InvalidArgumentError(
        "a range without an end (end 0) needs --latency-threshold");
  }
  if (options.search == SearchMode::kBinary &&
      (options.range.unbounded() || !options.latency_threshold.has_value())) {
    return absl::InvalidArgumentError(
        "--binary-search needs an end to the range and --latency-threshold");
  }
  return absl::OkStatus();
}

}  // namespace

bool ExceedsLatencyThreshold(const PerfResult& result, std::optional<int> percentile,
                             absl::Duration threshold) {
  const absl::Duration latency = StabilityLatency(result.measurement, percentile);
  return absl::Trunc(latency, absl::Milliseconds(1)) >= threshold;
}

absl::StatusOr<std::unique_ptr<PerfRunner>> PerfRunner::Create(const PerfOptions& options) {
  SONIC_RETURN_IF_ERROR(CheckOptions(options));
  SONIC_ASSIGN_OR_RETURN(std::unique_ptr<InferenceConnection> connection,
                         InferenceConnection::Create(options.connection));
  SONIC_ASSIGN_OR_RETURN(
      ModelInterface model,
      FetchModelInterface(connection->stub(), options.model, options.model_version,
                          options.connection.rpc_deadline, options.connection.metadata));
  std::unique_ptr<PerfRunner> runner(
      new PerfRunner(options, std::move(connection), std::move(model)));
  SONIC_RETURN_IF_ERROR(runner->BuildRequests());
  if (options.shared_memory != SharedMemoryKind::kNone) {
    SONIC_ASSIGN_OR_RETURN(runner->shared_memory_,
                           SharedMemoryRequests::Create(*runner->connection_, runner->model_,
                                                        options, runner->requests_));
  }
  runner->has_server_statistics_ =
      runner->connection_->FetchStatistics(options.model, options.model_version).ok();
  return runner;
}

PerfRunner::PerfRunner(PerfOptions options, std::unique_ptr<InferenceConnection> connection,
                       ModelInterface model)
    : options_(std::move(options)), connection_(std::move(connection)), model_(std::move(model)) {}

absl::Status PerfRunner::BuildRequests() {
  SONIC_ASSIGN_OR_RETURN(ShapeOverrides shapes, ParseShapeFlags(options_.shapes, model_));
  RequestSpec spec;
  spec.model_name = options_.model;
  spec.model_version = options_.model_version;
  spec.batch_size = options_.batch_size;
  spec.shapes = std::move(shapes);
  spec.string_length = options_.string_length;
  SONIC_ASSIGN_OR_RETURN(requests_,
                         MakeRequestsForInputData(model_, spec, options_.input_data, options_.seed));
  return absl::OkStatus();
}

std::optional<inference::ModelStatistics> PerfRunner::Snapshot() {
  if (!has_server_statistics_) return std::nullopt;
  absl::StatusOr<inference::ModelStatistics> statistics =
      connection_->FetchStatistics(options_.model, options_.model_version);
  if (!statistics.ok()) return std::nullopt;
  return *std::move(statistics);
}

LoadSpec PerfRunner::LoadSpecFor(double load) const {
  LoadSpec spec;
  spec.kind = options_.kind;
  spec.concurrency = static_cast<int>(load);
  spec.request_rate = load;
  spec.distribution = options_.distribution;
  spec.async = options_.async;
  spec.streaming = options_.streaming;
  spec.max_threads = options_.max_threads;
  spec.seed = options_.seed;
  return spec;
}

bool PerfRunner::Exceeds(const PerfResult& result) const {
  return options_.latency_threshold.has_value() &&
         ExceedsLatencyThreshold(result, options_.percentile, *options_.latency_threshold);
}

absl::StatusOr<std::vector<PerfResult>> PerfRunner::Run(const ProgressCallback& progress) {
  return options_.search == SearchMode::kBinary ? RunBinary(progress) : RunLinear(progress);
}

absl::StatusOr<std::vector<PerfResult>> PerfRunner::RunLinear(const ProgressCallback& progress) {
  const LoadRange& range = options_.range;
  const double tolerance = range.step * 1e-9;
  std::vector<PerfResult> results;
  for (int i = 0;; ++i) {
    const double load = range.start + i * range.step;
    if (!range.unbounded() && load > range.end + tolerance) break;
    SONIC_ASSIGN_OR_RETURN(PerfResult result, MeasureLevel(load, progress));
    if (Exceeds(result)) break;
    results.push_back(std::move(result));
  }
  return results;
}

absl::StatusOr<std::vector<PerfResult>> PerfRunner::RunBinary(const ProgressCallback& progress) {
  std::vector<PerfResult> results;
  double low = options_.range.start;
  double high = options_.range.end;
  SONIC_ASSIGN_OR_RETURN(PerfResult first, MeasureLevel(low, progress));
  if (Exceeds(first)) return results;
  results.push_back(std::move(first));
  SONIC_ASSIGN_OR_RETURN(PerfResult last, MeasureLevel(high, progress));
  if (!Exceeds(last)) {
    results.push_back(std::move(last));
    return results;
  }
  while (high - low > options_.range.step) {
    double middle = (low + high) / 2;
    if (options_.kind == LoadKind::kConcurrency) middle = std::floor(middle);
    SONIC_ASSIGN_OR_RETURN(PerfResult result, MeasureLevel(middle, progress));
    if (Exceeds(result)) {
      high = middle;
    } else {
      low = middle;
      results.push_back(std::move(result));
    }
  }
  return results;
}

absl::Time PerfRunner::AwaitWindowEnd(const RequestRecorder& recorder, absl::Time start) const {
  if (options_.measurement_mode == MeasurementMode::kTimeWindows) {
    absl::SleepFor(start + options_.measurement_interval - absl::Now());
    return absl::Now();
  }
  do {
    absl::SleepFor(absl::Seconds(1));
  } while (recorder.Pending() < static_cast<size_t>(options_.measurement_request_count));
  return absl::Now();
}

bool PerfRunner::OverThresholdLately(std::span<const Measurement> windows) const {
  if (!options_.latency_threshold.has_value() || windows.size() < kStableWindows) return false;
  return std::any_of(windows.end() - kStableWindows, windows.end(), [&](const Measurement& m) {
    return StabilityLatency(m, options_.percentile) >= *options_.latency_threshold;
  });
}

absl::StatusOr<PerfResult> PerfRunner::MeasureLevel(double load,
                                                    const ProgressCallback& progress) {
  RequestRecorder recorder;
  std::unique_ptr<MetricsScraper> scraper;
  if (options_.metrics.has_value()) {
    SONIC_ASSIGN_OR_RETURN(scraper, MetricsScraper::Start(*options_.metrics));
  }
  SONIC_ASSIGN_OR_RETURN(std::unique_ptr<LoadGenerator> generator,
                         LoadGenerator::Start(*connection_, requests_, recorder,
                                              LoadSpecFor(load)));
  std::vector<Window> windows;
  std::vector<Measurement> measurements;
  absl::Time start = absl::Now();
  std::optional<inference::ModelStatistics> before = Snapshot();
  recorder.TakeEndedBy(start);
  if (scraper != nullptr) (void)scraper->Take();  // scrapes from before the load
  while (static_cast<int>(windows.size()) < options_.max_trials &&
         !IsStable(measurements, options_.stability_threshold, options_.percentile) &&
         !OverThresholdLately(measurements)) {
    const absl::Time end = AwaitWindowEnd(recorder, start);
    Window window{recorder.TakeEndedBy(end), std::move(before), Snapshot(), {}, {}};
    if (scraper != nullptr) {
      absl::StatusOr<std::vector<GpuMetrics>> scrapes = scraper->Take();
      if (!scrapes.ok()) return scrapes.status();
      window.gpu = *std::move(scrapes);
    }
    std::optional<ServerBreakdown> server;
    if (window.before.has_value() && window.after.has_value()) {
      server = BreakdownOf(StatisticsDelta(*window.before, *window.after));
    }
    window.measurement = Summarize(window.records, end - start, options_.batch_size, server,
                                   options_.percentile);
    if (progress) {
      progress({options_.kind, load, static_cast<int>(windows.size()) + 1, options_.max_trials,
                window.measurement});
    }
    if (window.measurement.successes == 0 && window.measurement.failures > 0) {
      generator->Stop();
      return absl::UnavailableError(
          absl::StrCat("every request of a window failed; the first error: ",
                       recorder.FirstError()));
    }
    measurements.push_back(window.measurement);
    before = window.after;
    start = end;
    windows.push_back(std::move(window));
  }
  generator->Stop();
  PerfResult result = MergeLastWindows(load, windows);
  if (result.measurement.successes == 0 && result.measurement.failures == 0) {
    // perf_analyzer refuses such a level too: a throughput of 0 would be a figure nobody measured.
    return absl::DeadlineExceededError(absl::StrCat(
        "no request ended within the measurement windows of load ", load,
        ": use a longer --measurement-interval (-p) or --measurement-mode count_windows"));
  }
  result.stable = IsStable(measurements, options_.stability_threshold, options_.percentile) ||
                  (options_.async && IsStable(measurements, options_.stability_threshold,
                                              options_.percentile, /*check_latency=*/false));
  result.first_error = recorder.FirstError();
  return result;
}

PerfResult PerfRunner::MergeLastWindows(double load, const std::vector<Window>& windows) const {
  const size_t first = windows.size() - std::min(windows.size(), kStableWindows);
  std::vector<RequestRecord> records;
  std::vector<GpuMetrics> scrapes;
  absl::Duration duration;
  for (size_t i = first; i < windows.size(); ++i) {
    records.insert(records.end(), windows[i].records.begin(), windows[i].records.end());
    scrapes.insert(scrapes.end(), windows[i].gpu.begin(), windows[i].gpu.end());
    duration += windows[i].measurement.duration;
  }
  std::optional<ServerBreakdown> server;
  if (!windows.empty() && windows[first].before.has_value() && windows.back().after.has_value()) {
    server = BreakdownOf(StatisticsDelta(*windows[first].before, *windows.back().after));
  }
  PerfResult result;
  result.kind = options_.kind;
  result.load = load;
  result.windows = static_cast<int>(windows.size());
  result.measurement =
      Summarize(records, duration, options_.batch_size, server, options_.percentile);
  if (options_.metrics.has_value()) result.gpu = MergeGpuMetrics(scrapes);
  return result;
}

}  // namespace sonic::tools
