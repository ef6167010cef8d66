// sonic-server's command line: tritonserver's flags with Triton's meaning, so launch scripts and
// charts written for tritonserver run it unchanged. A tritonserver flag for a feature this server
// lacks is refused with a message naming it, never ignored.
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/auth/access_policy.h"
#include "server/backend/backend_registry.h"
#include "server/core/model_manager.h"
#include "server/frontend/grpc_server.h"
#include "server/frontend/http_server.h"
#include "server/logging/server_log.h"
#include "server/metrics/metrics_server.h"
#include "server/shm/shared_memory_manager.h"
#include "server/trace/trace_settings.h"

namespace sonic::server {

struct ServerFlags {
  std::vector<std::filesystem::path> model_repositories;
  ModelControlMode mode = ModelControlMode::kNone;
  std::vector<std::string> load_models;  // explicit mode: loaded at startup; "*" = all
  int repository_poll_secs = 15;
  int exit_timeout_secs = 30;
  int model_load_thread_count = 4;
  std::string model_config_name;  // configs/<name>.pbtxt over config.pbtxt where a model has it
  // Bounds on what configs and clients may ask of the server (not tritonserver flags; see
  // ModelManager::Options and SharedMemoryManager::Options).
  uint64_t max_instances_per_model = 64;
  uint64_t max_instances = 512;
  uint64_t max_config_bytes = uint64_t{1} << 20;
  uint64_t max_input_elements = uint64_t{1} << 26;
  SharedMemoryManager::Options shared_memory_limits;
  // A model that fails to load at startup stops the server (exit status 1), as tritonserver.
  bool exit_on_error = true;
  LogSettings log;
  std::filesystem::path backend_directory;  // empty: the build's or install's lib folder
  // --backend-config by backend name ("" for the settings of every backend).
  std::map<std::string, BackendSettings> backend_settings;
  bool allow_grpc = true;
  GrpcServer::Options grpc;
  bool allow_metrics = true;
  bool allow_gpu_metrics = true;
  bool allow_cpu_metrics = true;
  // The address defaults to the gRPC one (--metrics-address unset).
  metrics::MetricsServer::Options metrics;
  bool allow_http = true;
  // The address defaults to the gRPC one (--http-address unset).
  HttpServer::Options http;
  // The startup trace settings: --trace-config and the deprecated --trace-* flags.
  TraceSettingValues trace;
  // Bearer tokens (not tritonserver flags): required once a key is given (--auth-*-file), with
  // the scope of each request class (server/auth/access_policy.h).
  auth::TokenVerifier::Options tokens;
  std::map<auth::AccessClass, std::string> scopes;  // overrides of the default scope names
  std::set<auth::AccessClass> anonymous;            // classes open without a token
  // Where models may be loaded and unloaded from (--repository-control).
  auth::RepositoryControl repository_control = auth::RepositoryControl::kLocal;
};

// Parses argv. On --help or a bad flag, returns the text to print and the exit code through
// `exit_code` (0 for help) with an error status.
absl::StatusOr<ServerFlags> ParseServerFlags(int argc, char** argv, int& exit_code,
                                             std::string& message);

}  // namespace sonic::server
