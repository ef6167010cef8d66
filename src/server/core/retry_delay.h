// A retry delay carried by an absl::Status from the core to the frontends: how long the server
// asks the client to wait before sending again. gRPC sends it as the trailing metadata
// grpc-retry-pushback-ms, HTTP as Retry-After (whole seconds, rounded up).
//
// Thread-safe: stateless functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"

namespace sonic::server {

inline constexpr char kRetryDelayPayloadUrl[] = "type.sonic/retry_delay_ms";

// `status` (an error) with a retry delay of `delay_ms` milliseconds (at least 1).
inline absl::Status WithRetryDelay(absl::Status status, uint64_t delay_ms) {
  status.SetPayload(kRetryDelayPayloadUrl,
                    absl::Cord(std::to_string(delay_ms == 0 ? 1 : delay_ms)));
  return status;
}

// The retry delay in milliseconds that `status` carries, if any.
inline std::optional<uint64_t> RetryDelayMs(const absl::Status& status) {
  // absl::optional, which this Abseil does not alias to std::optional.
  auto payload = status.GetPayload(kRetryDelayPayloadUrl);
  uint64_t ms = 0;
  if (!payload || !absl::SimpleAtoi(std::string(*payload), &ms)) return std::nullopt;
  return ms;
}

}  // namespace sonic::server
