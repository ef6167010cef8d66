// Status helpers shared by every SONIC library.
//
// Errors inside the project are absl::Status / absl::StatusOr. The code says what a retry needs:
// UNAVAILABLE means trying again may work; INVALID_ARGUMENT and FAILED_PRECONDITION mean the
// caller must change something first.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns the status from the enclosing function when `expr` is not OK.
#define SONIC_RETURN_IF_ERROR(expr)                   \
  do {                                                \
    if (::absl::Status sonic_status_ = (expr); !sonic_status_.ok()) { \
      return sonic_status_;                           \
    }                                                 \
  } while (false)

#define SONIC_STATUS_CONCAT_INNER_(a, b) a##b
#define SONIC_STATUS_CONCAT_(a, b) SONIC_STATUS_CONCAT_INNER_(a, b)

// `SONIC_ASSIGN_OR_RETURN(auto x, MakeX());` assigns the value of a StatusOr or returns its error.
#define SONIC_ASSIGN_OR_RETURN(lhs, expr) \
  SONIC_ASSIGN_OR_RETURN_IMPL_(SONIC_STATUS_CONCAT_(sonic_statusor_, __LINE__), lhs, expr)
#define SONIC_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return std::move(tmp).status();     \
  lhs = std::move(tmp).value()

namespace sonic {

// Whether an error with this code may succeed when the same request is sent again.
bool IsRetryable(const absl::Status& status);

// Returns `status` with `context` prepended to its message ("context: message"); OK stays OK.
absl::Status Annotate(const absl::Status& status, std::string_view context);

}  // namespace sonic
