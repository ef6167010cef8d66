// Runs the demonstrator job: the ttbar-like source, the configured modules (ML ones through SONIC
// or directly, as the mode says) on the framework's event loop; optionally runs the same events
// again the other way and compares every ML output object by object.
//
// SONIC mode: one TritonService per job (servers from the config and $SONIC_SERVER_ADDRESS;
// with none serving a model and the fallback enabled, it starts a local sonic-server on the
// job's model repository), and per framework stream one TritonClient per ML module.
// Direct mode: per stream one LocalModel per ML module (the same backend code in-process).
//
// Thread-compatible: one RunJob at a time per process (framework/event_processor.h).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "demonstrator/job/job_config.h"
#include "demonstrator/job/job_validation.h"
#include "sonic/framework/event_processor.h"
#include "sonic/service/triton_service.h"

namespace sonic::demo {

struct JobOptions {
  // Also run the events the other way and compare (Validation).
  bool validate = false;
  // Largest accepted |a - b| / max(1, |a|, |b|) per value.
  double tolerance = 1e-5;
  // Progress of the measured run (on the caller's thread).
  std::function<void(const framework::Progress&)> on_progress;
};

// The calls an ML module made to its model in the measured run and the entries (objects) they
// carried; events without objects make no call.
struct ModelCallCount {
  std::string module;
  std::string model;
  int64_t calls = 0;
  int64_t entries = 0;
};

struct JobResult {
  InferenceMode mode = InferenceMode::kSonic;
  framework::ProcessorReport report;
  std::optional<Validation> validation;
  // With validation: the timing of the run the other way (same events).
  std::optional<framework::ProcessorReport> reference_report;
  // SONIC mode: the servers the service knew at the end (fallback ones marked).
  std::vector<std::string> servers;
  // SONIC mode: the same servers with what the job's clients did there (calls, failures,
  // retries, failovers, time lost), for the report.
  std::vector<service::ServerState> server_states;
  // Per ML module, in the configuration's order.
  std::vector<ModelCallCount> model_calls;
};

// INVALID_ARGUMENT for a bad module parameter; NOT_FOUND for a missing model repository in
// direct mode or with the fallback enabled; the service's, clients' and modules' errors;
// FAILED_PRECONDITION when the validation run's events do not match the measured run's.
absl::StatusOr<JobResult> RunJob(const JobConfig& config, const JobOptions& options);

}  // namespace sonic::demo
