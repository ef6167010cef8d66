// Status helpers shared by every SONIC library.
//
// Errors inside the project are absl::Status / absl::StatusOr. The code says what a retry needs:
// UNAVAILABLE means trying again may work; INVALID_ARGUMENT and FAILED_PRECONDITION mean the
// caller must change something first.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

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

// Error messages quote what clients sent (model, tensor and region names, versions); a client
// can send megabytes. Quoted text keeps at most kMaxQuotedBytes of it, so that an error stays
// small whatever was sent (gRPC clients refuse trailers over 8 KiB by default).
inline constexpr size_t kMaxQuotedBytes = 128;

// `text` cut to at most `max_bytes` bytes at a UTF-8 character boundary, with "..." appended
// when cut (the result is then at most max_bytes + 3 bytes).
std::string Truncated(std::string_view text, size_t max_bytes);

// Truncated(text, kMaxQuotedBytes): for a name a client sent, quoted in an error message.
inline std::string Quoted(std::string_view text) { return Truncated(text, kMaxQuotedBytes); }

// `text` for absl::StrCat and the other Abseil string functions: Debian's Abseil has its own
// absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW is 0), which does not convert from
// std::string_view.
inline absl::string_view ToAbsl(std::string_view text) { return {text.data(), text.size()}; }

}  // namespace sonic
