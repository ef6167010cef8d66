#include "server_probe.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "inference/grpc_service.grpc.pb.h"
#include "sonic/common/status.h"

namespace sonic::service::internal {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& file) {
  if (file.empty()) return std::string();
  std::ifstream in(file);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read TLS file ", file));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> Credentials(
    const client::TlsOptions& tls) {
  if (!tls.enabled) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  SONIC_ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadPem(tls.root_certificates_file));
  SONIC_ASSIGN_OR_RETURN(ssl.pem_private_key, ReadPem(tls.private_key_file));
  SONIC_ASSIGN_OR_RETURN(ssl.pem_cert_chain, ReadPem(tls.certificate_chain_file));
  return grpc::SslCredentials(ssl);
}

// Channels are kept for the process's life: cheap, and reconnecting after a server restart is
// gRPC's job.
absl::StatusOr<std::shared_ptr<grpc::Channel>> Channel(const ServerConfig& server) {
  static std::mutex mu;
  static auto* channels = new std::map<std::string, std::shared_ptr<grpc::Channel>>();
  const std::string key =
      absl::StrCat(server.address, "|", server.tls.enabled, "|", server.tls.root_certificates_file,
                   "|", server.tls.private_key_file, "|", server.tls.certificate_chain_file);
  std::lock_guard<std::mutex> lock(mu);
  auto it = channels->find(key);
  if (it != channels->end()) return it->second;
  SONIC_ASSIGN_OR_RETURN(auto credentials, Credentials(server.tls));
  auto channel = grpc::CreateChannel(server.address, credentials);
  channels->emplace(key, channel);
  return channel;
}

void SetDeadline(grpc::ClientContext& context, absl::Duration deadline) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
}

absl::Status Unavailable(const ServerConfig& server, const grpc::Status& status,
                         const char* call) {
  return absl::UnavailableError(absl::StrCat(call, " on ", server.address, " failed: ",
                                             status.error_message()));
}

}  // namespace

absl::StatusOr<ProbeResult> ProbeServer(const ServerConfig& server, absl::Duration deadline) {
  SONIC_ASSIGN_OR_RETURN(auto channel, Channel(server));
  auto stub = inference::GRPCInferenceService::NewStub(channel);
  ProbeResult result;
  {
    grpc::ClientContext context;
    SetDeadline(context, deadline);
    inference::ServerLiveRequest request;
    inference::ServerLiveResponse response;
    const absl::Time start = absl::Now();
    grpc::Status status = stub->ServerLive(&context, request, &response);
    if (!status.ok()) return Unavailable(server, status, "ServerLive");
    result.latency = absl::Now() - start;
    result.ready = response.live();
  }
  if (!result.ready) return result;
  grpc::ClientContext context;
  SetDeadline(context, deadline);
  inference::RepositoryIndexRequest request;
  request.set_ready(true);
  inference::RepositoryIndexResponse response;
  grpc::Status status = stub->RepositoryIndex(&context, request, &response);
  if (!status.ok()) return Unavailable(server, status, "RepositoryIndex");
  for (const auto& model : response.models()) {
    // A stock Triton may list models that are not READY even with ready=true in old versions.
    if (model.state().empty() || model.state() == "READY") result.models.push_back(model.name());
  }
  std::sort(result.models.begin(), result.models.end());
  result.models.erase(std::unique(result.models.begin(), result.models.end()),
                      result.models.end());
  grpc::ClientContext stats_context;
  SetDeadline(stats_context, deadline);
  inference::ModelStatisticsRequest stats_request;  // every model
  inference::ModelStatisticsResponse stats;
  if (stub->ModelStatistics(&stats_context, stats_request, &stats).ok()) {
    for (const inference::ModelStatistics& model : stats.model_stats()) {
      QueueTotals& totals = result.queue[model.name()];
      totals.ns += model.inference_stats().queue().ns();
      totals.count += model.inference_stats().queue().count();
    }
  }
  return result;
}

absl::StatusOr<std::vector<ModelIndexEntry>> ModelIndex(const ServerConfig& server,
                                                        absl::Duration deadline) {
  SONIC_ASSIGN_OR_RETURN(auto channel, Channel(server));
  auto stub = inference::GRPCInferenceService::NewStub(channel);
  grpc::ClientContext context;
  SetDeadline(context, deadline);
  inference::RepositoryIndexRequest request;
  inference::RepositoryIndexResponse response;
  grpc::Status status = stub->RepositoryIndex(&context, request, &response);
  if (!status.ok()) return Unavailable(server, status, "RepositoryIndex");
  std::vector<ModelIndexEntry> entries;
  for (const auto& model : response.models()) {
    entries.push_back({model.name(), model.state(), model.reason()});
  }
  return entries;
}

absl::Status LoadModel(const ServerConfig& server, const std::string& model,
                       absl::Duration deadline) {
  SONIC_ASSIGN_OR_RETURN(auto channel, Channel(server));
  auto stub = inference::GRPCInferenceService::NewStub(channel);
  grpc::ClientContext context;
  SetDeadline(context, deadline);
  inference::RepositoryModelLoadRequest request;
  request.set_model_name(model);
  inference::RepositoryModelLoadResponse response;
  grpc::Status status = stub->RepositoryModelLoad(&context, request, &response);
  if (status.ok()) return absl::OkStatus();
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
      status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return Unavailable(server, status, "RepositoryModelLoad");
  }
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

absl::StatusOr<inference::ModelConfig> FetchModelConfig(const ServerConfig& server,
                                                        const std::string& model,
                                                        absl::Duration deadline) {
  SONIC_ASSIGN_OR_RETURN(auto channel, Channel(server));
  auto stub = inference::GRPCInferenceService::NewStub(channel);
  grpc::ClientContext context;
  SetDeadline(context, deadline);
  inference::ModelConfigRequest request;
  request.set_name(model);
  inference::ModelConfigResponse response;
  grpc::Status status = stub->ModelConfig(&context, request, &response);
  if (!status.ok()) return Unavailable(server, status, "ModelConfig");
  return response.config();
}

bool ServerIsReady(const std::string& address, absl::Duration deadline) {
  ServerConfig server;
  server.address = address;
  auto channel = Channel(server);
  if (!channel.ok()) return false;
  auto stub = inference::GRPCInferenceService::NewStub(*channel);
  grpc::ClientContext context;
  SetDeadline(context, deadline);
  inference::ServerLiveRequest request;
  inference::ServerLiveResponse response;
  return stub->ServerLive(&context, request, &response).ok() && response.live();
}

}  // namespace sonic::service::internal
