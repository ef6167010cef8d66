#include "backends/common/backend_error.h"

namespace sonic::backends {
namespace {

// Allocated when the library loads, so it exists before memory runs out; never freed.
SonicBackendError* const kOutOfMemoryError =
    new SonicBackendError{static_cast<int32_t>(absl::StatusCode::kResourceExhausted),
                          "backend out of memory while reporting an error"};

}  // namespace

SonicBackendError* NewBackendError(const absl::Status& status) {
  if (status.ok()) return nullptr;
  return new SonicBackendError{static_cast<int32_t>(status.code()), std::string(status.message())};
}

SonicBackendError* OutOfMemoryBackendError() noexcept { return kOutOfMemoryError; }

int32_t BackendErrorCode(const SonicBackendError* error) {
  return error == nullptr ? 0 : error->code;
}

const char* BackendErrorMessage(const SonicBackendError* error) {
  return error == nullptr ? "" : error->message.c_str();
}

void BackendErrorDelete(SonicBackendError* error) {
  if (error != kOutOfMemoryError) delete error;
}

}  // namespace sonic::backends
