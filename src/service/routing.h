// The routing decision of TritonService as a pure function, so that it is tested without
// servers. Internal to the service; stateless.
#pragma once

#include <string>
#include <vector>

namespace sonic::service::internal {

struct RouteCandidate {
  std::string name;
  std::string address;
  bool healthy = false;
  bool serves_model = false;
  int load = 0;           // clients routed there by the service
  double latency_ms = 0;  // recent ServerLive round trip
  int recent_failures = 0;   // attempts failed there lately (unavailable, timeout)
  int recent_overloads = 0;  // attempts refused there lately for a full queue
  double queue_ms = 0;       // recent mean queue time per request (server statistics)
};

// The index of the server for a request: the candidate named `preferred` when it is healthy and
// serves the model and its address is not `excluded_address`; otherwise, among the healthy ones
// serving the model (and not at `excluded_address`), the lowest load, then the lowest latency,
// then the first name in alphabetical order. -1 when there is none.
int ChooseServer(const std::vector<RouteCandidate>& candidates, const std::string& preferred,
                 const std::string& excluded_address);

// A retry's server after a failure (unavailable, timeout) at `excluded_address`: among the
// healthy ones serving the model elsewhere, the fewest recent failures, then the lowest queue
// time, then the lowest load, latency, name. -1 when there is none.
int ChooseRetryServer(const std::vector<RouteCandidate>& candidates,
                      const std::string& excluded_address);

// A retry's server after a full queue at `current_address`: the healthy one serving the model
// with the fewest recent refusals, then the lowest queue time; the current one unless another
// is strictly better by that order (moving costs a new connection and region). -1 when none.
int ChooseLessLoadedServer(const std::vector<RouteCandidate>& candidates,
                           const std::string& current_address);

}  // namespace sonic::service::internal
