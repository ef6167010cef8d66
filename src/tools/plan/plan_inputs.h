// What `sonic plan` reads: the models' measured profiles (levels of `sonic perf --json`, or
// written inline), the workload (jobs, threads, event rate, ML calls and entries per event; the
// rate, threads, calls and entries may come from a `sonic run --report` file) and the
// constraints. One YAML file holds them all; perf and run-report paths in it are relative to
// that file. The format is in the README ("Planning a site") and in configs/plan/.
//
// Stateless functions; thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace sonic::tools {

// One measured load level of one model (a `results` entry of `sonic perf --json`).
struct ProfileLevel {
  int64_t batch_size = 1;      // entries per request
  double concurrency = 1;      // requests outstanding
  double throughput = 0;       // entries (perf's inferences) per second
  double latency_avg_us = 0;
  double latency_p50_us = 0;
  double latency_p99_us = 0;
  // The server's host-side work per request (compute input + compute output), when the server
  // gave statistics.
  std::optional<double> server_host_us;
};

struct ModelProfile {
  std::string model;
  std::string device = "gpu";   // the device kind the levels were measured on
  int instances = 1;            // model instances on the device during the measurement
  double memory_mb_per_instance = 0;
  std::optional<double> server_cpu_us_per_request;  // measured server CPU time per request
  double request_bytes_per_entry = 0;
  double response_bytes_per_entry = 0;
  std::vector<ProfileLevel> levels;
};

enum class ClientMode {
  kSync,   // a thread waits for its calls: they add to the event's time on the thread
  kAsync,  // the thread does other work while a call is out (ExternalWork)
};

struct WorkloadModel {
  std::string model;
  double calls_per_event = 1;
  double entries_per_call = 1;  // the request's batch size
};

struct Workload {
  double jobs = 1;
  int threads = 1;  // per job; one core each
  // Exactly one of the two gives the event rate: a measured rate, or the CPU time per event
  // (with sync calls the unloaded latency of each call is added).
  std::optional<double> events_per_second_per_thread;
  std::optional<double> cpu_ms_per_event;
  ClientMode client_mode = ClientMode::kSync;
  std::vector<WorkloadModel> models;
};

struct Constraints {
  std::string device = "gpu";    // which profiles to plan with
  double gpu_memory_mb = 0;      // per device; 0: not limited
  int gpus_per_server = 1;
  double target_utilization = 0.8;
  std::optional<double> p99_latency_ms;  // per call, queue included
};

struct DirectInference {
  int cores_per_gpu = 0;                       // one GPU for every N cores
  std::optional<double> measured_utilization;  // of such a GPU, when measured
};

struct PlanInputs {
  std::vector<ModelProfile> profiles;
  Workload workload;
  Constraints constraints;
  std::optional<DirectInference> direct;
};

// Reads the plan file and the perf and run-report files it names. INVALID_ARGUMENT naming the
// file, key and line for anything malformed, unknown or inconsistent (a workload model without
// a profile for the device, both or neither event-rate fields); NOT_FOUND for a missing file.
absl::StatusOr<PlanInputs> ReadPlanInputs(const std::filesystem::path& file);

// The same from text; relative paths are taken from `base_dir`.
absl::StatusOr<PlanInputs> ParsePlanInputs(const std::string& yaml_text,
                                           const std::filesystem::path& base_dir);

// The levels of a `sonic perf --json` report. A request-rate report's concurrency is its
// throughput in requests x mean latency (Little's law). Levels without successful requests are
// left out. INVALID_ARGUMENT for text that is not such a report.
absl::StatusOr<std::vector<ProfileLevel>> LevelsFromPerfJson(const std::string& json_text);

// What a job's report says about its workload: a `sonic run --report` file, or the report of
// one `sonic scan` client job (jobs/K1_job0.json). Both have events, events_per_second and threads;
// "models" (optional): [{"model", "calls", "entries"}, ...], the calls each model got and the
// entries they carried (a model named twice, as by two modules, is summed).
struct RunReport {
  int threads = 1;
  double events_per_second = 0;  // the whole job
  // Per model: calls per event and entries per call; empty when the report has no "models".
  std::vector<WorkloadModel> models;
};

// INVALID_ARGUMENT for text that is not such a report, no threads or events, or a model entry
// without a name or with negative counts.
absl::StatusOr<RunReport> ParseRunReport(const std::string& json_text);

}  // namespace sonic::tools
