// The HTTP/REST endpoint of sonic-server: HttpApi served by cpp-httplib: a pool of threads, each
// serving one connection at a time with blocking reads and writes, so an inference handler waits
// for its response on its connection's thread with no hand-over between threads. Its cost beside
// gRPC and beside libevent's evhttp and libmicrohttpd (cheaper as bare echo servers) is measured
// by bench/http_bench.cc. Request bodies compressed with gzip or deflate are
// decompressed; responses are compressed as the request's Accept-Encoding asks.
//
// A connection holds a pool thread while it is kept alive (up to kKeepAliveSeconds idle), so
// --http-thread-count bounds the connections served at once; more wait to be accepted.
//
// port() may be called from any thread; Stop must not run concurrently with another Stop or the
// destructor.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/frontend/http_api.h"
#include "server/http_listener/httplib_listener.h"

namespace sonic::server {

class HttpServer {
 public:
  struct Options {
    std::string address = "0.0.0.0";
    int port = 8000;        // 0 picks a free port; port() tells which
    int thread_count = 8;   // connections served at once (Triton's --http-thread-count)
    bool reuse_port = false;  // SO_REUSEPORT (tritonserver's --reuse-http-port; grpc_server.h)
    // The largest request body read, counted after decompression (sonic-server's
    // --max-request-bytes); a larger one is answered 413 without reading the rest.
    size_t max_request_bytes = size_t{64} << 20;
  };

  // Binds and starts serving before it returns. UNAVAILABLE when the address cannot be bound;
  // INVALID_ARGUMENT for a port outside 0..65535 or a thread count below 1. Borrows `api`, which
  // must outlive the server.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Create(const Options& options,
                                                            const HttpApi& api);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return listener_->port(); }

  // Stops accepting, lets requests in progress finish (an inference runs to its end) and joins
  // the threads; an idle kept-alive connection may hold this up to kKeepAliveSeconds.
  // Idempotent.
  void Stop();

  static constexpr int kKeepAliveSeconds = 3;

 private:
  explicit HttpServer(std::unique_ptr<HttplibListener> listener)
      : listener_(std::move(listener)) {}

  const std::unique_ptr<HttplibListener> listener_;
};

}  // namespace sonic::server
