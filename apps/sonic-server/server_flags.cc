#include "server_flags.h"

#include <grpc/grpc.h>

#include <CLI/CLI.hpp>
#include <climits>
#include <map>

#include "server/repository/model_config_loader.h"

namespace sonic::server {
namespace {

// One --backend-config value: "<backend>,<key>=<value>" or "<key>=<value>".
struct BackendSetting {
  std::string backend, key, value;
  std::string error;  // empty when well-formed
};

BackendSetting ParseBackendSetting(const std::string& text) {
  BackendSetting setting;
  std::string rest = text;
  const size_t comma = text.find(',');
  const size_t equals = text.find('=');
  if (comma != std::string::npos && comma < equals) {
    setting.backend = text.substr(0, comma);
    rest = text.substr(comma + 1);
  }
  const size_t split = rest.find('=');
  if (split == std::string::npos || split == 0 || (comma < equals && setting.backend.empty())) {
    setting.error = "'" + text + "' is not <backend>,<key>=<value> or <key>=<value>";
    return setting;
  }
  setting.key = rest.substr(0, split);
  setting.value = rest.substr(split + 1);
  return setting;
}

void AddRepositoryFlags(CLI::App& app, ServerFlags& flags) {
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
  app.add_option("--model-config-name", flags.model_config_name,
                 "Load each model's configs/<NAME>.pbtxt where it has one, else its config.pbtxt")
      ->check([](const std::string& name) {
        const absl::Status error = CustomConfigNameError(name);
        return error.ok() ? std::string() : std::string(error.message());
      });
  app.add_option("--model-load-thread-count", flags.model_load_thread_count,
                 "Models loaded at once at startup")
      ->check(CLI::PositiveNumber);
  app.add_option("--exit-on-error", flags.exit_on_error,
                 "Exit when a model fails to load at startup (true | false)");
  app.add_option("--exit-timeout-secs", flags.exit_timeout_secs,
                 "Seconds to let in-flight requests finish on SIGTERM/SIGINT")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--strict-readiness", flags.grpc.info.strict_readiness,
                 "Ready only while every loaded model is READY (true | false)");
  app.add_option("--id", flags.grpc.info.name, "Server identifier (ServerMetadata name)");
  app.add_option("--backend-directory", flags.backend_directory,
                 "Folder holding libsonic_backend_<name>.so");
  app.add_option_function<std::vector<std::string>>(
         "--backend-config",
         [&flags](const std::vector<std::string>& values) {
           for (const std::string& value : values) {
             const BackendSetting setting = ParseBackendSetting(value);
             flags.backend_settings[setting.backend].emplace_back(setting.key, setting.value);
           }
         },
         "<backend>,<key>=<value> (or <key>=<value> for every backend), repeatable")
      ->check([](const std::string& value) { return ParseBackendSetting(value).error; });
  // Configurations are always taken as written: never auto-completed, which is what this flag
  // asks of tritonserver.
  app.add_flag("--disable-auto-complete-config")
      ->description("Take model configurations as written (always)");
}

// Who may use system shared memory (tritonserver lets any client map any object its user can
// open): see SharedMemoryManager.
void AddSharedMemoryAccessFlags(CLI::App& app, ServerFlags& flags) {
  SharedMemoryManager::Options& shm = flags.shared_memory_limits;
  const std::map<std::string, SystemSharedMemoryAccess> access = {
      {"on", SystemSharedMemoryAccess::kAll},
      {"unix-socket", SystemSharedMemoryAccess::kUnixSocket},
      {"off", SystemSharedMemoryAccess::kNone}};
  app.add_option("--system-shared-memory", shm.system_access,
                 "Who may register system shared memory: on (any client) | unix-socket (peers "
                 "of --grpc-unix-socket only) | off")
      ->transform(CLI::CheckedTransformer(access, CLI::ignore_case));
  app.add_option("--shared-memory-owner-uid", shm.allowed_owner_uids,
                 "A uid whose shm objects TCP/HTTP clients may register (repeatable; default: "
                 "the server's own)");
  app.add_option("--shared-memory-key-prefix", shm.key_prefix,
                 "Shared-memory keys must start with this (default: any key)");
  app.add_option("--grpc-unix-socket", flags.grpc.unix_socket_path,
                 "Serve gRPC on this Unix-domain socket too; its peers register shm objects they "
                 "own");
}

// sonic-server's own bounds (tritonserver has none): a config or client past them is refused
// with a message naming the flag.
void AddLimitFlags(CLI::App& app, ServerFlags& flags) {
  app.add_option("--max-instances-per-model", flags.max_instances_per_model,
                 "Instances (threads) one model may have, all versions together")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-instances", flags.max_instances,
                 "Instances (threads) all models together may have")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-shared-memory-regions", flags.shared_memory_limits.max_regions,
                 "Shared-memory regions clients may register, all together")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-shared-memory-bytes", flags.shared_memory_limits.max_total_bytes,
                 "Total bytes of the shared-memory regions clients may register")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-config-bytes", flags.max_config_bytes,
                 "Largest config.pbtxt (or load request config) read, in bytes")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-input-elements", flags.max_input_elements,
                 "Elements one input of one request may have (a model's config parameter "
                 "max_input_elements overrides it)")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-request-bytes", flags.grpc.max_receive_message_bytes,
                 "Largest request accepted: a gRPC message after decompression, an HTTP body")
      ->check(CLI::Range(1, INT_MAX));
  app.add_option("--max-stream-responses", flags.grpc.max_stream_responses,
                 "Responses a ModelStreamInfer stream may owe its client before it stops reading")
      ->check(CLI::PositiveNumber);
}

// A request class named in a flag; health is always open, so never one.
std::string CheckFlagClass(const std::string& name) {
  absl::StatusOr<auth::AccessClass> access = auth::ParseAccessClass(name);
  if (!access.ok()) return std::string(access.status().message());
  if (*access == auth::AccessClass::kHealth) return "health requests are always open";
  return "";
}

// Bearer tokens and repository control (sonic-server's own; tritonserver has neither).
void AddAccessFlags(CLI::App& app, ServerFlags& flags) {
  auth::TokenVerifier::Options& tokens = flags.tokens;
  app.add_option("--auth-secret-file", tokens.secret_files,
                 "Tokens signed with this HMAC secret (HS256/384/512) are accepted (repeatable)")
      ->check(CLI::ExistingFile);
  app.add_option("--auth-public-key-file", tokens.public_key_files,
                 "Tokens signed for this PEM public key (RSA: RS256..., EC: ES256...) are "
                 "accepted (repeatable)")
      ->check(CLI::ExistingFile);
  app.add_option("--auth-jwks-file", tokens.jwks_files,
                 "Tokens signed for a key of this JWKS file are accepted (repeatable; re-read "
                 "when it changes)")
      ->check(CLI::ExistingFile);
  app.add_option("--auth-issuer", tokens.issuers, "Accepted token issuer 'iss' (repeatable)");
  app.add_option("--auth-audience", tokens.audience, "Required token audience 'aud'");
  app.add_option("--auth-leeway-secs", tokens.leeway_seconds,
                 "Clock skew allowed on token expiry and not-before")
      ->check(CLI::NonNegativeNumber);
  app.add_option_function<std::vector<std::string>>(
         "--auth-scope",
         [&flags](const std::vector<std::string>& values) {
           for (const std::string& value : values) {
             const size_t equals = value.find('=');
             flags.scopes[*auth::ParseAccessClass(value.substr(0, equals))] =
                 value.substr(equals + 1);
           }
         },
         "CLASS=SCOPE: the token scope a request class needs (repeatable; classes inference, "
         "repository, shared_memory, statistics; an empty SCOPE: any valid token)")
      ->check([](const std::string& value) {
        const size_t equals = value.find('=');
        if (equals == std::string::npos) return std::string("expected CLASS=SCOPE");
        return CheckFlagClass(value.substr(0, equals));
      });
  app.add_option_function<std::vector<std::string>>(
         "--auth-anonymous",
         [&flags](const std::vector<std::string>& values) {
           for (const std::string& value : values) {
             flags.anonymous.insert(*auth::ParseAccessClass(value));
           }
         },
         "A request class open without a token (repeatable; e.g. statistics for a Prometheus "
         "that sends none)")
      ->check(CheckFlagClass);
  const std::map<std::string, auth::RepositoryControl> control = {
      {"local", auth::RepositoryControl::kLocal},
      {"any", auth::RepositoryControl::kAny},
      {"off", auth::RepositoryControl::kOff}};
  app.add_option("--repository-control", flags.repository_control,
                 "Who may load and unload models: local (loopback and the Unix-domain socket; "
                 "default) | any | off")
      ->transform(CLI::CheckedTransformer(control, CLI::ignore_case));
}

void AddLogFlags(CLI::App& app, ServerFlags& flags) {
  app.add_option("--log-verbose", flags.log.verbose_level, "Verbose logging level (0 = off)");
  app.add_option("--log-info", flags.log.info, "Log INFO messages (true | false)");
  app.add_option("--log-warning", flags.log.warning, "Log WARNING messages (true | false)");
  app.add_option("--log-error", flags.log.error, "Log ERROR messages (true | false)");
  app.add_option("--log-file", flags.log.file, "Append the log to this file (default: stderr)");
  const std::map<std::string, LogFormat> formats = {{"default", LogFormat::kDefault},
                                                    {"ISO8601", LogFormat::kIso8601}};
  app.add_option("--log-format", flags.log.format, "default | ISO8601")
      ->transform(CLI::CheckedTransformer(formats));
}

void AddGrpcFlags(CLI::App& app, ServerFlags& flags) {
  app.add_option("--allow-grpc", flags.allow_grpc, "Serve gRPC (true | false)");
  app.add_option("--grpc-address", flags.grpc.address, "Address to listen on");
  app.add_option("--grpc-port", flags.grpc.port, "gRPC port (0 = any free port)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--reuse-grpc-port", flags.grpc.reuse_port,
                 "Share the gRPC port with other servers that set this too (true | false)");
  app.add_option("--grpc-threads", flags.grpc.threads,
                 "Threads serving gRPC calls, each with its completion queue (1: fewest thread "
                 "switches per small request; more for large tensors on many cores)")
      ->check(CLI::Range(1, 256));
  app.add_flag("--grpc-use-ssl", flags.grpc.tls.enabled, "Serve gRPC over TLS");
  app.add_flag("--grpc-use-ssl-mutual", flags.grpc.tls.mutual,
               "Serve gRPC over mutual TLS (client certificates verified)");
  app.add_option("--grpc-server-cert", flags.grpc.tls.server_cert_file, "Server certificate (PEM)");
  app.add_option("--grpc-server-key", flags.grpc.tls.server_key_file, "Server key (PEM)");
  app.add_option("--grpc-root-cert", flags.grpc.tls.root_cert_file,
                 "CA certificate for client certificates (PEM)");
  const std::map<std::string, grpc_compression_level> levels = {{"none", GRPC_COMPRESS_LEVEL_NONE},
                                                                {"low", GRPC_COMPRESS_LEVEL_LOW},
                                                                {"medium", GRPC_COMPRESS_LEVEL_MED},
                                                                {"high", GRPC_COMPRESS_LEVEL_HIGH}};
  app.add_option("--grpc-infer-response-compression-level", flags.grpc.response_compression,
                 "none | low | medium | high")
      ->transform(CLI::CheckedTransformer(levels, CLI::ignore_case));
  // tritonserver's keepalive flags and the gRPC channel argument each one sets.
  const std::pair<const char*, const char*> keepalive[] = {
      {"--grpc-keepalive-time", GRPC_ARG_KEEPALIVE_TIME_MS},
      {"--grpc-keepalive-timeout", GRPC_ARG_KEEPALIVE_TIMEOUT_MS},
      {"--grpc-keepalive-permit-without-calls", GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS},
      {"--grpc-http2-max-pings-without-data", GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA},
      {"--grpc-http2-min-recv-ping-interval-without-data",
       GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS},
      {"--grpc-http2-max-ping-strikes", GRPC_ARG_HTTP2_MAX_PING_STRIKES},
      {"--grpc-max-connection-age", GRPC_ARG_MAX_CONNECTION_AGE_MS},
      {"--grpc-max-connection-age-grace", GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS},
  };
  for (const auto& [flag, argument] : keepalive) {
    app.add_option_function<int>(
           flag,
           [&flags, argument = std::string(argument)](int value) {
             flags.grpc.channel_arguments[argument] = value;
           },
           std::string("gRPC channel argument ") + argument)
        ->check(CLI::NonNegativeNumber);
  }
}

void AddMetricsFlags(CLI::App& app, ServerFlags& flags) {
  app.add_option("--allow-metrics", flags.allow_metrics,
                 "Serve Prometheus metrics over HTTP (true | false)")
      ->expected(0, 1)
      ->default_str("true");
  app.add_option("--allow-gpu-metrics", flags.allow_gpu_metrics, "GPU metrics (true | false)");
  app.add_option("--allow-cpu-metrics", flags.allow_cpu_metrics, "CPU metrics (true | false)");
  app.add_option("--metrics-port", flags.metrics.port, "Metrics HTTP port (0 = any free port)")
      ->check(CLI::Range(0, 65535));
  // Metrics are read when scraped, never older than the scrape: no collection interval to set,
  // so any positive interval gives Triton's meaning (at least that fresh).
  app.add_option("--metrics-interval-ms")
      ->description("Metrics are read at each scrape (any interval is met)")
      ->check(CLI::PositiveNumber);
}

void AddHttpFlags(CLI::App& app, ServerFlags& flags) {
  app.add_option("--allow-http", flags.allow_http, "Serve HTTP/REST (true | false)")
      ->expected(0, 1)
      ->default_str("true");
  app.add_option("--http-port", flags.http.port, "HTTP/REST port (0 = any free port)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--reuse-http-port", flags.http.reuse_port,
                 "Share the HTTP port with other servers that set this too (true | false)");
  app.add_option("--http-thread-count", flags.http.thread_count,
                 "HTTP connections served at once (threads)")
      ->check(CLI::PositiveNumber);
}

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

// tritonserver flags for features sonic-server does not have, and why each is refused.
struct MissingFeature {
  const char* flag;
  const char* feature;
};
constexpr MissingFeature kMissingFeatures[] = {
    {"--allow-sagemaker", "the SageMaker endpoint"},
    {"--sagemaker-port", "the SageMaker endpoint"},
    {"--sagemaker-safe-port-range", "the SageMaker endpoint"},
    {"--sagemaker-thread-count", "the SageMaker endpoint"},
    {"--allow-vertex-ai", "the Vertex AI endpoint"},
    {"--vertex-ai-port", "the Vertex AI endpoint"},
    {"--vertex-ai-thread-count", "the Vertex AI endpoint"},
    {"--vertex-ai-default-model", "the Vertex AI endpoint"},
    {"--model-namespacing", "model namespacing"},
    {"--model-load-retry-count", "model load retries"},
    {"--strict-model-config", "model configuration auto-completion"},
    {"--rate-limit", "the rate limiter"},
    {"--rate-limit-resource", "the rate limiter"},
    {"--cache-config", "the response cache"},
    {"--cache-directory", "the response cache"},
    {"--response-cache-byte-size", "the response cache"},
    {"--repoagent-directory", "repository agents"},
    {"--pinned-memory-pool-byte-size", "a pinned memory pool"},
    {"--cuda-memory-pool-byte-size", "a CUDA memory pool"},
    {"--cuda-virtual-address-size", "a CUDA memory pool"},
    {"--min-supported-compute-capability", "a compute capability limit"},
    {"--buffer-manager-thread-count", "buffer manager threads"},
    {"--host-policy", "host policies"},
    {"--model-load-gpu-limit", "GPU memory limits on model loading"},
    {"--enable-peer-access", "CUDA peer access settings"},
    {"--metrics-config", "metrics configuration"},
    {"--grpc-header-forward-pattern", "header forwarding to backends"},
    {"--http-header-forward-pattern", "header forwarding to backends"},
    {"--grpc-restricted-protocol", "restricted protocols"},
    {"--http-restricted-api", "restricted protocols"},
    {"--grpc-infer-allocation-pool-size", "Triton's response allocation pools"},
    {"--grpc-max-response-pool-size", "Triton's response allocation pools"},
};

// Registers every missing feature's flag so that using it is an error naming it (not CLI11's
// generic "unknown option").
std::vector<std::pair<CLI::Option*, const MissingFeature*>> AddMissingFeatureFlags(CLI::App& app) {
  std::vector<std::pair<CLI::Option*, const MissingFeature*>> options;
  for (const MissingFeature& missing : kMissingFeatures) {
    CLI::Option* option = app.add_option(missing.flag)->expected(0, 1)->group("");
    options.emplace_back(option, &missing);
  }
  return options;
}

}  // namespace

absl::StatusOr<ServerFlags> ParseServerFlags(int argc, char** argv, int& exit_code,
                                             std::string& message) {
  ServerFlags flags;
  flags.grpc.info.version = SONIC_VERSION;
  CLI::App app{"sonic-server: a KServe v2 / Triton-compatible inference server"};
  AddRepositoryFlags(app, flags);
  AddLimitFlags(app, flags);
  AddSharedMemoryAccessFlags(app, flags);
  AddAccessFlags(app, flags);
  AddLogFlags(app, flags);
  AddGrpcFlags(app, flags);
  AddMetricsFlags(app, flags);
  CLI::Option* metrics_address = app.add_option("--metrics-address", flags.metrics.address,
                                                "Metrics address (default: --grpc-address)");
  AddHttpFlags(app, flags);
  CLI::Option* http_address = app.add_option("--http-address", flags.http.address,
                                             "HTTP/REST address (default: --grpc-address)");
  TraceFlagOptions trace;
  AddTraceFlags(app, trace);
  auto missing = AddMissingFeatureFlags(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    std::ostringstream out, err;
    exit_code = app.exit(error, out, err);
    message = out.str() + err.str();
    return absl::InvalidArgumentError(message);
  }
  for (const auto& [option, feature] : missing) {
    if (option->count() == 0) continue;
    // Turning off an endpoint that does not exist asks for what this server already does.
    const std::string value = option->results().empty() ? "" : option->results().front();
    if (std::string_view(feature->flag).starts_with("--allow-") && value == "false") continue;
    if (std::string_view(feature->flag) == "--strict-model-config" && value == "true") continue;
    exit_code = 2;
    message = std::string(feature->flag) + ": sonic-server does not have " + feature->feature +
              " (a tritonserver flag it cannot honour)\n";
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
  if (http_address->count() == 0) flags.http.address = flags.grpc.address;
  flags.http.max_request_bytes = static_cast<size_t>(flags.grpc.max_receive_message_bytes);
  if (flags.mode != ModelControlMode::kExplicit && !flags.load_models.empty()) {
    exit_code = 2;
    message = "--load-model needs --model-control-mode=explicit\n";
    return absl::InvalidArgumentError(message);
  }
  const auth::TokenVerifier::Options& tokens = flags.tokens;
  const bool keys = !tokens.secret_files.empty() || !tokens.public_key_files.empty() ||
                    !tokens.jwks_files.empty();
  if (!keys && (!flags.scopes.empty() || !flags.anonymous.empty() || !tokens.issuers.empty() ||
                !tokens.audience.empty())) {
    exit_code = 2;
    message = "token settings need a key: --auth-secret-file, --auth-public-key-file or "
              "--auth-jwks-file\n";
    return absl::InvalidArgumentError(message);
  }
  if (flags.shared_memory_limits.system_access == SystemSharedMemoryAccess::kUnixSocket &&
      flags.grpc.unix_socket_path.empty()) {
    exit_code = 2;
    message = "--system-shared-memory=unix-socket needs --grpc-unix-socket\n";
    return absl::InvalidArgumentError(message);
  }
  return flags;
}

}  // namespace sonic::server
