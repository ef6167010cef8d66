// The gRPC endpoint of sonic-server: the inference service and grpc.health.v1 on one port, with
// bounded request sizes and optional TLS / mutual TLS from certificate files. Calls run on
// `threads` completion-queue threads of its own (async_rpc.h).
//
// Thread-safe. Borrows the ModelManager, which must outlive the server.
#pragma once

#include <map>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/frontend/async_rpc.h"
#include "server/frontend/health_service.h"
#include "server/frontend/inference_service.h"
#include "server/frontend/unix_socket_listener.h"

namespace sonic::server {

struct TlsOptions {
  bool enabled = false;
  std::string server_cert_file;  // PEM; required when enabled
  std::string server_key_file;   // PEM; required when enabled
  std::string root_cert_file;    // PEM CA; required for mutual TLS
  bool mutual = false;           // require and verify a client certificate
};

class GrpcServer {
 public:
  struct Options {
    std::string address = "0.0.0.0";
    int port = 8001;  // 0 picks a free port; port() tells which
    // SO_REUSEPORT: other servers that set it too may listen on the same port (the kernel
    // spreads connections among them); off, a port in use is an error (tritonserver's
    // --reuse-grpc-port, off by default; gRPC's own default is on).
    bool reuse_port = false;
    TlsOptions tls;
    InferenceService::ServerInfo info;
    // The registry of client shared-memory regions, borrowed (to share it with the HTTP
    // endpoint); null: the server has its own.
    SharedMemoryManager* shared_memory = nullptr;
    // The server's trace settings, borrowed (shared with the HTTP endpoint); null: the server
    // has its own, with tracing off until a TraceSetting RPC turns it on.
    TraceManager* traces = nullptr;
    // gRPC channel arguments for the server (GRPC_ARG_KEEPALIVE_TIME_MS, ...): tritonserver's
    // --grpc-keepalive-* and --grpc-http2-* flags.
    std::map<std::string, int> channel_arguments;
    // Compression of responses unless the client asks otherwise (tritonserver's
    // --grpc-infer-response-compression-level).
    grpc_compression_level response_compression = GRPC_COMPRESS_LEVEL_NONE;
    // The largest request message accepted, counted after decompression (gRPC checks its
    // receive limit on the decompressed message, so a small compressed bomb is refused too):
    // larger ones fail with RESOURCE_EXHAUSTED. Responses are not limited.
    int max_receive_message_bytes = 64 << 20;
    // Responses one ModelStreamInfer stream may owe its client (requests read and not yet
    // written back); at the bound the stream stops reading until the client takes some.
    size_t max_stream_responses = 64;
    // A Unix-domain socket to serve on too, whose peers' uids the shared-memory registry sees
    // (unix_socket_listener.h); empty: none. --grpc-unix-socket
    std::string unix_socket_path;
    // Who may call what (server/auth/access_policy.h), borrowed; null: everyone everything.
    // grpc.health.v1 stays open to all (probes).
    const auth::AccessPolicy* access = nullptr;
    // Completion-queue threads, each with its queue: they read requests, run the handlers (and a
    // quick model, scheduler.h) and write responses. One serves a small request with the fewest
    // thread switches; more spread the network work of large tensors over cores. --grpc-threads
    int threads = 1;
  };

  // Binds and starts serving. Errors: INVALID_ARGUMENT for unreadable certificate files,
  // UNAVAILABLE when the address cannot be bound (in use).
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Create(const Options& options,
                                                            ModelManager& manager);
  ~GrpcServer();

  int port() const { return port_; }

  // Stops accepting new RPCs, lets in-flight ones finish for up to `grace`, then cancels the
  // rest. Blocks until gRPC has released every call. Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  GrpcServer(ModelManager& manager, const Options& options)
      : own_shared_memory_(options.shared_memory ? nullptr
                                                 : std::make_unique<SharedMemoryManager>()),
        inference_(manager, options.info,
                   options.shared_memory ? *options.shared_memory : *own_shared_memory_,
                   options.traces, options.max_stream_responses),
        health_(manager, inference_),
        model_infer_(InferenceService::kModelInferMethod, inference_.ModelInferHandler()) {}

  UnixSocketPeers unix_peers_;
  const std::unique_ptr<SharedMemoryManager> own_shared_memory_;
  InferenceService inference_;
  HealthService health_;
  RpcMethods methods_;
  RawUnaryService model_infer_;
  std::unique_ptr<CompletionThreads> threads_;  // before server_: its queues outlive the server
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<UnixSocketListener> unix_listener_;  // after server_: stopped before it
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace sonic::server
