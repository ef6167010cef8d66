#include "grpc_transport.h"

#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "sonic/client/client_error.h"

namespace sonic::client::internal {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, std::string_view what) {
  std::ifstream file(path, std::ios::binary);
  if (!file.is_open()) {
    return MakeClientError(absl::StatusCode::kInvalidArgument, ErrorCategory::kBadInput,
                           absl::StrCat("TLS: cannot read the ", std::string(what), " file '",
                                        path, "'"));
  }
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeCredentials(const TlsOptions& tls) {
  if (!tls.enabled) return grpc::InsecureChannelCredentials();
  if (tls.private_key_file.empty() != tls.certificate_chain_file.empty()) {
    return MakeClientError(absl::StatusCode::kInvalidArgument, ErrorCategory::kBadInput,
                           "TLS: a client private key and certificate chain go together; "
                           "give both or neither");
  }
  grpc::SslCredentialsOptions options;
  if (!tls.root_certificates_file.empty()) {
    SONIC_ASSIGN_OR_RETURN(options.pem_root_certs,
                           ReadPem(tls.root_certificates_file, "root certificates"));
  }
  if (!tls.private_key_file.empty()) {
    SONIC_ASSIGN_OR_RETURN(options.pem_private_key, ReadPem(tls.private_key_file, "private key"));
    SONIC_ASSIGN_OR_RETURN(options.pem_cert_chain,
                           ReadPem(tls.certificate_chain_file, "certificate chain"));
  }
  return grpc::SslCredentials(options);
}

std::shared_ptr<grpc::Channel> SharedChannel(
    const std::string& address, const TlsOptions& tls,
    std::shared_ptr<grpc::ChannelCredentials> credentials) {
  struct Cache {
    absl::Mutex mu;
    std::map<std::string, std::shared_ptr<grpc::Channel>> channels ABSL_GUARDED_BY(mu);
  };
  static Cache* const cache = new Cache;  // never destroyed: see the header
  const std::string key =
      absl::StrCat(address, "|", tls.enabled, "|", tls.root_certificates_file, "|",
                   tls.private_key_file, "|", tls.certificate_chain_file);
  absl::MutexLock lock(&cache->mu);
  std::shared_ptr<grpc::Channel>& channel = cache->channels[key];
  if (channel == nullptr) {
    grpc::ChannelArguments arguments;
    arguments.SetMaxReceiveMessageSize(std::numeric_limits<int>::max());
    arguments.SetMaxSendMessageSize(std::numeric_limits<int>::max());
    channel = grpc::CreateCustomChannel(address, std::move(credentials), arguments);
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
  if (timeout != absl::InfiniteDuration()) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  }
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

absl::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

}  // namespace sonic::client::internal
