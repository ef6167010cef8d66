// gRPC channels of the client side (the client, the service's probes, `sonic perf`, the
// command-line tools): TLS credentials from PEM files and the channel arguments every one of
// them uses. Internal to the project's client-side libraries.
//
// Thread-safe (free functions; the shared-channel cache is locked).
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "sonic/client/tls_options.h"

namespace sonic::transport {

using client::TlsOptions;

// Insecure credentials when !tls.enabled, else SSL credentials with the files' contents.
// INVALID_ARGUMENT (not retryable) naming the file when one cannot be read, or when only one of
// key and certificate chain is given.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeCredentials(const TlsOptions& tls);

struct ChannelOptions {
  std::string address;  // host:port, or any target gRPC resolves (unix:PATH)
  TlsOptions tls;
  // The compression of every call on the channel unless a call sets its own.
  grpc_compression_algorithm compression = GRPC_COMPRESS_NONE;
};

// The arguments of every client-side channel: no message size limit in either direction (as
// Triton's clients: a batch of tensors easily passes gRPC's 4 MiB default), and the default
// compression of `options`.
grpc::ChannelArguments ChannelArgumentsOf(const ChannelOptions& options);

// A new channel (it connects lazily). Errors: MakeCredentials'.
absl::StatusOr<std::shared_ptr<grpc::Channel>> NewChannel(const ChannelOptions& options);

// A channel shared by every caller in this process with the same options, and kept for the life
// of the process. Sharing saves connections; keeping matters for correctness: a gRPC channel must
// not be destroyed on one of its own callback threads, which is where a client may fail over
// (and be destroyed by its callback). The TLS files are read on every call, so that a file that
// cannot be read is reported whether or not the channel exists. Errors: MakeCredentials'.
absl::StatusOr<std::shared_ptr<grpc::Channel>> SharedChannel(const ChannelOptions& options);

}  // namespace sonic::transport
