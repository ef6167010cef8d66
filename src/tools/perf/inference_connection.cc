#include "inference_connection.h"

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/tsan_handoff.h"
#include "grpc_call.h"
#include "grpc_channel.h"

namespace sonic::tools {
namespace {

grpc_compression_algorithm ToGrpc(RequestCompression compression) {
  switch (compression) {
    case RequestCompression::kNone:
      return GRPC_COMPRESS_NONE;
    case RequestCompression::kDeflate:
      return GRPC_COMPRESS_DEFLATE;
    case RequestCompression::kGzip:
      return GRPC_COMPRESS_GZIP;
  }
  return GRPC_COMPRESS_NONE;
}

// The state of one ModelInfer call, kept alive by its completion callback.
struct InferCall {
  grpc::ClientContext context;
  grpc::ByteBuffer request;
  grpc::ByteBuffer response;
  RequestRecord record;
  InferenceConnection::InferDone done;
};

// What a call's thread wrote before handing the call to gRPC, its callback reads
// (common/tsan_handoff.h).
char kCallsHandedOff;

// Reads the response and calls `done` after the call (its ClientContext) is destroyed: whoever
// waits for `done` may then tear the connection down, and even let the process exit, without a
// gRPC object outliving it on a callback thread.
void Complete(std::shared_ptr<InferCall> call, const grpc::Status& rpc_status) {
  absl::Status status = transport::FromGrpc(rpc_status, "ModelInfer");
  const absl::Time recv_start = absl::Now();
  if (status.ok()) {
    inference::ModelInferResponse response;
    grpc::Status parsed = grpc::SerializationTraits<inference::ModelInferResponse>::Deserialize(
        &call->response, &response);
    if (!parsed.ok()) status = transport::FromGrpc(parsed, "ModelInfer response");
  }
  RequestRecord record = call->record;
  record.end = absl::Now();
  record.recv = record.end - recv_start;
  record.ok = status.ok();
  InferenceConnection::InferDone done = std::move(call->done);
  call.reset();
  done(record, status);
}

}  // namespace

absl::StatusOr<std::unique_ptr<InferenceConnection>> InferenceConnection::Create(
    const ConnectionOptions& options) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      transport::NewChannel({.address = options.address,
                             .tls = {.enabled = options.use_ssl,
                                     .root_certificates_file = options.root_certificates_file,
                                     .private_key_file = options.private_key_file,
                                     .certificate_chain_file = options.certificate_chain_file,
                                     .token_file = options.token_file,
                                     .token_env = options.token_env},
                             .compression = ToGrpc(options.compression)});
  if (!channel.ok()) return channel.status();
  return std::unique_ptr<InferenceConnection>(
      new InferenceConnection(options, *std::move(channel)));
}

InferenceConnection::InferenceConnection(ConnectionOptions options,
                                         std::shared_ptr<grpc::Channel> channel)
    : options_(std::move(options)),
      channel_(std::move(channel)),
      stub_(inference::GRPCInferenceService::NewStub(channel_)),
      generic_(std::make_unique<grpc::GenericStub>(channel_)) {}

std::unique_ptr<grpc::ClientContext> InferenceConnection::NewContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  Prepare(*context);
  return context;
}

void InferenceConnection::Prepare(grpc::ClientContext& context) const {
  transport::SetTimeout(context, options_.rpc_deadline);
  for (const auto& [key, value] : options_.metadata) context.AddMetadata(key, value);
}

void InferenceConnection::InferAsync(const inference::ModelInferRequest& request, InferDone done) {
  auto call = std::make_shared<InferCall>();
  call->done = std::move(done);
  Prepare(call->context);
  call->record.start = absl::Now();
  bool own_buffer = false;
  grpc::Status serialized = grpc::SerializationTraits<inference::ModelInferRequest>::Serialize(
      request, &call->request, &own_buffer);
  call->record.send = absl::Now() - call->record.start;
  if (!serialized.ok()) {
    Complete(std::move(call), serialized);
    return;
  }
  InferCall* raw = call.get();
  // Made before the hand-off: gRPC's thread reads the capture.
  std::function<void(grpc::Status)> on_done = [call = std::move(call)](grpc::Status s) mutable {
    TakeOver(&kCallsHandedOff);  // before the capture is read
    Complete(std::move(call), s);
  };
  HandOff(&kCallsHandedOff);
  generic_->UnaryCall(&raw->context, transport::kModelInferMethod, grpc::StubOptions(),
                      &raw->request, &raw->response, std::move(on_done));
}

RequestRecord InferenceConnection::Infer(const inference::ModelInferRequest& request,
                                         absl::Status* status) {
  absl::Notification finished;
  RequestRecord result;
  InferAsync(request, [&](const RequestRecord& record, const absl::Status& call_status) {
    result = record;
    if (status != nullptr) *status = call_status;
    finished.Notify();
  });
  finished.WaitForNotification();
  return result;
}

absl::StatusOr<inference::ModelStatistics> InferenceConnection::FetchStatistics(
    const std::string& model, const std::string& version) {
  inference::ModelStatisticsRequest request;
  request.set_name(model);
  request.set_version(version);
  inference::ModelStatisticsResponse response;
  std::unique_ptr<grpc::ClientContext> context = NewContext();
  grpc::Status status = stub_->ModelStatistics(context.get(), request, &response);
  if (!status.ok())
    return transport::FromGrpc(status, absl::StrCat("ModelStatistics(", model, ")"));
  if (response.model_stats_size() == 0) {
    return absl::NotFoundError(absl::StrCat("no statistics for model ", model));
  }
  return response.model_stats(response.model_stats_size() - 1);
}

}  // namespace sonic::tools
