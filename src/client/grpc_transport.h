// The gRPC side of a TritonClient: its channel from the options, per-call settings (deadline,
// compression). Channels, credentials and status conversion are the transport library's
// (src/transport); this adds the client's options and error categories. Thread-safe (stateless).
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sonic/client/triton_client.h"

namespace sonic::client::internal {

// The process-wide channel to `address` with `tls` (transport::SharedChannel): shared by every
// client with the same address and TLS options, kept for the life of the process. kBadInput
// naming the file when a TLS file cannot be read, or when only one of key and certificate chain
// is given.
absl::StatusOr<std::shared_ptr<grpc::Channel>> ChannelTo(const std::string& address,
                                                         const TlsOptions& tls);

// `timeout` in `unit`; absl::InfiniteDuration() for 0.
absl::Duration TimeoutOf(uint64_t timeout, TimeoutUnit unit);

// Sets the deadline (none for an infinite timeout) and the compression algorithm of a call.
void ConfigureCall(grpc::ClientContext& context, absl::Duration timeout, Compression compression);

}  // namespace sonic::client::internal
