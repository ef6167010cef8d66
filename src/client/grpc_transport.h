// The gRPC side of a TritonClient: channel and credentials from the options, per-call settings
// (deadline, compression) and the translation of gRPC statuses. Thread-safe (stateless).
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sonic/client/triton_client.h"

namespace sonic::client::internal {

// TLS credentials from the PEM files of `tls` (insecure ones when !tls.enabled). kBadInput
// naming the file when one cannot be read, or when only one of key and certificate is given.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeCredentials(const TlsOptions& tls);

// A channel without message size limits (as Triton's clients) to `address`, shared by every
// client of this process with the same address and TLS options, and kept for the life of the
// process. Sharing saves connections; keeping matters for correctness: a gRPC channel must not
// be destroyed on one of its own callback threads, which is where a client in kAsync fails over
// (and may be destroyed by its callback). Thread-safe.
std::shared_ptr<grpc::Channel> SharedChannel(const std::string& address, const TlsOptions& tls,
                                             std::shared_ptr<grpc::ChannelCredentials> credentials);

// `timeout` in `unit`; absl::InfiniteDuration() for 0.
absl::Duration TimeoutOf(uint64_t timeout, TimeoutUnit unit);

// Sets the deadline (none for an infinite timeout) and the compression algorithm of a call.
void ConfigureCall(grpc::ClientContext& context, absl::Duration timeout, Compression compression);

// The absl status of a gRPC status (same code and message).
absl::Status FromGrpc(const grpc::Status& status);

}  // namespace sonic::client::internal
