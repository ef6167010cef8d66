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
};

// The index of the server for a request: the candidate named `preferred` when it is healthy and
// serves the model and its address is not `excluded_address`; otherwise, among the healthy ones
// serving the model (and not at `excluded_address`), the lowest load, then the lowest latency,
// then the first name in alphabetical order. -1 when there is none.
int ChooseServer(const std::vector<RouteCandidate>& candidates, const std::string& preferred,
                 const std::string& excluded_address);

}  // namespace sonic::service::internal
