#include "server_flags.h"

#include <CLI/CLI.hpp>
#include <map>

namespace sonic::server {

namespace {

// tritonserver's trace flags, as given; TraceSettingsFromFlags reads them after parsing.
struct TraceFlagOptions {
  TraceFlags flags;
  std::string file, rate, count, log_frequency;
  CLI::Option* file_option = nullptr;
  CLI::Option* rate_option = nullptr;
  CLI::Option* count_option = nullptr;
  CLI::Option* log_frequency_option = nullptr;

  absl::StatusOr<TraceSettingValues> Values() {
    if (file_option->count() != 0) flags.file = file;
    if (rate_option->count() != 0) flags.rate = rate;
    if (count_option->count() != 0) flags.count = count;
    if (log_frequency_option->count() != 0) flags.log_frequency = log_frequency;
    return TraceSettingsFromFlags(flags);
  }
};

void AddTraceFlags(CLI::App& app, TraceFlagOptions& trace) {
  app.add_option("--trace-config", trace.flags.config,
                 "Trace setting (repeatable): level=OFF|TIMESTAMPS, rate=N, count=N, "
                 "mode=triton, triton,file=PATH, triton,log-frequency=N");
  app.add_option("--trace-level", trace.flags.level, "Deprecated: --trace-config level=...");
  trace.file_option =
      app.add_option("--trace-file", trace.file, "Deprecated: --trace-config triton,file=...");
  trace.rate_option =
      app.add_option("--trace-rate", trace.rate, "Deprecated: --trace-config rate=...");
  trace.count_option =
      app.add_option("--trace-count", trace.count, "Deprecated: --trace-config count=...");
  trace.log_frequency_option =
      app.add_option("--trace-log-frequency", trace.log_frequency,
                     "Deprecated: --trace-config triton,log-frequency=...");
}

}  // namespace

absl::StatusOr<ServerFlags> ParseServerFlags(int argc, char** argv, int& exit_code,
                                             std::string& message) {
  ServerFlags flags;
  flags.grpc.info.version = SONIC_VERSION;
  CLI::App app{"sonic-server: a KServe v2 / Triton-compatible inference server"};
  app.add_option("--model-repository,--model-store", flags.model_repositories,
                 "Model repository directory (repeatable)")
      ->required()
      ->check(CLI::ExistingDirectory);
  const std::map<std::string, ModelControlMode> modes = {{"none", ModelControlMode::kNone},
                                                         {"explicit", ModelControlMode::kExplicit},
                                                         {"poll", ModelControlMode::kPoll}};
  app.add_option("--model-control-mode", flags.mode, "none | explicit | poll")
      ->transform(CLI::CheckedTransformer(modes, CLI::ignore_case));
  app.add_option("--load-model", flags.load_models,
                 "Model to load at startup in explicit mode (repeatable; '*' loads all)");
  app.add_option("--repository-poll-secs", flags.repository_poll_secs,
                 "Seconds between repository polls in poll mode")
      ->check(CLI::PositiveNumber);
  app.add_option("--exit-timeout-secs", flags.exit_timeout_secs,
                 "Seconds to let in-flight requests finish on SIGTERM/SIGINT")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--log-verbose", flags.log_verbose, "Verbose logging level (0 = off)");
  app.add_option("--backend-directory", flags.backend_directory,
                 "Folder holding libsonic_backend_<name>.so");
  app.add_option("--grpc-address", flags.grpc.address, "Address to listen on");
  app.add_option("--grpc-port", flags.grpc.port, "gRPC port (0 = any free port)")
      ->check(CLI::Range(0, 65535));
  app.add_flag("--grpc-use-ssl", flags.grpc.tls.enabled, "Serve gRPC over TLS");
  app.add_flag("--grpc-use-ssl-mutual", flags.grpc.tls.mutual,
               "Serve gRPC over mutual TLS (client certificates verified)");
  app.add_option("--grpc-server-cert", flags.grpc.tls.server_cert_file, "Server certificate (PEM)");
  app.add_option("--grpc-server-key", flags.grpc.tls.server_key_file, "Server key (PEM)");
  app.add_option("--grpc-root-cert", flags.grpc.tls.root_cert_file,
                 "CA certificate for client certificates (PEM)");
  app.add_option("--allow-metrics", flags.allow_metrics,
                 "Serve Prometheus metrics over HTTP (true | false)")
      ->expected(0, 1)
      ->default_str("true");
  app.add_option("--metrics-port", flags.metrics.port, "Metrics HTTP port (0 = any free port)")
      ->check(CLI::Range(0, 65535));
  CLI::Option* metrics_address = app.add_option("--metrics-address", flags.metrics.address,
                                                "Metrics address (default: --grpc-address)");
  TraceFlagOptions trace;
  AddTraceFlags(app, trace);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    std::ostringstream out, err;
    exit_code = app.exit(error, out, err);
    message = out.str() + err.str();
    return absl::InvalidArgumentError(message);
  }
  absl::StatusOr<TraceSettingValues> trace_values = trace.Values();
  if (!trace_values.ok()) {
    exit_code = 2;
    message = std::string(trace_values.status().message()) + "\n";
    return absl::InvalidArgumentError(message);
  }
  flags.trace = *std::move(trace_values);
  if (flags.grpc.tls.mutual) flags.grpc.tls.enabled = true;
  if (metrics_address->count() == 0) flags.metrics.address = flags.grpc.address;
  if (flags.mode != ModelControlMode::kExplicit && !flags.load_models.empty()) {
    exit_code = 2;
    message = "--load-model needs --model-control-mode=explicit\n";
    return absl::InvalidArgumentError(message);
  }
  return flags;
}

}  // namespace sonic::server
