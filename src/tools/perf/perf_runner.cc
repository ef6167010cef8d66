#include "perf_runner.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "input_data_file.h"
#include "load_generator.h"
#include "sonic/common/status.h"

namespace sonic::tools {

struct PerfRunner::Window {
  std::vector<RequestRecord> records;
  std::optional<inference::ModelStatistics> before;
  std::optional<inference::ModelStatistics> after;
  Measurement measurement;
};

absl::StatusOr<std::unique_ptr<PerfRunner>> PerfRunner::Create(const PerfOptions& options) {
  if (options.max_trials < 1 || options.measurement_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("a perf run needs max_trials >= 1 and a positive interval");
  }
  SONIC_ASSIGN_OR_RETURN(std::unique_ptr<InferenceConnection> connection,
                         InferenceConnection::Create(options.connection));
  SONIC_ASSIGN_OR_RETURN(
      ModelInterface model,
      FetchModelInterface(connection->stub(), options.model, options.model_version,
                          options.connection.rpc_deadline));
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
  spec.max_threads = options_.max_threads;
  spec.seed = options_.seed;
  return spec;
}

absl::StatusOr<std::vector<PerfResult>> PerfRunner::Run(const ProgressCallback& progress) {
  std::vector<PerfResult> results;
  for (double load : LoadLevels(options_.range)) {
    SONIC_ASSIGN_OR_RETURN(PerfResult result, MeasureLevel(load, progress));
    results.push_back(std::move(result));
  }
  return results;
}

absl::StatusOr<PerfResult> PerfRunner::MeasureLevel(double load,
                                                    const ProgressCallback& progress) {
  RequestRecorder recorder;
  SONIC_ASSIGN_OR_RETURN(std::unique_ptr<LoadGenerator> generator,
                         LoadGenerator::Start(*connection_, requests_, recorder,
                                              LoadSpecFor(load)));
  std::vector<Window> windows;
  std::vector<Measurement> measurements;
  absl::Time start = absl::Now();
  std::optional<inference::ModelStatistics> before = Snapshot();
  recorder.TakeEndedBy(start);
  while (static_cast<int>(windows.size()) < options_.max_trials &&
         !IsStable(measurements, options_.stability_threshold, options_.percentile)) {
    absl::SleepFor(options_.measurement_interval);
    const absl::Time end = absl::Now();
    Window window{recorder.TakeEndedBy(end), std::move(before), Snapshot(), {}};
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
  result.stable = IsStable(measurements, options_.stability_threshold, options_.percentile);
  result.first_error = recorder.FirstError();
  return result;
}

PerfResult PerfRunner::MergeLastWindows(double load, const std::vector<Window>& windows) const {
  const size_t first = windows.size() - std::min(windows.size(), kStableWindows);
  std::vector<RequestRecord> records;
  absl::Duration duration;
  for (size_t i = first; i < windows.size(); ++i) {
    records.insert(records.end(), windows[i].records.begin(), windows[i].records.end());
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
  return result;
}

}  // namespace sonic::tools
