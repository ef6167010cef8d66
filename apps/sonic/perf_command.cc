// `sonic perf`: perf_analyzer's measurement against any Triton-compatible server (flags,
// semantics and CSV as perf_analyzer's where they mean the same; see src/tools/perf/ and the
// README for where ours differs). The work is in src/tools/perf; this file maps flags to
// PerfOptions and writes the reports.
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "commands.h"
#include "perf_options.h"
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
  bool sync = false;
  bool async = false;
  int64_t measurement_interval_ms = 5000;
  double stability_percentage = 10;
  int percentile = 0;  // 0: judge stability on the mean latency
  std::string csv_file;
  std::string json_file;
};

// Checks what CLI11 cannot (combinations, ranges) and completes the options. The error text
// is for the user; it means exit status 2.
std::optional<std::string> Resolve(PerfFlags& flags) {
  PerfOptions& options = flags.options;
  if (flags.protocol != "grpc") return "-i " + flags.protocol + ": only grpc is supported";
  if (!flags.concurrency_range.empty() && !flags.request_rate_range.empty()) {
    return "give either --concurrency-range or --request-rate-range, not both";
  }
  if (flags.sync && flags.async) return "give either --sync or --async, not both";
  options.async = !flags.sync;
  options.kind = flags.request_rate_range.empty() ? LoadKind::kConcurrency : LoadKind::kRequestRate;
  const std::string range_text = options.kind == LoadKind::kConcurrency
                                     ? (flags.concurrency_range.empty() ? "1"
                                                                        : flags.concurrency_range)
                                     : flags.request_rate_range;
  absl::StatusOr<tools::LoadRange> range = tools::ParseLoadRange(range_text);
  if (!range.ok()) return std::string(range.status().message());
  options.range = *range;
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
  if (flags.percentile != 0) options.percentile = flags.percentile;
  return std::nullopt;
}

void AddFlags(CLI::App& command, PerfFlags& flags) {
  PerfOptions& o = flags.options;
  command.add_option("-m,--model-name", o.model, "model to measure")->required();
  command.add_option("-x,--model-version", o.model_version, "version (default: the server's)");
  command.add_option("-u,--url", o.connection.address, "server HOST:PORT")
      ->default_val("localhost:8001");
  command.add_option("-i,--protocol", flags.protocol, "grpc (the only one)")->capture_default_str();
  command.add_option("-b,--batch-size", o.batch_size, "batch size of every request")
      ->check(CLI::PositiveNumber)->capture_default_str();
  command.add_option("--shape", o.shapes, "NAME:d1,d2,... for inputs with variable dimensions "
                                          "(without the batch dimension); repeatable");
  command.add_option("--concurrency-range", flags.concurrency_range,
                     "start[:end[:step]] requests kept outstanding (default 1)");
  command.add_option("--request-rate-range", flags.request_rate_range,
                     "start[:end[:step]] requests per second sent on a schedule");
  command.add_option("--request-distribution", flags.distribution,
                     "intervals of the request-rate schedule")
      ->check(CLI::IsMember({"constant", "poisson"}))->capture_default_str();
  command.add_option("--input-data", o.input_data,
                     "zero, random, or a JSON file of input values ({\"data\": [...]})")
      ->capture_default_str();
  command.add_option("-p,--measurement-interval", flags.measurement_interval_ms,
                     "length of a measurement window in ms")
      ->check(CLI::PositiveNumber)->capture_default_str();
  command.add_option("-s,--stability-percentage", flags.stability_percentage,
                     "how far (%) the last 3 windows may stray from their mean")
      ->check(CLI::PositiveNumber)->capture_default_str();
  command.add_option("-r,--max-trials", o.max_trials, "windows per load level at most")
      ->check(CLI::PositiveNumber)->capture_default_str();
  command.add_option("--percentile", flags.percentile,
                     "judge latency stability on this percentile instead of the mean")
      ->check(CLI::Range(1, 99));
  command.add_flag("--async", flags.async, "asynchronous requests (the default)");
  command.add_flag("--sync", flags.sync, "blocking requests, one thread per outstanding request");
  command.add_option("--max-threads", o.max_threads, "sending threads of a sync request-rate load")
      ->check(CLI::PositiveNumber)->capture_default_str();
  command.add_option("--shared-memory", flags.shared_memory,
                     "none, system, or cuda (in a build with CUDA)")
      ->check(CLI::IsMember({"none", "system", "cuda"}))->capture_default_str();
  command.add_option("--cuda-device", o.cuda_device,
                     "device of the regions with --shared-memory cuda (sonic's own flag)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  command.add_option("--output-shared-memory-size", o.output_shared_memory_size,
                     "bytes for each output of unknown size in shared memory")
      ->check(CLI::PositiveNumber)->capture_default_str();
  command.add_option("--grpc-compression-algorithm", flags.compression, "none, deflate or gzip")
      ->check(CLI::IsMember({"none", "deflate", "gzip"}))->capture_default_str();
  command.add_flag("--ssl-grpc-use-ssl", o.connection.use_ssl, "TLS to the server");
  command.add_option("--ssl-grpc-root-certifications-file", o.connection.root_certificates_file,
                     "PEM CA certificates (default: the system's)");
  command.add_option("--ssl-grpc-private-key-file", o.connection.private_key_file,
                     "PEM client key (mutual TLS)");
  command.add_option("--ssl-grpc-certificate-chain-file", o.connection.certificate_chain_file,
                     "PEM client certificate chain (mutual TLS)");
  command.add_option("-f,--latency-report-file", flags.csv_file, "write perf_analyzer's CSV here");
  command.add_option("--json", flags.json_file, "write every number as JSON here");
  command.add_option("--seed", o.seed, "seed of random input data and Poisson schedules")
      ->capture_default_str();
}

bool WriteReport(const std::string& path, const std::function<void(std::ostream&)>& write) {
  if (path.empty()) return true;
  std::ofstream out(path);
  write(out);
  out.close();
  if (!out) PrintError("perf", "cannot write " + path);
  return static_cast<bool>(out);
}

int RunPerf(PerfFlags& flags) {
  if (std::optional<std::string> error = Resolve(flags); error.has_value()) {
    PrintError("perf", *error);
    return 2;
  }
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
  tools::ProgressLine progress(std::cerr, tools::StderrIsTerminal());
  absl::StatusOr<std::vector<tools::PerfResult>> results =
      (*runner)->Run([&progress](const tools::PerfProgress& p) {
        progress.Update(tools::FormatProgress(p));
      });
  progress.Finish();
  if (!results.ok()) {
    PrintError("perf", std::string(results.status().message()));
    return 1;
  }
  for (const tools::PerfResult& result : *results) std::cout << tools::FormatResult(result);
  const bool written =
      WriteReport(flags.csv_file,
                  [&](std::ostream& out) { tools::WriteCsv(out, options.kind, *results); }) &&
      WriteReport(flags.json_file,
                  [&](std::ostream& out) { tools::WriteJson(out, options, *results); });
  return written ? 0 : 1;
}

}  // namespace

void AddPerfCommand(CLI::App& app, int& exit_code) {
  CLI::App* command = app.add_subcommand(
      "perf", "measure a model's throughput and latency under load (perf_analyzer's flags and CSV)");
  auto flags = std::make_shared<PerfFlags>();
  AddFlags(*command, *flags);
  command->callback([flags, &exit_code] { exit_code = RunPerf(*flags); });
}

}  // namespace sonic::cli
