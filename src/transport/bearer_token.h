// Bearer tokens on the client side's gRPC channels: every call carries the metadata
// `authorization: Bearer <token>` (what sonic-server, and Triton behind a token-checking proxy,
// verify). The token comes from a file, read again whenever it changes (grid jobs have their
// token files refreshed while they run: WLCG's BEARER_TOKEN_FILE), or from an environment
// variable. Internal to the project's client-side libraries.
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/client_interceptor.h>

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace sonic::transport {

// Where a client's token comes from; both empty: no token. `file` wins over `env`.
struct BearerTokenOptions {
  std::string file;  // a file holding the token (surrounding whitespace ignored)
  std::string env;   // the name of an environment variable holding it
  bool empty() const { return file.empty() && env.empty(); }
  bool operator==(const BearerTokenOptions&) const = default;
};

// The current token. Thread-safe.
class BearerTokenSource {
 public:
  // Reads the token once. INVALID_ARGUMENT (not retryable) when the file cannot be read, the
  // variable is unset, or the token is empty.
  static absl::StatusOr<std::shared_ptr<BearerTokenSource>> Create(
      const BearerTokenOptions& options);

  // The token; from a file, read again when the file's modification time or size changed
  // (checked at most once a second). A file that cannot be read keeps the last token.
  std::string Token() const;

 private:
  explicit BearerTokenSource(BearerTokenOptions options) : options_(std::move(options)) {}
  // The file's token and stamp; an error when it cannot be read or is empty.
  absl::Status Read() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const BearerTokenOptions options_;
  mutable absl::Mutex mutex_;
  mutable std::string token_ ABSL_GUARDED_BY(mutex_);
  mutable std::string stamp_ ABSL_GUARDED_BY(mutex_);  // modification time and size
  mutable int64_t last_check_s_ ABSL_GUARDED_BY(mutex_) = 0;
};

// A client interceptor factory that adds `authorization: Bearer <source->Token()>` to every
// call of the channel it is given to (grpc::experimental::CreateCustomChannelWithInterceptors).
// Works over plain and TLS channels alike (gRPC's call credentials refuse plain ones).
std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface> BearerTokenInterceptor(
    std::shared_ptr<const BearerTokenSource> source);

}  // namespace sonic::transport
