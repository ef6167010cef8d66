#include "grpc_transport.h"

#include "grpc_call.h"
#include "grpc_channel.h"
#include "sonic/client/client_error.h"

namespace sonic::client::internal {

absl::StatusOr<std::shared_ptr<grpc::Channel>> ChannelTo(const std::string& address,
                                                         const TlsOptions& tls) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      transport::SharedChannel({.address = address, .tls = tls});
  if (!channel.ok()) {
    return MakeClientError(channel.status().code(), ErrorCategory::kBadInput,
                           std::string(channel.status().message()));
  }
  return channel;
}

absl::Duration TimeoutOf(uint64_t timeout, TimeoutUnit unit) {
  if (timeout == 0) return absl::InfiniteDuration();
  const int64_t count = static_cast<int64_t>(timeout);
  switch (unit) {
    case TimeoutUnit::kSeconds:
      return absl::Seconds(count);
    case TimeoutUnit::kMilliseconds:
      return absl::Milliseconds(count);
    case TimeoutUnit::kMicroseconds:
      return absl::Microseconds(count);
  }
  return absl::InfiniteDuration();
}

void ConfigureCall(grpc::ClientContext& context, absl::Duration timeout, Compression compression) {
  transport::SetTimeout(context, timeout);
  switch (compression) {
    case Compression::kNone:
      break;
    case Compression::kDeflate:
      context.set_compression_algorithm(GRPC_COMPRESS_DEFLATE);
      break;
    case Compression::kGzip:
      context.set_compression_algorithm(GRPC_COMPRESS_GZIP);
      break;
  }
}

}  // namespace sonic::client::internal
