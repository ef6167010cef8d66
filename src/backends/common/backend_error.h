// Helpers for implementing the C backend interface (include/sonic/backend/backend_api.h) in C++:
// the SonicBackendError object, absl::Status conversion, and the exception barrier every entry
// point needs. Shared by the built-in identity backend and the plugin backends; each backend
// library carries its own copy (a plugin links this statically and hides it), so an error is
// always created and deleted by the same library.
//
// Thread-safe: everything here is stateless.
#pragma once

#include <cstdint>
#include <exception>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "sonic/backend/backend_api.h"

// The definition of the opaque error type of backend_api.h.
struct SonicBackendError {
  int32_t code;
  std::string message;
};

namespace sonic::backends {

// A new error carrying `status`'s code and message, owned by the caller (the server frees it with
// the table's error_delete); nullptr when `status` is OK.
SonicBackendError* NewBackendError(const absl::Status& status);

// The three error functions of a SonicBackendApi table, for backends using NewBackendError.
int32_t BackendErrorCode(const SonicBackendError* error);
const char* BackendErrorMessage(const SonicBackendError* error);
void BackendErrorDelete(SonicBackendError* error);

// A statically allocated error returned when memory for a real one cannot be had;
// BackendErrorDelete recognises it and does not free it.
SonicBackendError* OutOfMemoryBackendError() noexcept;

// Runs `fn` (returning absl::Status) and converts its result into a SonicBackendError*. Any
// exception `fn` throws is caught and becomes INTERNAL naming `what_failed`, so nothing escapes a
// C entry point; if even that error cannot be allocated, OutOfMemoryBackendError() is returned.
template <typename Fn>
SonicBackendError* GuardedCall(const char* what_failed, Fn&& fn) noexcept {
  try {
    return NewBackendError(std::forward<Fn>(fn)());
  } catch (const std::exception& e) {
    try {
      return NewBackendError(
          absl::InternalError(std::string(what_failed) + ": unexpected exception: " + e.what()));
    } catch (...) {
    }
  } catch (...) {
    try {
      return NewBackendError(
          absl::InternalError(std::string(what_failed) + ": unexpected non-standard exception"));
    } catch (...) {
    }
  }
  return OutOfMemoryBackendError();
}

}  // namespace sonic::backends
