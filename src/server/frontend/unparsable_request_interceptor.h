// gRPC's callback server answers a request whose bytes do not parse as the method's message with
// UNIMPLEMENTED and an empty message: the handler never runs, and the client cannot tell a
// corrupt request from a missing method. This interceptor turns that answer into
// INVALID_ARGUMENT saying which message could not be parsed. Other calls pass unchanged.
//
// One interceptor per call (gRPC creates it through the factory); not shared between threads.
#pragma once

#include <grpcpp/support/server_interceptor.h>

namespace sonic::server {

class UnparsableRequestInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;
};

}  // namespace sonic::server
