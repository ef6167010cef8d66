#include "server/frontend/grpc_server.h"

#include <algorithm>
#include <climits>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "sonic/common/status.h"

namespace sonic::server {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, std::string_view what) {
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat("TLS needs ", std::string(what)));
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read ", std::string(what), " '", path, "'"));
  }
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(const TlsOptions& tls) {
  if (!tls.enabled) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions ssl;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  SONIC_ASSIGN_OR_RETURN(pair.private_key, ReadPem(tls.server_key_file, "--grpc-server-key"));
  SONIC_ASSIGN_OR_RETURN(pair.cert_chain, ReadPem(tls.server_cert_file, "--grpc-server-cert"));
  ssl.pem_key_cert_pairs.push_back(std::move(pair));
  if (tls.mutual) {
    SONIC_ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadPem(tls.root_cert_file, "--grpc-root-cert"));
    ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  } else if (!tls.root_cert_file.empty()) {
    SONIC_ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadPem(tls.root_cert_file, "--grpc-root-cert"));
  }
  return grpc::SslServerCredentials(ssl);
}

}  // namespace

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Create(const Options& options,
                                                               ModelManager& manager) {
  SONIC_ASSIGN_OR_RETURN(auto credentials, Credentials(options.tls));
  std::unique_ptr<GrpcServer> server(new GrpcServer(manager, options));
  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::StrCat(options.address, ":", options.port), credentials,
                           &server->port_);
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, options.reuse_port ? 1 : 0);
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  builder.SetMaxSendMessageSize(INT_MAX);
  for (const auto& [name, value] : options.channel_arguments) builder.AddChannelArgument(name, value);
  builder.SetDefaultCompressionLevel(options.response_compression);
  server->inference_.SetUnixSocketPeers(&server->unix_peers_);
  server->inference_.SetAccessPolicy(options.access);
  server->inference_.Register(server->methods_);
  server->health_.Register(server->methods_);
  server->threads_ = std::make_unique<CompletionThreads>(std::max(options.threads, 1),
                                                         server->model_infer_, server->methods_);
  server->threads_->Register(builder);
  server->server_ = builder.BuildAndStart();
  if (!server->server_ || server->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.address, ":",
                                               options.port, " (address in use?)"));
  }
  server->threads_->Start();
  if (!options.unix_socket_path.empty()) {
    SONIC_ASSIGN_OR_RETURN(server->unix_listener_,
                           UnixSocketListener::Create(options.unix_socket_path,
                                                      server->server_.get(), &server->unix_peers_));
  }
  return server;
}

GrpcServer::~GrpcServer() { Shutdown(absl::ZeroDuration()); }

void GrpcServer::Shutdown(absl::Duration grace) {
  if (shut_down_ || !server_) return;
  shut_down_ = true;
  inference_.SetShuttingDown();
  unix_listener_.reset();
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  server_->Wait();
  threads_->Stop();
  inference_.UnregisterAllSharedMemory();
}

}  // namespace sonic::server
