// Asking a server what it serves: ServerLive and RepositoryIndex over gRPC, with a deadline.
// Internal to the service.
//
// Not ServerReady: under Triton's default --strict-readiness a server with one model that failed
// to load is "not ready", yet it serves all its other models; what a client needs is whether the
// server answers and which models are READY there (CMSSW's TritonService asks the same).
// Thread-safe (stateless; channels are created per call from a process-wide cache).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "inference/model_config.pb.h"
#include "sonic/service/service_config.h"

namespace sonic::service::internal {

// A model's cumulative queue time on a server (all versions), from ModelStatistics.
struct QueueTotals {
  uint64_t ns = 0;
  uint64_t count = 0;  // requests that were queued (successful ones)
};

struct ProbeResult {
  bool ready = false;               // live: it answers requests
  std::vector<std::string> models;  // ready models, sorted, unique
  // The repository's other models: name -> state and the server's reason ("UNAVAILABLE: ...").
  std::map<std::string, std::string> unready;
  absl::Duration latency;           // of the ServerLive call
  // Per model, when the server answered ModelStatistics (empty otherwise: not an error).
  std::map<std::string, QueueTotals> queue;
};

// ServerLive, then (when live) RepositoryIndex and ModelStatistics. UNAVAILABLE when the server cannot be reached
// within `deadline` per call; INVALID_ARGUMENT when a TLS file cannot be read.
absl::StatusOr<ProbeResult> ProbeServer(const ServerConfig& server, absl::Duration deadline);

// A model of a server's repository as RepositoryIndex lists it.
struct ModelIndexEntry {
  std::string name;
  std::string state;   // "READY", "UNAVAILABLE", ... ("" from servers that leave it out)
  std::string reason;  // why it is not ready, when the server says
};

// RepositoryIndex(ready=false): every model of the repository with its state and reason.
// UNAVAILABLE when the server cannot be reached within `deadline`; INVALID_ARGUMENT when a TLS
// file cannot be read.
absl::StatusOr<std::vector<ModelIndexEntry>> ModelIndex(const ServerConfig& server,
                                                        absl::Duration deadline);

// RepositoryModelLoad of `model` (from the server's repository); the server's error, UNAVAILABLE
// when it cannot be reached within `deadline`.
absl::Status LoadModel(const ServerConfig& server, const std::string& model,
                       absl::Duration deadline);

// The server's config of `model` (ModelConfig, version ""); its error, or UNAVAILABLE when it
// cannot be reached within `deadline`.
absl::StatusOr<inference::ModelConfig> FetchModelConfig(const ServerConfig& server,
                                                        const std::string& model,
                                                        absl::Duration deadline);

// Only ServerLive: whether it answered true within `deadline` (sonic-server loads its startup
// models before it listens, so a live server has finished loading them).
bool ServerIsReady(const std::string& address, absl::Duration deadline);

}  // namespace sonic::service::internal
