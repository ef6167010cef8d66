// One gRPC connection of a load generator to a Triton-compatible server (sonic-server or stock
// Triton): TLS and compression as perf_analyzer's flags ask, the control RPCs the tools need
// (metadata, config, statistics, shared-memory registration), and timed ModelInfer calls.
//
// ModelInfer goes through gRPC's generic (byte buffer) API so that the client's own work is
// measured apart from the wire: `send` is the serialization of the request, `recv` the parsing
// of the response; `start`..`end` covers both and the wait between.
//
// Thread-safe: any number of calls may be in flight from any threads. The connection must
// outlive every call it started (InferAsync callbacks included).
#pragma once

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "inference/grpc_service.grpc.pb.h"

namespace sonic::tools {

enum class RequestCompression { kNone, kDeflate, kGzip };

struct ConnectionOptions {
  std::string address;  // host:port
  RequestCompression compression = RequestCompression::kNone;
  // TLS (perf_analyzer's --ssl-grpc-* flags). PEM files, read by Create(); empty root
  // certificates = the system's trust store; key and chain together = mutual TLS.
  bool use_ssl = false;
  std::string root_certificates_file;
  std::string private_key_file;
  std::string certificate_chain_file;
  // A bearer token sent with every RPC: from this file, read again when it changes, else from
  // this environment variable; both empty: none.
  std::string token_file;
  std::string token_env;
  absl::Duration rpc_deadline = absl::Seconds(60);  // of every RPC, ModelInfer included
  // Sent as gRPC metadata with every RPC (perf_analyzer's -H): keys lowercase (ParseHeader).
  std::vector<std::pair<std::string, std::string>> metadata;
};

// What one ModelInfer call took.
struct RequestRecord {
  absl::Time start;     // before serializing the request
  absl::Time end;       // after parsing the response (or seeing the error)
  absl::Duration send;  // serializing the request
  absl::Duration recv;  // parsing the response
  bool ok = false;
};

class InferenceConnection {
 public:
  using InferDone = std::function<void(const RequestRecord& record, const absl::Status& status)>;

  // Makes the channel (it connects lazily; transport::NewChannel). INVALID_ARGUMENT when a TLS
  // file cannot be read, or when only one of key and certificate chain is given.
  static absl::StatusOr<std::unique_ptr<InferenceConnection>> Create(
      const ConnectionOptions& options);

  // For the control RPCs (ModelMetadata, ModelConfig, ModelStatistics, shared memory).
  inference::GRPCInferenceService::Stub& stub() { return *stub_; }
  const ConnectionOptions& options() const { return options_; }

  // Starts `request`; `done` runs once, on a gRPC thread (or on this thread when the request
  // cannot be serialized), with the timing and the call's status (the RPC's code; INTERNAL for
  // a response that does not parse). `done` must not block for long.
  void InferAsync(const inference::ModelInferRequest& request, InferDone done);

  // Sends `request` and blocks until its answer; the status is in the record's `ok` and
  // `*status` (when not null).
  RequestRecord Infer(const inference::ModelInferRequest& request, absl::Status* status = nullptr);

  // The model's current statistics (its last version listed). Errors: the RPC's code;
  // NOT_FOUND when the server lists none for it.
  absl::StatusOr<inference::ModelStatistics> FetchStatistics(const std::string& model,
                                                             const std::string& version);

  // A client context with this connection's deadline and metadata.
  std::unique_ptr<grpc::ClientContext> NewContext() const;
  // Sets this connection's deadline and metadata on `context`.
  void Prepare(grpc::ClientContext& context) const;

  grpc::GenericStub& generic_stub() { return *generic_; }

 private:
  InferenceConnection(ConnectionOptions options, std::shared_ptr<grpc::Channel> channel);

  const ConnectionOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
  std::unique_ptr<grpc::GenericStub> generic_;
};

}  // namespace sonic::tools
