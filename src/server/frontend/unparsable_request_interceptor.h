// gRPC's callback server answers a request whose bytes do not parse as the method's message with
// UNIMPLEMENTED and an empty message: the handler never runs, and the client cannot tell a
// corrupt request from a missing method. This interceptor turns that answer into
// INVALID_ARGUMENT saying which message could not be parsed (UnparsableRequestStatus). Other
// calls pass unchanged.
//
// One interceptor per call (gRPC creates it through the factory); not shared between threads.
// It costs each call several thousand instructions, so methods that take raw bytes and parse
// them themselves (answering UnparsableRequestStatus) go without.
#pragma once

#include <grpcpp/support/server_interceptor.h>
#include <grpcpp/support/status.h>

#include <set>
#include <string>
#include <string_view>

namespace sonic::server {

// INVALID_ARGUMENT: the request of `method` ("/package.Service/Method") did not parse.
grpc::Status UnparsableRequestStatus(std::string_view method);

class UnparsableRequestInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // No interceptor for `raw_methods` (full names), which parse their requests themselves.
  explicit UnparsableRequestInterceptorFactory(std::set<std::string, std::less<>> raw_methods)
      : raw_methods_(std::move(raw_methods)) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  const std::set<std::string, std::less<>> raw_methods_;
};

}  // namespace sonic::server
