#include "server_probe.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "grpc_call.h"
#include "grpc_channel.h"
#include "inference/grpc_service.grpc.pb.h"
#include "sonic/common/status.h"

namespace sonic::service::internal {
namespace {

// Channels are kept for the process's life (transport::SharedChannel): cheap, and reconnecting
// after a server restart is gRPC's job.
absl::StatusOr<std::shared_ptr<grpc::Channel>> Channel(const ServerConfig& server) {
  return transport::SharedChannel({.address = server.address, .tls = server.tls});
}

absl::Status Unavailable(const ServerConfig& server, const grpc::Status& status, const char* call) {
  return absl::UnavailableError(
      absl::StrCat(call, " on ", server.address, " failed: ", status.error_message()));
}

}  // namespace

absl::StatusOr<ProbeResult> ProbeServer(const ServerConfig& server, absl::Duration deadline) {
  SONIC_ASSIGN_OR_RETURN(auto channel, Channel(server));
  auto stub = inference::GRPCInferenceService::NewStub(channel);
  ProbeResult result;
  {
    grpc::ClientContext context;
    transport::SetTimeout(context, deadline);
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
  transport::SetTimeout(context, deadline);
  inference::RepositoryIndexRequest request;
  inference::RepositoryIndexResponse response;  // every model: those not ready say why
  grpc::Status status = stub->RepositoryIndex(&context, request, &response);
  if (!status.ok()) return Unavailable(server, status, "RepositoryIndex");
  for (const auto& model : response.models()) {
    if (model.state().empty() || model.state() == "READY") {
      result.models.push_back(model.name());
    } else {
      result.unready[model.name()] =
          model.reason().empty() ? model.state() : absl::StrCat(model.state(), ": ", model.reason());
    }
  }
  for (const std::string& name : result.models) result.unready.erase(name);  // one version ready
  std::sort(result.models.begin(), result.models.end());
  result.models.erase(std::unique(result.models.begin(), result.models.end()), result.models.end());
  grpc::ClientContext stats_context;
  transport::SetTimeout(stats_context, deadline);
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
  transport::SetTimeout(context, deadline);
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
  transport::SetTimeout(context, deadline);
  inference::RepositoryModelLoadRequest request;
  request.set_model_name(model);
  inference::RepositoryModelLoadResponse response;
  grpc::Status status = stub->RepositoryModelLoad(&context, request, &response);
  if (status.ok()) return absl::OkStatus();
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
      status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return Unavailable(server, status, "RepositoryModelLoad");
  }
  return transport::FromGrpc(status);
}

absl::StatusOr<inference::ModelConfig> FetchModelConfig(const ServerConfig& server,
                                                        const std::string& model,
                                                        absl::Duration deadline) {
  SONIC_ASSIGN_OR_RETURN(auto channel, Channel(server));
  auto stub = inference::GRPCInferenceService::NewStub(channel);
  grpc::ClientContext context;
  transport::SetTimeout(context, deadline);
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
  transport::SetTimeout(context, deadline);
  inference::ServerLiveRequest request;
  inference::ServerLiveResponse response;
  return stub->ServerLive(&context, request, &response).ok() && response.live();
}

}  // namespace sonic::service::internal
