// The configuration of a job's TritonService: the servers it knows, the models its modules
// declare, how failed requests are retried, and the local fallback server. Read from the job's
// YAML file and from the environment, or filled in by code.
//
// YAML (every key optional except each server's name and address and each model's name and
// path; unknown keys are errors, so a typo never goes unnoticed):
//
//   servers:
//     - name: site_gpu                      # unique
//       address: gpu01.example.org:8001     # host:port
//       tls:                                # optional; PEM files, all three optional
//         root_certificates: /path/ca.pem
//         private_key: /path/client.key
//         certificate_chain: /path/client.pem
//       token_file: /path/token             # optional: a bearer token sent with every call,
//                                           # read again when the file changes (a grid job's
//                                           # BEARER_TOKEN_FILE); or token_env: VARIABLE
//   preferred_server: site_gpu              # used for a model when it serves it
//   models:                                 # usually declared by modules in code instead
//     - name: particlenet
//       path: /path/to/models/particlenet   # a Triton model directory (config.pbtxt, 1/, ...)
//       preferred_server: site_gpu          # overrides the global one for this model
//   retry_policy: another_server            # same_server | another_server | fallback
//   probe_interval_seconds: 30              # re-discovery of every server's models
//   fallback:
//     enabled: true
//     binary: /path/to/sonic-server         # default: SONIC_SERVER_BINARY, else next to the job
//     launch_command: "my-triton --grpc-port {port} --model-repository {repository}"
//     device: auto                          # auto | cpu | gpu
//     cpu_cores: 0                          # 0: the cores this process may run on
//     startup_timeout_seconds: 120
//     stop_grace_seconds: 10
//     verbose: false                        # the server logs at verbose level
//     debug: false                          # keep the temporary folder (repository, log)
//     temp_dir: /scratch                    # where the temporary folder is made
//     cpu_client_mode: ""                   # Sync | Async | PseudoAsync: see FallbackConfig
//
// Environment: SONIC_SERVER_ADDRESS, when set, names a site-level server (e.g. a load balancer
// in front of many servers) as a comma-separated list of "host:port" addresses; each becomes a
// server named "env0", "env1", ... (insecure gRPC). CMSSW's SONIC_LOCAL_BALANCER_HOST and
// SONIC_LOCAL_BALANCER_PORT (both or neither) add a server named "SONIC_LOCAL_BALANCER", as
// CMSSW's TritonService does. SONIC_SERVER_TOKEN_FILE, when set, is the token file of those
// servers. SONIC_SERVER_BINARY names the sonic-server binary of the fallback when the config does
// not.
//
// Thread-safety: plain values and free functions on them.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sonic/client/triton_client.h"

namespace sonic::service {

// The environment variable naming site-level server addresses (see above).
inline constexpr char kServerAddressEnv[] = "SONIC_SERVER_ADDRESS";
// CMSSW's site-level server: host and port, and the server's name in the service.
inline constexpr char kLocalBalancerHostEnv[] = "SONIC_LOCAL_BALANCER_HOST";
inline constexpr char kLocalBalancerPortEnv[] = "SONIC_LOCAL_BALANCER_PORT";
inline constexpr char kLocalBalancerName[] = "SONIC_LOCAL_BALANCER";
// The environment variable naming the bearer-token file of the servers from the environment.
inline constexpr char kServerTokenFileEnv[] = "SONIC_SERVER_TOKEN_FILE";
// The environment variable naming the fallback's sonic-server binary.
inline constexpr char kServerBinaryEnv[] = "SONIC_SERVER_BINARY";

struct ServerConfig {
  std::string name;
  std::string address;  // "host:port"
  client::TlsOptions tls;
};

// A model a module needs: its name on the servers and its local Triton model directory (what
// the fallback server serves when no server has the model).
struct ModelDeclaration {
  std::string name;
  std::filesystem::path directory;
  // Used when it serves the model; "" = ServiceConfig::preferred_server.
  std::string preferred_server;
};

// Where a request goes after its server failed with a retryable error.
enum class RetryPolicy {
  kSameServer,     // try the same server again (e.g. a load balancer that reroutes by itself)
  kAnotherServer,  // another healthy server that serves the model; the fallback when none
  kFallback,       // straight to the local fallback server (started when needed)
};

// "same_server", "another_server", "fallback".
std::string_view RetryPolicyName(RetryPolicy policy);

enum class FallbackDevice { kAuto, kCpu, kGpu };

struct FallbackConfig {
  bool enabled = false;
  // The sonic-server binary; empty: $SONIC_SERVER_BINARY, else "sonic-server" in the running
  // executable's folder or in ../bin from it.
  std::filesystem::path binary;
  // Replaces the built-in server when not empty: run with /bin/sh -c after replacing every
  // "{port}" with a free port, "{repository}" with the repository path, "{log_verbose}" with
  // the verbose level (1 with `verbose`, else 0) and "{log}" with the log file's path. The
  // server must serve gRPC on 127.0.0.1:{port}, in explicit model-control mode (tritonserver's
  // --model-control-mode=explicit) for models loaded into it later with RepositoryModelLoad
  // (the first ones are in the repository when it starts). The
  // command should exec the server (so that signals reach it); a command that returns at once
  // with status 0 (a launcher that starts a container or a detached server) is waited for on the
  // port instead, and what it started is not stopped by the service.
  std::string launch_command;
  // kAuto: the GPU when one is visible (/dev/nvidia0), else the CPU.
  FallbackDevice device = FallbackDevice::kAuto;
  // Cores the job may use, shared among the fallback's model instances; 0: the cores this
  // process may run on (sched_getaffinity).
  int cpu_cores = 0;
  absl::Duration startup_timeout = absl::Seconds(120);
  // Between SIGTERM and SIGKILL when stopping.
  absl::Duration stop_grace = absl::Seconds(10);
  // Attempts to start (a new port each time) before giving up.
  int start_attempts = 3;
  // The server logs at verbose level (--log-verbose 1; {log_verbose} of a launch command).
  bool verbose = false;
  // Keep the temporary folder (repository, log) after the job, for debugging; its path is in
  // the log header of TritonService::FallbackLogs().
  bool debug = false;
  // Where the temporary folder is made; empty: $TMPDIR, else /tmp.
  std::filesystem::path temp_dir;
  // The mode of clients of a fallback on the CPU that did not choose one (TritonClient::Options
  // ::mode unset). CMSSW makes them Sync so that the job's threads and the server's do not
  // compete for the cores; unset here keeps the client default (Async), which the demonstrator
  // measured faster on a shared CPU (README, the local fallback server).
  std::optional<client::SonicMode> cpu_client_mode;
};

struct ServiceConfig {
  std::vector<ServerConfig> servers;
  std::vector<ModelDeclaration> models;
  std::string preferred_server;
  RetryPolicy retry_policy = RetryPolicy::kAnotherServer;
  // Every server's models and health are re-discovered at this interval (and after failures).
  absl::Duration probe_interval = absl::Seconds(30);
  FallbackConfig fallback;
};

// Parses YAML text (format above). INVALID_ARGUMENT naming the key (and line) on bad input:
// malformed YAML, an unknown key, a missing or empty name/address/path, a duplicate server name,
// an unknown retry policy or device, a negative number.
absl::StatusOr<ServiceConfig> ParseServiceConfig(std::string_view yaml);

// Reads and parses a YAML file; NOT_FOUND when it cannot be read.
absl::StatusOr<ServiceConfig> LoadServiceConfig(const std::filesystem::path& file);

// The servers named by $SONIC_SERVER_ADDRESS and $SONIC_LOCAL_BALANCER_HOST/_PORT (none when
// unset or empty). INVALID_ARGUMENT for an entry that is not "host:port", or for only one of
// the two SONIC_LOCAL_BALANCER variables.
absl::StatusOr<std::vector<ServerConfig>> ServersFromEnvironment();

}  // namespace sonic::service
