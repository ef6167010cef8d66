// `sonic perf`: perf_analyzer's measurement against any Triton-compatible server (flags,
// semantics and CSV as perf_analyzer's where they mean the same; see src/tools/perf/ and the
// README for where ours differs). The work is in src/tools/perf; this file maps flags to
// PerfOptions and writes the reports. A perf_analyzer flag whose feature sonic perf lacks is
// accepted by the parser only to be refused by name (perf_refused_flags.cc).
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "batch_sweep.h"
#include "commands.h"
#include "perf_options.h"
#include "perf_refused_flags.h"
#include "perf_report.h"
#include "perf_runner.h"
#include "progress_line.h"

namespace sonic::cli {
namespace {

using tools::LoadKind;
using tools::PerfOptions;

// The flags as given, before they are checked against each other.
struct PerfFlags {
  PerfOptions options;
  std::string protocol = "grpc";
  std::string concurrency_range;
  std::string request_rate_range;
  std::string distribution = "constant";
  std::string shared_memory = "none";
  std::string compression = "none";
  std::string measurement_mode = "time_windows";
  std::vector<std::string> headers;
  bool sync = false;
  bool async = false;
  bool zero_input = false;
  bool binary_search = false;
  bool verbose = false;
  bool verbose_csv = false;
  bool collect_metrics = false;
  std::string metrics_url;
  int64_t metrics_interval_ms = 1000;
  int64_t measurement_interval_ms = 5000;
  int64_t latency_threshold_ms = 0;  // 0: no limit
  double stability_percentage = 10;
  int percentile = -1;  // -1: judge stability on the mean latency
  std::string csv_file;
  std::string json_file;
  // sonic's own: the batch-size sweep (batch_sweep.h).
  std::string batch_sizes;
  std::vector<std::string> compare_models;
  std::string plot_file;
  CLI::Option* batch_size_option = nullptr;
  CLI::Option* max_threads = nullptr;
  CLI::Option* metrics_url_option = nullptr;
  CLI::Option* metrics_interval_option = nullptr;
  RefusedFlags refused;
};

// --sync/--async/--streaming as perf_analyzer resolves them: sync unless asked otherwise;
// streaming implies async and refuses --sync.
std::optional<std::string> ResolveMode(PerfFlags& flags) {
  PerfOptions& options = flags.options;
  if (flags.sync && flags.async) return "give either --sync or --async, not both";
  if (options.streaming && flags.sync) return "--streaming cannot be used with --sync";
  options.async = flags.async || options.streaming;
  if (flags.measurement_mode == "count_windows") {
    options.measurement_mode = tools::MeasurementMode::kCountWindows;
  }
  options.search = flags.binary_search ? tools::SearchMode::kBinary : tools::SearchMode::kLinear;
  if (flags.latency_threshold_ms > 0) {
    options.latency_threshold = absl::Milliseconds(flags.latency_threshold_ms);
  }
  if (options.range.unbounded() && !options.latency_threshold.has_value()) {
    return "the end of the range and --latency-threshold cannot both be 0";
  }
  if (flags.binary_search && options.range.unbounded()) {
    return "--binary-search needs an end to the range (not 0)";
  }
  if (flags.binary_search && !options.latency_threshold.has_value()) {
    return "--binary-search needs --latency-threshold";
  }
  return std::nullopt;
}

std::optional<std::string> ResolveMetrics(PerfFlags& flags) {
  if (!flags.collect_metrics) {
    if (flags.metrics_url_option->count() > 0) return "--metrics-url needs --collect-metrics";
    if (flags.metrics_interval_option->count() > 0) {
      return "--metrics-interval needs --collect-metrics";
    }
    return std::nullopt;
  }
  tools::MetricsOptions metrics;
  metrics.url = flags.metrics_url;
  if (metrics.url.empty()) {
    // perf_analyzer's default: the host of -u on Triton's metrics port.
    const std::string& url = flags.options.connection.address;
    metrics.url = url.substr(0, url.find(':')) + ":8002/metrics";
  }
  metrics.interval = absl::Milliseconds(flags.metrics_interval_ms);
  flags.options.metrics = metrics;
  return std::nullopt;
}

std::optional<std::string> ResolveLoad(PerfFlags& flags) {
  PerfOptions& options = flags.options;
  if (!flags.concurrency_range.empty() && !flags.request_rate_range.empty()) {
    return "give either --concurrency-range or --request-rate-range, not both";
  }
  options.kind = flags.request_rate_range.empty() ? LoadKind::kConcurrency : LoadKind::kRequestRate;
  const std::string range_text = options.kind == LoadKind::kConcurrency
                                     ? (flags.concurrency_range.empty() ? "1"
                                                                        : flags.concurrency_range)
                                     : flags.request_rate_range;
  absl::StatusOr<tools::LoadRange> range = tools::ParseLoadRange(range_text);
  if (!range.ok()) return std::string(range.status().message());
  options.range = *range;
  // perf_analyzer's default sending threads: 4 for a request rate, 16 otherwise.
  if (flags.max_threads->count() == 0 && options.kind == LoadKind::kRequestRate) {
    options.max_threads = 4;
  }
  return std::nullopt;
}

// Checks what CLI11 cannot (combinations, ranges) and completes the options. The error text
// is for the user; it means exit status 2.
std::optional<std::string> Resolve(PerfFlags& flags) {
  if (std::optional<std::string> refused = flags.refused.FirstGiven(); refused.has_value()) {
    return refused;
  }
  PerfOptions& options = flags.options;
  if (absl::AsciiStrToLower(flags.protocol) == "http") {
    return "-i http: sonic perf speaks gRPC only (KServe v2 over HTTP/REST is not implemented in "
           "sonic perf); use -i grpc against the server's gRPC port";
  }
  for (const std::string& header : flags.headers) {
    absl::StatusOr<std::pair<std::string, std::string>> parsed = tools::ParseHeader(header);
    if (!parsed.ok()) return std::string(parsed.status().message());
    options.connection.metadata.push_back(*std::move(parsed));
  }
  if (std::optional<std::string> error = ResolveLoad(flags); error.has_value()) return error;
  if (std::optional<std::string> error = ResolveMode(flags); error.has_value()) return error;
  if (std::optional<std::string> error = ResolveMetrics(flags); error.has_value()) return error;
  if (flags.zero_input) options.input_data = "zero";
  options.distribution = flags.distribution == "poisson" ? tools::RequestDistribution::kPoisson
                                                         : tools::RequestDistribution::kConstant;
  options.shared_memory = flags.shared_memory == "system" ? tools::SharedMemoryKind::kSystem
                          : flags.shared_memory == "cuda" ? tools::SharedMemoryKind::kCuda
                                                          : tools::SharedMemoryKind::kNone;
  options.connection.compression = flags.compression == "gzip"      ? tools::RequestCompression::kGzip
                                   : flags.compression == "deflate" ? tools::RequestCompression::kDeflate
                                                                    : tools::RequestCompression::kNone;
  options.measurement_interval = absl::Milliseconds(flags.measurement_interval_ms);
  options.stability_threshold = flags.stability_percentage / 100.0;
  if (flags.percentile == 0) return "--percentile must be -1 or in 1..99";
  if (flags.percentile > 0) options.percentile = flags.percentile;
  return std::nullopt;
}

void AddLoadFlags(CLI::App& command, PerfFlags& flags) {
  PerfOptions& o = flags.options;
  command.add_option("--concurrency-range", flags.concurrency_range,
                     "start[:end[:step]] requests kept outstanding (default 1; end 0: until "
                     "--latency-threshold)");
  command.add_option("--request-rate-range", flags.request_rate_range,
                     "start[:end[:step]] requests per second sent on a schedule");
  command.add_option("--request-distribution", flags.distribution,
                     "intervals of the request-rate schedule")
      ->check(CLI::IsMember({"constant", "poisson"}))->capture_default_str();
  command.add_flag("--binary-search", flags.binary_search,
                   "bisect the range for the highest load within --latency-threshold (step: the "
                   "precision)");
  command.add_option("-l,--latency-threshold", flags.latency_threshold_ms,
                     "ms; a level whose latency reaches it ends the sweep (0: no limit)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  command.add_flag("-a,--async", flags.async, "asynchronous requests");
  command.add_flag("--sync", flags.sync,
                   "blocking requests, one thread per outstanding request (the default)");
  command.add_flag("--streaming", o.streaming,
                   "requests over ModelStreamInfer, one stream per concurrency slot (async)");
  flags.max_threads =
      command.add_option("--max-threads", o.max_threads,
                         "sending threads of a sync request-rate load (default 4 there)")
          ->check(CLI::PositiveNumber);
  command.add_option("--measurement-mode", flags.measurement_mode,
                     "time_windows (of -p ms) or count_windows (of --measurement-request-count)")
      ->check(CLI::IsMember({"time_windows", "count_windows"}))->capture_default_str();
  command.add_option("-p,--measurement-interval", flags.measurement_interval_ms,
                     "length of a measurement window in ms")
      ->check(CLI::PositiveNumber)->capture_default_str();
  command.add_option("--measurement-request-count", o.measurement_request_count,
                     "requests per window with count_windows (windows last whole seconds)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  command.add_option("-s,--stability-percentage", flags.stability_percentage,
                     "how far (%) the largest of the last 3 windows may be above the smallest")
      ->check(CLI::PositiveNumber)->capture_default_str();
  command.add_option("-r,--max-trials", o.max_trials, "windows per load level at most")
      ->check(CLI::PositiveNumber)->capture_default_str();
  command.add_option("--percentile", flags.percentile,
                     "judge latency stability on this percentile (1..99) instead of the mean")
      ->check(CLI::Range(-1, 99));
}

void AddDataFlags(CLI::App& command, PerfFlags& flags) {
  PerfOptions& o = flags.options;
  flags.batch_size_option =
      command.add_option("-b,--batch-size", o.batch_size, "batch size of every request")
          ->check(CLI::PositiveNumber)->capture_default_str();
  command.add_option("--shape", o.shapes, "NAME:d1,d2,... for inputs with variable dimensions "
                                          "(without the batch dimension); repeatable");
  command.add_option("--input-data", o.input_data,
                     "zero, random, or a JSON file of input values ({\"data\": [...]})")
      ->capture_default_str();
  command.add_flag("-z", flags.zero_input, "the same as --input-data zero");
  command.add_option("--string-length", o.string_length,
                     "length of the random strings of BYTES inputs")
      ->check(CLI::PositiveNumber)->capture_default_str();
  command.add_option("--seed", o.seed, "seed of random input data and Poisson schedules")
      ->capture_default_str();
  command.add_option("--shared-memory", flags.shared_memory,
                     "none, system, or cuda (in a build with CUDA)")
      ->check(CLI::IsMember({"none", "system", "cuda"}))->capture_default_str();
  command.add_option("--cuda-device", o.cuda_device,
                     "device of the regions with --shared-memory cuda (sonic's own flag)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  command.add_option("--output-shared-memory-size", o.output_shared_memory_size,
                     "bytes for each output of unknown size in shared memory")
      ->check(CLI::PositiveNumber)->capture_default_str();
}

void AddServerFlags(CLI::App& command, PerfFlags& flags) {
  PerfOptions& o = flags.options;
  command.add_option("-m,--model-name", o.model, "model to measure")->required();
  command.add_option("-x,--model-version", o.model_version, "version (default: the server's)");
  command.add_option("-u,--url", o.connection.address, "server HOST:PORT (gRPC)")
      ->default_val("localhost:8001");
  command.add_option("-i,--protocol", flags.protocol, "grpc (http is refused)")
      ->check(CLI::IsMember({"grpc", "http"}, CLI::ignore_case))->capture_default_str();
  command.add_option("-H", flags.headers,
                     "'Name: value' gRPC metadata sent with every request; repeatable");
  command.add_option("--grpc-compression-algorithm", flags.compression, "none, deflate or gzip")
      ->check(CLI::IsMember({"none", "deflate", "gzip"}))->capture_default_str();
  command.add_flag("--ssl-grpc-use-ssl", o.connection.use_ssl, "TLS to the server");
  command.add_option("--ssl-grpc-root-certifications-file", o.connection.root_certificates_file,
                     "PEM CA certificates (default: the system's)");
  command.add_option("--ssl-grpc-private-key-file", o.connection.private_key_file,
                     "PEM client key (mutual TLS)");
  command.add_option("--ssl-grpc-certificate-chain-file", o.connection.certificate_chain_file,
                     "PEM client certificate chain (mutual TLS)");
  command.add_option("--bearer-token-file", o.connection.token_file,
                     "send the bearer token in this file with every request (read again when it "
                     "changes)");
  command.add_option("--bearer-token-env", o.connection.token_env,
                     "send the bearer token in this environment variable with every request");
}

void AddReportFlags(CLI::App& command, PerfFlags& flags) {
  command.add_option("-f,--latency-report-file", flags.csv_file, "write perf_analyzer's CSV here");
  command.add_flag("--verbose-csv", flags.verbose_csv,
                   "add Avg latency, request/response, response wait (and the GPU metrics) to "
                   "the CSV");
  command.add_flag("--collect-metrics", flags.collect_metrics,
                   "scrape the server's Prometheus metrics for GPU utilization, power, memory");
  flags.metrics_url_option = command.add_option(
      "--metrics-url", flags.metrics_url, "HOST:PORT/PATH (default: -u's host, :8002/metrics)");
  flags.metrics_interval_option =
      command.add_option("--metrics-interval", flags.metrics_interval_ms,
                         "ms between scrapes during a window")
          ->check(CLI::PositiveNumber)->capture_default_str();
  command.add_option("--json", flags.json_file, "write every number as JSON here");
  command.add_option("--batch-sizes", flags.batch_sizes,
                     "1,2,4,...: measure at each batch size in turn (sonic's own)");
  command.add_option("--compare-model", flags.compare_models,
                     "another model measured the same way after -m; repeatable (sonic's own)");
  command.add_option("--plot", flags.plot_file,
                     "PNG of throughput against batch size, one line per model (its data in the "
                     "same name .csv; sonic's own)");
  command.add_flag("-v", flags.verbose, "print every measurement window");
}

bool WriteReport(const std::string& path, const std::function<void(std::ostream&)>& write) {
  if (path.empty()) return true;
  std::ofstream out(path);
  write(out);
  out.close();
  if (!out) PrintError("perf", "cannot write " + path);
  return static_cast<bool>(out);
}

tools::ProgressCallback Progress(const PerfFlags& flags, tools::ProgressLine& line) {
  if (!flags.verbose) {
    return [&line](const tools::PerfProgress& p) { line.Update(tools::FormatProgress(p)); };
  }
  return [](const tools::PerfProgress& p) {
    std::cerr << absl::StrFormat("  Pass [%d] throughput: %g infer/sec. Avg latency: %d usec\n",
                                 p.window, p.last.throughput,
                                 absl::ToInt64Microseconds(p.last.mean_latency));
  };
}

bool IsSweep(const PerfFlags& flags) {
  return !flags.batch_sizes.empty() || !flags.compare_models.empty() || !flags.plot_file.empty();
}

// The batch sizes of a sweep; the error text is for the user (exit status 2).
absl::StatusOr<std::vector<int64_t>> SweepBatchSizes(const PerfFlags& flags) {
  if (!flags.csv_file.empty() || !flags.json_file.empty()) {
    return absl::InvalidArgumentError(
        "-f and --json write one run; with --batch-sizes, --compare-model or --plot the points "
        "go to the plot's CSV");
  }
  if (flags.batch_sizes.empty()) return std::vector<int64_t>{flags.options.batch_size};
  if (flags.batch_size_option->count() > 0) {
    return absl::InvalidArgumentError("give either -b or --batch-sizes, not both");
  }
  return tools::ParseBatchSizes(flags.batch_sizes);
}

// -m and every --compare-model at each batch size, then the plot.
int RunSweep(PerfFlags& flags) {
  absl::StatusOr<std::vector<int64_t>> batch_sizes = SweepBatchSizes(flags);
  if (!batch_sizes.ok()) {
    PrintError("perf", std::string(batch_sizes.status().message()));
    return 2;
  }
  std::vector<std::string> models = {flags.options.model};
  models.insert(models.end(), flags.compare_models.begin(), flags.compare_models.end());
  tools::ProgressLine progress(std::cerr, tools::StderrIsTerminal() && !flags.verbose);
  absl::StatusOr<std::vector<tools::SweepPoint>> points = tools::RunBatchSweep(
      flags.options, models, *batch_sizes, Progress(flags, progress),
      [&progress](const std::string& model, int64_t batch_size,
                  const std::vector<tools::PerfResult>& results) {
        progress.Finish();
        std::cout << "Model " << model << ", batch size " << batch_size << "\n";
        for (const tools::PerfResult& result : results) std::cout << tools::FormatResult(result);
      });
  progress.Finish();
  if (!points.ok()) {
    PrintError("perf", std::string(points.status().message()));
    return points.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  if (flags.plot_file.empty()) return 0;
  const absl::Status plotted = tools::PlotSweep(
      flags.plot_file, *points,
      absl::StrCat("throughput vs batch size (", flags.options.connection.address, ")"));
  if (!plotted.ok()) {
    PrintError("perf", std::string(plotted.message()));
    return 1;
  }
  std::cout << "plot: " << flags.plot_file << "\n";
  return 0;
}

int RunPerf(PerfFlags& flags) {
  if (std::optional<std::string> error = Resolve(flags); error.has_value()) {
    PrintError("perf", *error);
    return 2;
  }
  if (IsSweep(flags)) return RunSweep(flags);
  const PerfOptions& options = flags.options;
  absl::StatusOr<std::unique_ptr<tools::PerfRunner>> runner = tools::PerfRunner::Create(options);
  if (!runner.ok()) {
    PrintError("perf", std::string(runner.status().message()));
    return runner.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  if (!(*runner)->has_server_statistics()) {
    std::cerr << "sonic perf: the server gives no statistics for " << options.model
              << ": no server-side breakdown\n";
  }
  tools::ProgressLine progress(std::cerr, tools::StderrIsTerminal() && !flags.verbose);
  absl::StatusOr<std::vector<tools::PerfResult>> results =
      (*runner)->Run(Progress(flags, progress));
  progress.Finish();
  if (!results.ok()) {
    PrintError("perf", std::string(results.status().message()));
    return 1;
  }
  for (const tools::PerfResult& result : *results) std::cout << tools::FormatResult(result);
  tools::CsvLayout layout;
  layout.server_statistics = (*runner)->has_server_statistics();
  layout.response_cache = (*runner)->model().response_cache;
  layout.verbose = flags.verbose_csv;
  layout.percentile = options.percentile;
  layout.gpu_metrics = options.metrics.has_value();
  const bool written =
      WriteReport(flags.csv_file,
                  [&](std::ostream& out) { tools::WriteCsv(out, options.kind, *results, layout); }) &&
      WriteReport(flags.json_file,
                  [&](std::ostream& out) { tools::WriteJson(out, options, *results); });
  return written ? 0 : 1;
}

}  // namespace

void AddPerfCommand(CLI::App& app, int& exit_code) {
  CLI::App* command = app.add_subcommand(
      "perf", "measure a model's throughput and latency under load (perf_analyzer's flags and CSV)");
  auto flags = std::make_shared<PerfFlags>();
  AddServerFlags(*command, *flags);
  AddLoadFlags(*command, *flags);
  AddDataFlags(*command, *flags);
  AddReportFlags(*command, *flags);
  flags->refused.AddTo(*command);
  command->callback([flags, &exit_code] { exit_code = RunPerf(*flags); });
}

}  // namespace sonic::cli
