#include "sonic/client/client_error.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace sonic::client {
namespace {

constexpr char kCategoryPayload[] = "type.sonic.dev/sonic.client.ErrorCategory";

ErrorCategory CategoryOfCode(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return ErrorCategory::kNone;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kAborted:
      return ErrorCategory::kServerUnavailable;
    case absl::StatusCode::kDeadlineExceeded:
      return ErrorCategory::kTimeout;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return ErrorCategory::kBadInput;
    default:
      return ErrorCategory::kModelError;
  }
}

std::string RetryHint(ErrorCategory category) {
  const bool may_retry =
      category == ErrorCategory::kServerUnavailable || category == ErrorCategory::kTimeout;
  return absl::StrCat(" [", std::string(ErrorCategoryName(category)),
                      may_retry ? "; retry may help]" : "; retrying will not help]");
}

}  // namespace

std::string_view ErrorCategoryName(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::kNone:
      return "ok";
    case ErrorCategory::kServerUnavailable:
      return "server unavailable";
    case ErrorCategory::kTimeout:
      return "timeout";
    case ErrorCategory::kBadInput:
      return "bad input";
    case ErrorCategory::kModelError:
      return "model error";
  }
  return "unknown";
}

ErrorCategory GetErrorCategory(const absl::Status& status) {
  if (status.ok()) return ErrorCategory::kNone;
  auto payload = status.GetPayload(kCategoryPayload);
  if (payload.has_value()) {
    const std::string value(*payload);
    for (ErrorCategory category :
         {ErrorCategory::kServerUnavailable, ErrorCategory::kTimeout, ErrorCategory::kBadInput,
          ErrorCategory::kModelError}) {
      if (value == ErrorCategoryName(category)) return category;
    }
  }
  return CategoryOfCode(status.code());
}

bool MayRetry(const absl::Status& status) {
  const ErrorCategory category = GetErrorCategory(status);
  return category == ErrorCategory::kServerUnavailable || category == ErrorCategory::kTimeout;
}

absl::Status MakeClientError(absl::StatusCode code, ErrorCategory category,
                             std::string_view message) {
  absl::Status status(code, absl::StrCat(std::string(message), RetryHint(category)));
  status.SetPayload(kCategoryPayload, absl::Cord(std::string(ErrorCategoryName(category))));
  return status;
}

absl::Status ClassifyError(const absl::Status& status, std::string_view context) {
  if (status.ok()) return status;
  if (status.GetPayload(kCategoryPayload).has_value()) {  // already classified: keep its hint
    absl::Status out(status.code(), absl::StrCat(std::string(context), ": ",
                                                 std::string(status.message())));
    status.ForEachPayload(
        [&out](auto url, const absl::Cord& payload) { out.SetPayload(url, payload); });
    return out;
  }
  return MakeClientError(status.code(), GetErrorCategory(status),
                         absl::StrCat(std::string(context), ": ", std::string(status.message())));
}

}  // namespace sonic::client
