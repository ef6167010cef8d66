// Errors of the SONIC client: every failure is an absl::Status whose message names the model, the
// server and (where one is involved) the input or output, and which carries a category saying
// what went wrong in terms a module author acts on, and whether sending again may help.
//
//   category            typical codes                      retry may help
//   kServerUnavailable  UNAVAILABLE, RESOURCE_EXHAUSTED, ABORTED   yes (another try or server)
//   kTimeout            DEADLINE_EXCEEDED                   yes (the server may be less busy)
//   kBadInput           INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE   no: fix the call
//   kModelError         NOT_FOUND, INTERNAL, UNIMPLEMENTED, others   no: fix the model/config
//
// Client-side misuse (wrong element type, a fixed dimension changed, toServer() twice, outputs
// read before completion) is kBadInput. Thread-safe: free functions on values.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "sonic/common/status.h"

namespace sonic::client {

enum class ErrorCategory {
  kNone,               // OK
  kServerUnavailable,  // no connection, server shutting down, model not ready, queue full
  kTimeout,            // the request's deadline expired
  kBadInput,           // the request (or the way the client was used) is wrong
  kModelError,         // unknown model, malformed response, the model failed to execute
};

// "server unavailable", "timeout", "bad input", "model error" ("ok" for kNone).
std::string_view ErrorCategoryName(ErrorCategory category);

// The category recorded on `status` by the client, or the one its code implies (table above).
ErrorCategory GetErrorCategory(const absl::Status& status);

// Whether sending the same request again may succeed: true for kServerUnavailable and kTimeout.
// Agrees with sonic::IsRetryable for statuses the client returns.
bool MayRetry(const absl::Status& status);

// A status of `code` with `category` attached and a message ending in "[<category>; retry may
// help]" or "[<category>; retrying will not help]".
absl::Status MakeClientError(absl::StatusCode code, ErrorCategory category,
                             std::string_view message);

// `status` (from gRPC or elsewhere) with `context` prepended, its category attached (from its
// code unless it already has one) and the retry hint appended. OK stays OK.
absl::Status ClassifyError(const absl::Status& status, std::string_view context);

}  // namespace sonic::client
