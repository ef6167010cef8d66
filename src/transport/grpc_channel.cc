#include "grpc_channel.h"

#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "bearer_token.h"
#include "sonic/common/status.h"

namespace sonic::transport {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, absl::string_view what) {
  std::ifstream file(path, std::ios::binary);
  if (!file.is_open()) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS: cannot read the ", what, " file '", path, "'"));
  }
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeCredentials(const TlsOptions& tls) {
  if (!tls.enabled) return grpc::InsecureChannelCredentials();
  if (tls.private_key_file.empty() != tls.certificate_chain_file.empty()) {
    return absl::InvalidArgumentError(
        "TLS: a client private key and certificate chain go together; give both or neither");
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

grpc::ChannelArguments ChannelArgumentsOf(const ChannelOptions& options) {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(std::numeric_limits<int>::max());
  arguments.SetMaxSendMessageSize(std::numeric_limits<int>::max());
  if (options.compression != GRPC_COMPRESS_NONE) {
    arguments.SetCompressionAlgorithm(options.compression);
  }
  return arguments;
}

namespace {

// A channel with `credentials`, and the bearer token of `options.tls` on every call when it has
// one (bearer_token.h). Errors: BearerTokenSource::Create's.
absl::StatusOr<std::shared_ptr<grpc::Channel>> CreateChannel(
    const ChannelOptions& options, std::shared_ptr<grpc::ChannelCredentials> credentials) {
  const BearerTokenOptions token{options.tls.token_file, options.tls.token_env};
  if (token.empty()) {
    return grpc::CreateCustomChannel(options.address, std::move(credentials),
                                     ChannelArgumentsOf(options));
  }
  SONIC_ASSIGN_OR_RETURN(std::shared_ptr<BearerTokenSource> source,
                         BearerTokenSource::Create(token));
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(BearerTokenInterceptor(std::move(source)));
  return grpc::experimental::CreateCustomChannelWithInterceptors(
      options.address, std::move(credentials), ChannelArgumentsOf(options),
      std::move(interceptors));
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::Channel>> NewChannel(const ChannelOptions& options) {
  SONIC_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> credentials,
                         MakeCredentials(options.tls));
  return CreateChannel(options, std::move(credentials));
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> SharedChannel(const ChannelOptions& options) {
  struct Cache {
    absl::Mutex mu;
    std::map<std::string, std::shared_ptr<grpc::Channel>> channels ABSL_GUARDED_BY(mu);
  };
  static Cache* const cache = new Cache;  // never destroyed: see the header
  SONIC_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> credentials,
                         MakeCredentials(options.tls));
  const TlsOptions& tls = options.tls;
  // Like the TLS files, the token is checked on every call.
  if (!tls.token_file.empty() || !tls.token_env.empty()) {
    SONIC_RETURN_IF_ERROR(BearerTokenSource::Create({tls.token_file, tls.token_env}).status());
  }
  const std::string key =
      absl::StrCat(options.address, "|", tls.enabled, "|", tls.root_certificates_file, "|",
                   tls.private_key_file, "|", tls.certificate_chain_file, "|", options.compression,
                   "|", tls.token_file, "|", tls.token_env);
  absl::MutexLock lock(&cache->mu);
  std::shared_ptr<grpc::Channel>& channel = cache->channels[key];
  if (channel == nullptr) {
    SONIC_ASSIGN_OR_RETURN(channel, CreateChannel(options, std::move(credentials)));
  }
  return channel;
}

}  // namespace sonic::transport
