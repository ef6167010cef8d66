// Asking a server what it serves: ServerReady and RepositoryIndex(ready=true) over gRPC, with a
// deadline. Internal to the service. Thread-safe (stateless; channels are created per call
// from a process-wide cache).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sonic/service/service_config.h"

namespace sonic::service::internal {

struct ProbeResult {
  bool ready = false;
  std::vector<std::string> models;  // ready models, sorted, unique
  absl::Duration latency;           // of the ServerReady call
};

// ServerReady, then (when ready) RepositoryIndex. UNAVAILABLE when the server cannot be reached
// within `deadline` per call; INVALID_ARGUMENT when a TLS file cannot be read.
absl::StatusOr<ProbeResult> ProbeServer(const ServerConfig& server, absl::Duration deadline);

// Only ServerReady: whether it answered true within `deadline`.
bool ServerIsReady(const std::string& address, absl::Duration deadline);

}  // namespace sonic::service::internal
