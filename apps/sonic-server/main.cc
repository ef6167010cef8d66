// sonic-server: serves the models of a Triton model repository over KServe v2 gRPC and HTTP/REST.
//
// Startup: load models per --model-control-mode, bind, print "listening on ADDRESS:PORT", then
// (unless --allow-http=false) serve HTTP/REST and print "http on ADDRESS:PORT", then (unless
// --allow-metrics=false) serve Prometheus metrics and print "metrics on ADDRESS:PORT".
// SIGTERM/SIGINT: stop accepting, let in-flight requests finish within --exit-timeout-secs, stop
// the metrics, unload every model, exit 0. Past the timeout the process exits anyway (status 1),
// and so does a second SIGTERM/SIGINT, at once. Requests whose clients gave up are not waited
// for (they leave the queues without running), nor are idle streams.
#include <malloc.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "server/auth/access_policy.h"
#include "server/backend/backend_registry.h"
#include "server/core/model_manager.h"
#include "server/cuda/cuda_devices.h"
#include "server/frontend/grpc_server.h"
#include "server/frontend/http_api.h"
#include "server/frontend/http_logging_routes.h"
#include "server/frontend/http_server.h"
#include "server/frontend/http_trace_routes.h"
#include "server/logging/server_log.h"
#include "server/metrics/gpu_metrics.h"
#include "server/metrics/host_metrics.h"
#include "server/metrics/metrics_collector.h"
#include "server/metrics/metrics_server.h"
#include "server/repository/model_repository.h"
#include "server/trace/trace_manager.h"
#include "server_flags.h"

namespace sonic::server {
namespace {

// Logs every model's state; returns whether any model the server tried to load failed.
bool LogIndex(const ModelManager& manager) {
  bool failed = false;
  for (const ModelIndexEntry& entry : manager.Index()) {
    if (!entry.state) continue;
    std::string line = "model '" + entry.name + "'";
    if (entry.version) line += " version " + std::to_string(*entry.version);
    line += ": " + std::string(ModelStateName(*entry.state));
    if (!entry.reason.empty()) line += " (" + entry.reason + ")";
    if (entry.state == ModelState::kReady) {
      LogInfo(line);
    } else {
      LogError(line);
      failed = true;
    }
  }
  return failed;
}

// Returns whether a model named with --load-model could not be loaded.
bool LoadAtStartup(ModelManager& manager, const ServerFlags& flags) {
  if (flags.mode != ModelControlMode::kExplicit) {
    manager.LoadAll();
    return false;
  }
  bool failed = false;
  for (const std::string& name : flags.load_models) {
    if (name == "*") {
      manager.LoadAll();
    } else if (absl::Status status = manager.Load(name); !status.ok()) {
      LogError("cannot load model '" + name + "': " + std::string(status.message()));
      failed = true;
    }
  }
  return failed;
}

// Waits for SIGTERM or SIGINT, which every thread has blocked (so this thread receives them).
int WaitForSignal(const sigset_t& signals) {
  int signal = 0;
  sigwait(&signals, &signal);
  return signal;
}

// Who may call what: bearer tokens once a key is configured, and where repository control is
// accepted from. INVALID_ARGUMENT when a key file does not load.
absl::StatusOr<std::unique_ptr<auth::AccessPolicy>> MakeAccessPolicy(const ServerFlags& flags) {
  auth::AccessPolicy::Options options;
  const auth::TokenVerifier::Options& tokens = flags.tokens;
  if (!tokens.secret_files.empty() || !tokens.public_key_files.empty() ||
      !tokens.jwks_files.empty()) {
    auto verifier = auth::TokenVerifier::Create(tokens);
    if (!verifier.ok()) return verifier.status();
    options.verifier = *std::move(verifier);
  }
  for (const auto& [access, scope] : flags.scopes) options.scopes[access] = scope;
  options.anonymous = flags.anonymous;
  options.repository_control = flags.repository_control;
  return std::make_unique<auth::AccessPolicy>(std::move(options));
}

// An endpoint on a non-loopback address that anyone reaching it may use deserves a line in the
// log: tritonserver's default address (0.0.0.0) is kept for compatibility.
void WarnIfOpen(const std::string& endpoint, const std::string& address, bool authenticated) {
  if (authenticated || auth::IsLoopbackAddress(address) || address == "localhost") return;
  LogWarning(endpoint + " on " + address +
             " serves every client that reaches it (no bearer tokens: --auth-*-file)");
}

// The metrics endpoint over `collector`, or null when metrics are off. Prints its address.
absl::StatusOr<std::unique_ptr<metrics::MetricsServer>> StartMetrics(
    const ServerFlags& flags, const metrics::MetricsCollector& collector,
    const auth::AccessPolicy& access) {
  if (!flags.allow_metrics) return nullptr;
  metrics::MetricsServer::Options options = flags.metrics;
  options.authorize = [&access](std::string_view authorization, bool local) {
    return access.Check(auth::AccessClass::kStatistics, {authorization, local});
  };
  auto server =
      metrics::MetricsServer::Create(options, [&collector] { return collector.Scrape(); });
  if (!server.ok()) return server.status();
  std::cout << "sonic-server: metrics on " << flags.metrics.address << ":" << (*server)->port()
            << std::endl;
  return server;
}

// The HTTP/REST endpoint over `api`, or null when HTTP is off. Prints its address.
absl::StatusOr<std::unique_ptr<HttpServer>> StartHttp(const ServerFlags& flags,
                                                      const HttpApi& api) {
  if (!flags.allow_http) return nullptr;
  auto server = HttpServer::Create(flags.http, api);
  if (!server.ok()) return server.status();
  std::cout << "sonic-server: http on " << flags.http.address << ":" << (*server)->port()
            << std::endl;
  return server;
}

std::vector<std::unique_ptr<metrics::MetricsSource>> MetricsSources(const ServerFlags& flags) {
  std::vector<std::unique_ptr<metrics::MetricsSource>> sources;
  if (flags.allow_cpu_metrics) sources.push_back(std::make_unique<metrics::HostMetricsSource>());
  // Only where NVML finds a GPU: otherwise no GPU families at all.
  if (!flags.allow_gpu_metrics) return sources;
  if (auto gpus = metrics::CreateGpuMetricsSource()) sources.push_back(std::move(gpus));
  return sources;
}

int Run(const ServerFlags& flags, const sigset_t& signals) {
  if (absl::Status logging = ServerLog::Get().Apply(flags.log); !logging.ok()) {
    std::cerr << "sonic-server: " << logging.message() << std::endl;
    return 1;
  }
  auto backends = BackendRegistry::Create(
      {.backend_directory = flags.backend_directory, .settings = flags.backend_settings});
  auto repository = ModelRepository::Create(flags.model_repositories);
  if (!backends.ok() || !repository.ok()) {
    LogError(std::string((backends.ok() ? repository.status() : backends.status()).message()));
    return 1;
  }
  const int gpu_count = CudaDeviceCount();
  LogInfo(std::to_string(gpu_count) + " CUDA device(s) visible" +
          (CudaSupportBuilt() ? "" : " (built without CUDA)"));
  ModelManager manager({.repository = repository->get(),
                        .backends = backends->get(),
                        .mode = flags.mode,
                        .gpu_count = gpu_count,
                        .load_thread_count = flags.model_load_thread_count,
                        .max_instances_per_model = flags.max_instances_per_model,
                        .max_instances = flags.max_instances,
                        .max_config_bytes = flags.max_config_bytes,
                        .config_name = flags.model_config_name,
                        .max_input_elements = flags.max_input_elements});
  const bool load_failed = LoadAtStartup(manager, flags);
  if ((LogIndex(manager) || load_failed) && flags.exit_on_error) {
    LogError("exiting: failed to load all models (--exit-on-error=false keeps serving the others)");
    return 1;
  }

  // Trace settings shared by gRPC and HTTP. Destroyed after the endpoints and the models: it
  // writes the traces still buffered and closes the trace files.
  TraceManager traces(flags.trace);
  if (flags.trace.timestamps && flags.trace.file.empty()) {
    LogWarning("tracing is on but no trace file is set (--trace-config triton,file=PATH): no "
               "request is traced");
  }
  // One registry of client shared-memory regions for gRPC and HTTP: one namespace.
  SharedMemoryManager shared_memory(flags.shared_memory_limits);
  absl::StatusOr<std::unique_ptr<auth::AccessPolicy>> access = MakeAccessPolicy(flags);
  if (!access.ok()) {
    LogError(std::string(access.status().message()));
    return 1;
  }
  const bool authenticated = (*access)->tokens_required();
  std::unique_ptr<GrpcServer> server;
  if (flags.allow_grpc) {
    GrpcServer::Options grpc = flags.grpc;
    grpc.shared_memory = &shared_memory;
    grpc.traces = &traces;
    grpc.access = access->get();
    WarnIfOpen("gRPC", flags.grpc.address, authenticated || flags.grpc.tls.mutual);
    auto created = GrpcServer::Create(grpc, manager);
    if (!created.ok()) {
      LogError(std::string(created.status().message()));
      return 1;
    }
    server = *std::move(created);
    std::cout << "sonic-server: listening on " << flags.grpc.address << ":" << server->port()
              << std::endl;
  }
  HttpApi http_api(manager, shared_memory, flags.grpc.info);
  AddTraceRoutes(http_api, traces, manager);
  AddLoggingRoutes(http_api);
  http_api.SetAccessPolicy(access->get());
  if (flags.allow_http) WarnIfOpen("HTTP", flags.http.address, authenticated);
  auto http_server = StartHttp(flags, http_api);
  if (!http_server.ok()) {
    LogError(std::string(http_server.status().message()));
    return 1;
  }
  const metrics::MetricsCollector collector(manager, MetricsSources(flags));
  if (flags.allow_metrics) {
    WarnIfOpen("metrics", flags.metrics.address,
               authenticated && !flags.anonymous.contains(auth::AccessClass::kStatistics));
  }
  auto metrics_server = StartMetrics(flags, collector, **access);
  if (!metrics_server.ok()) {
    LogError(std::string(metrics_server.status().message()));
    return 1;
  }

  absl::Notification stop_polling;
  std::thread poller;
  if (flags.mode == ModelControlMode::kPoll) {
    poller = std::thread([&] {
      while (!stop_polling.WaitForNotificationWithTimeout(
          absl::Seconds(flags.repository_poll_secs))) {
        manager.Poll();
      }
    });
  }

  int signal = WaitForSignal(signals);
  LogInfo(std::string("received ") + strsignal(signal) + ", shutting down");
  // Whoever sends a second signal does not want to wait.
  std::thread([signals] {
    const int again = WaitForSignal(signals);
    LogError(std::string("received ") + strsignal(again) + " again; exiting now");
    std::_Exit(1);
  }).detach();
  // Past the exit timeout nothing is worth waiting for: leave even if a model still runs.
  std::thread([timeout = flags.exit_timeout_secs] {
    std::this_thread::sleep_for(std::chrono::seconds(timeout) + std::chrono::seconds(2));
    LogError("in-flight requests did not finish within --exit-timeout-secs; exiting");
    std::_Exit(1);
  }).detach();
  stop_polling.Notify();
  if (poller.joinable()) poller.join();
  http_api.SetShuttingDown();
  if (*http_server) (*http_server)->Stop();
  if (server) server->Shutdown(absl::Seconds(flags.exit_timeout_secs));
  if (*metrics_server) (*metrics_server)->Stop();
  manager.UnloadAll();
  LogInfo("stopped");
  return 0;
}

}  // namespace
}  // namespace sonic::server

int main(int argc, char** argv) {
  // Block the shutdown signals before any thread starts, so every thread inherits the mask and
  // only the main thread's sigwait receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // Debian builds Abseil without NDEBUG, which leaves absl::Mutex's deadlock detection on: every
  // lock acquisition (gRPC's too) would update a process-wide lock graph under one global
  // spinlock, a measurable share of each request (bench/transport_bench.cc). The unit tests,
  // which do not run through this main, keep it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // Tensors of megabytes are allocated and freed with every request. glibc gives such blocks
  // fresh mappings (a page fault per 4 KiB page, then munmap) until a free raises its threshold,
  // which depends on the thread that freed; keeping them in malloc's heap for reuse cut the
  // server's CPU per 4 MiB request by about a fifth (bench/transport_bench.cc).
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's largest
  mallopt(M_TRIM_THRESHOLD, 256 << 20);

  int exit_code = 0;
  std::string message;
  auto flags = sonic::server::ParseServerFlags(argc, argv, exit_code, message);
  if (!flags.ok()) {
    (exit_code == 0 ? std::cout : std::cerr) << message;
    return exit_code;
  }
  return sonic::server::Run(*flags, signals);
}
