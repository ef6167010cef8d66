// sonic-server's command line, with Triton's flag names where the meaning is the same.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/core/model_manager.h"
#include "server/frontend/grpc_server.h"
#include "server/metrics/metrics_server.h"
#include "server/trace/trace_settings.h"

namespace sonic::server {

struct ServerFlags {
  std::vector<std::filesystem::path> model_repositories;
  ModelControlMode mode = ModelControlMode::kNone;
  std::vector<std::string> load_models;  // explicit mode: loaded at startup; "*" = all
  int repository_poll_secs = 15;
  int exit_timeout_secs = 30;
  int log_verbose = 0;
  std::filesystem::path backend_directory;  // empty: the build's or install's lib folder
  GrpcServer::Options grpc;
  bool allow_metrics = true;
  // The address defaults to the gRPC one (--metrics-address unset).
  metrics::MetricsServer::Options metrics;
  // The startup trace settings: --trace-config and the deprecated --trace-* flags.
  TraceSettingValues trace;
};

// Parses argv. On --help or a bad flag, returns the text to print and the exit code through
// `exit_code` (0 for help) with an error status.
absl::StatusOr<ServerFlags> ParseServerFlags(int argc, char** argv, int& exit_code,
                                             std::string& message);

}  // namespace sonic::server
